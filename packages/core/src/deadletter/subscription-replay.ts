import type { SubscriptionRules } from "./bus";

/*
 * Replaying a topic subscription's dead letter to that subscription only.
 *
 * Service Bus cannot send to a subscription: a message goes to the topic, and every subscription
 * whose rules match gets a copy. So a replay carries `x-victoria-replay-to = '<subscription>'`,
 * and the topic's rules are arranged so that only the named subscription matches it:
 *
 *   - each subscription has a rule `victoria-replay`: `"x-victoria-replay-to" = '<its name>'`;
 *   - every other rule is guarded: `(<original>) AND "x-victoria-replay-to" IS NULL` (the default
 *     `1=1` becomes `"x-victoria-replay-to" IS NULL`), so ordinary traffic flows as before and no
 *     replay matches it.
 *
 * `replayRouting` says from the rules (read through the management API before every replay)
 * whether a replay to one subscription is safe; `rulePlan` lists what `deadletter rules install`
 * changes. Correlation filters cannot say "property absent": they are reported, never changed.
 */
export const REPLAY_TO_PROPERTY = "x-victoria-replay-to";
export const REPLAY_RULE_NAME = "victoria-replay";

const QUOTED_PROPERTY = `"${REPLAY_TO_PROPERTY}"`;
const GUARD = `${QUOTED_PROPERTY} IS NULL`;

/** `'it''s'`: a SQL string literal. */
function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The filter of a subscription's own replay rule. */
export function replayRuleExpression(subscription: string): string {
  return `${QUOTED_PROPERTY} = ${sqlString(subscription)}`;
}

/** An expression that matches what `expression` matched, except replays. */
export function guardedExpression(expression: string): string {
  return isTrueFilter(expression) ? GUARD : `(${expression.trim()}) AND ${GUARD}`;
}

/** Whitespace-insensitive, and case-insensitive outside string literals (SQL keywords). */
function canonical(expression: string): string {
  return expression
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\s+/g, " ").toUpperCase()))
    .join("")
    .replace(/\s*([()=])\s*/g, "$1")
    .trim();
}

function isTrueFilter(expression: string): boolean {
  return ["1=1", "TRUE"].includes(canonical(expression));
}

const CANONICAL_GUARD = canonical(GUARD);
const CANONICAL_GUARD_SUFFIX = canonical(`) AND ${GUARD}`);

/** A rule no replay can match: guarded, the replay rule of another subscription, or FALSE. */
function keepsReplaysOut(rule: SubscriptionRules["rules"][number], owner: string): boolean {
  if (rule.filter.kind !== "sql") return false;
  const expression = canonical(rule.filter.expression);
  if (expression === CANONICAL_GUARD || expression.endsWith(CANONICAL_GUARD_SUFFIX)) return true;
  if (["1=0", "FALSE"].includes(expression)) return true;
  return (
    rule.name.toLowerCase() === REPLAY_RULE_NAME && expression === canonical(replayRuleExpression(owner))
  );
}

function hasReplayRule(subscription: SubscriptionRules): boolean {
  return subscription.rules.some(
    (rule) =>
      rule.name.toLowerCase() === REPLAY_RULE_NAME &&
      rule.filter.kind === "sql" &&
      canonical(rule.filter.expression) === canonical(replayRuleExpression(subscription.name)),
  );
}

export type ReplayRouting =
  | { safe: true; others: string[] }
  | {
      safe: false;
      /** One line each: what is missing, naming subscription and rule. */
      missing: string[];
      /** The topic's other subscriptions: who a topic-wide replay would reach. */
      others: string[];
    };

/** Whether a replay to `subscription` reaches it alone, decided from the topic's rules. */
export function replayRouting(topic: readonly SubscriptionRules[], subscription: string): ReplayRouting {
  const target = topic.find((s) => s.name.toLowerCase() === subscription.toLowerCase());
  const others = topic.filter((s) => s !== target).map((s) => s.name);
  const missing: string[] = [];
  if (!target) missing.push(`subscription '${subscription}' no longer exists on the topic`);
  else if (!hasReplayRule(target))
    missing.push(`'${target.name}' has no rule ${REPLAY_RULE_NAME}: ${replayRuleExpression(target.name)}`);
  for (const other of topic) {
    if (other === target) continue;
    for (const rule of other.rules) {
      if (keepsReplaysOut(rule, other.name)) continue;
      missing.push(
        rule.filter.kind === "sql"
          ? `'${other.name}' rule '${rule.name}' is not guarded with AND ${GUARD}`
          : `'${other.name}' rule '${rule.name}' is a correlation filter, which cannot keep replays out`,
      );
    }
  }
  return missing.length === 0 ? { safe: true, others } : { safe: false, missing, others };
}

export type RuleChange =
  | { kind: "create"; subscription: string; rule: string; expression: string }
  | { kind: "update"; subscription: string; rule: string; from: string; expression: string }
  /** Cannot be changed safely by us (a correlation filter): the operator converts it. */
  | { kind: "manual"; subscription: string; rule: string; reason: string };

/** What `deadletter rules install` would change so that every subscription can be replayed to. */
export function rulePlan(topic: readonly SubscriptionRules[]): RuleChange[] {
  const changes: RuleChange[] = [];
  for (const subscription of topic) {
    const own = replayRuleExpression(subscription.name);
    const replayRule = subscription.rules.find((r) => r.name.toLowerCase() === REPLAY_RULE_NAME);
    if (!replayRule) {
      changes.push({
        kind: "create",
        subscription: subscription.name,
        rule: REPLAY_RULE_NAME,
        expression: own,
      });
    } else if (
      replayRule.filter.kind !== "sql" ||
      canonical(replayRule.filter.expression) !== canonical(own)
    ) {
      changes.push({
        kind: "manual",
        subscription: subscription.name,
        rule: replayRule.name,
        reason: `a rule named ${REPLAY_RULE_NAME} exists with another filter; make it ${own}`,
      });
    }
    for (const rule of subscription.rules) {
      if (rule === replayRule || keepsReplaysOut(rule, subscription.name)) continue;
      if (rule.filter.kind === "sql") {
        changes.push({
          kind: "update",
          subscription: subscription.name,
          rule: rule.name,
          from: rule.filter.expression,
          expression: guardedExpression(rule.filter.expression),
        });
      } else {
        changes.push({
          kind: "manual",
          subscription: subscription.name,
          rule: rule.name,
          reason: `a correlation filter (${rule.filter.summary}) cannot exclude replays; convert it yourself to a SQL filter ending in AND ${GUARD}`,
        });
      }
    }
  }
  return changes;
}
