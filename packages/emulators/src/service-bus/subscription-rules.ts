import type { AmqpMessage } from "./amqp-message";
import { compileSqlFilter, type SqlFilter, SqlFilterError } from "./sql-filter";

/**
 * Subscription rules: a topic copies a message to a subscription iff any of the subscription's
 * rules matches it (no rules: it gets nothing, as on the service). A new subscription has the
 * `$Default` rule (TrueFilter, `1=1`). Rule actions (`SET …`) are not implemented.
 */
export const DEFAULT_RULE_NAME = "$Default";

export type FilterValue = string | number | boolean;

/** A CorrelationFilter: every field it sets must equal the message's (properties too). */
export interface CorrelationFilterSpec {
  correlationId?: string;
  messageId?: string;
  to?: string;
  replyTo?: string;
  subject?: string;
  sessionId?: string;
  replyToSessionId?: string;
  contentType?: string;
  applicationProperties?: Record<string, FilterValue>;
}

/** A rule as configured (broker options, LOCAL_SERVICE_BUS_ENTITIES): one filter kind. */
export interface RuleSpec {
  name: string;
  sqlFilter?: string;
  /** `@name` values the SQL filter may use. */
  sqlParameters?: Record<string, FilterValue>;
  correlationFilter?: CorrelationFilterSpec;
}

export type RuleFilter =
  | {
      kind: "sql";
      /** How the service reports it: `TrueFilter`/`FalseFilter` are SQL filters `1=1`/`1=0`. */
      type: "SqlFilter" | "TrueFilter" | "FalseFilter";
      expression: string;
      parameters?: Record<string, FilterValue>;
      compiled: SqlFilter;
    }
  | { kind: "correlation"; fields: CorrelationFilterSpec };

export interface SubscriptionRule {
  name: string;
  filter: RuleFilter;
  createdAt: Date;
}

/** A rule the service would refuse (400). */
export class RuleError extends Error {}

const RULE_NAME = /^[^/\\?#]{1,50}$/;

/** Checks a rule and compiles its filter; throws RuleError with the service's kind of message. */
export function createRule(spec: RuleSpec, now: Date): SubscriptionRule {
  if (!RULE_NAME.test(spec.name)) {
    throw new RuleError(
      `The rule name '${spec.name}' is invalid: 1 to 50 characters, none of '/', '\\', '?', '#'.`,
    );
  }
  if ((spec.sqlFilter === undefined) === (spec.correlationFilter === undefined)) {
    throw new RuleError(
      `Rule '${spec.name}' needs exactly one filter: a SQL filter or a correlation filter.`,
    );
  }
  if (spec.correlationFilter !== undefined) {
    const fields = spec.correlationFilter;
    const { applicationProperties, ...system } = fields;
    const setSystem = Object.values(system).filter((value) => value !== undefined);
    if (setSystem.length === 0 && Object.keys(applicationProperties ?? {}).length === 0) {
      throw new RuleError(`Rule '${spec.name}': a correlation filter needs at least one property to match.`);
    }
    return { name: spec.name, filter: { kind: "correlation", fields }, createdAt: now };
  }
  const expression = spec.sqlFilter as string;
  let compiled: SqlFilter;
  try {
    compiled = compileSqlFilter(expression, spec.sqlParameters);
  } catch (error) {
    if (error instanceof SqlFilterError) throw new RuleError(error.message);
    throw error;
  }
  const normalized = expression.replace(/\s+/g, "");
  const type = normalized === "1=1" ? "TrueFilter" : normalized === "1=0" ? "FalseFilter" : "SqlFilter";
  return {
    name: spec.name,
    filter: {
      kind: "sql",
      type,
      expression,
      ...(spec.sqlParameters ? { parameters: spec.sqlParameters } : {}),
      compiled,
    },
    createdAt: now,
  };
}

export function defaultRule(now: Date): SubscriptionRule {
  return createRule({ name: DEFAULT_RULE_NAME, sqlFilter: "1=1" }, now);
}

const CORRELATION_FIELDS: Record<
  Exclude<keyof CorrelationFilterSpec, "applicationProperties">,
  (message: AmqpMessage) => unknown
> = {
  correlationId: (m) => m.correlation_id,
  messageId: (m) => m.message_id,
  to: (m) => m.to,
  replyTo: (m) => m.reply_to,
  subject: (m) => m.subject,
  sessionId: (m) => m.group_id,
  replyToSessionId: (m) => m.reply_to_group_id,
  contentType: (m) => m.content_type,
};

/** Values match when equal and of one type (the string '1' is not the number 1). */
function same(expected: FilterValue, actual: unknown): boolean {
  return actual === expected;
}

export function ruleMatches(rule: SubscriptionRule, message: AmqpMessage): boolean {
  if (rule.filter.kind === "sql") return rule.filter.compiled.matches(message);
  const { applicationProperties, ...system } = rule.filter.fields;
  for (const [field, expected] of Object.entries(system)) {
    if (expected === undefined) continue;
    const read = CORRELATION_FIELDS[field as keyof typeof CORRELATION_FIELDS];
    if (!same(expected, read(message))) return false;
  }
  const properties = message.application_properties ?? {};
  for (const [key, expected] of Object.entries(applicationProperties ?? {})) {
    if (!Object.hasOwn(properties, key) || !same(expected, properties[key])) return false;
  }
  return true;
}
