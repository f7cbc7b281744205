import { readFileSync } from "node:fs";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import * as z from "@victoria/core/validation/zod";
import type { EntityOptions, SubscriptionOptions } from "@victoria/emulators/service-bus/entity-store";
import { createRule, RuleError, type RuleSpec } from "@victoria/emulators/service-bus/subscription-rules";
import { type Env, optionalSetting } from "./settings";

/**
 * LOCAL_SERVICE_BUS_ENTITIES: the queues, topics and subscriptions the local server's embedded
 * broker holds. The value is the JSON itself, or `@<path>` to a JSON file (relative to the folder
 * the server runs in):
 *
 *   {"queues": ["orders", {"name": "payments", "maxDeliveryCount": 2}],
 *    "topics": [{"name": "events", "subscriptions": ["audit", {"name": "billing", "lockDurationMs": 30000}]}]}
 *
 * Per queue or subscription: `maxDeliveryCount` (10) and `lockDurationMs` (60000), the options the
 * broker has. Per subscription, `rules`: `[{"name": …, "sqlFilter": "color = 'red'"}]` or
 * `{"name": …, "correlationFilter": {"subject": …, "applicationProperties": {…}}}`; they replace the
 * `$Default` rule (every message), and the broker checks their SQL at start. FAILED_REQUESTS_QUEUE
 * is added when not listed.
 */
export const LOCAL_SERVICE_BUS_ENTITIES = "LOCAL_SERVICE_BUS_ENTITIES";

/** The broker's own rule for names (entity-store.ts), checked here so the error names the setting. */
const ENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const name = z
  .string()
  .check(z.regex(ENTITY_NAME, "must be letters, digits, '.', '_' or '-', starting with a letter or digit"));
const entityOptions = {
  name,
  maxDeliveryCount: z.optional(z.int().check(z.gte(1))),
  lockDurationMs: z.optional(z.int().check(z.gte(1))),
};
/** A bare name is short for `{"name": …}`, so a wrong option is reported at its own field. */
const byName = (value: unknown) => (typeof value === "string" ? { name: value } : value);
const queueSchema = z.pipe(z.transform(byName), z.strictObject(entityOptions));
const filterValue = z.union([z.string(), z.number(), z.boolean()]);
const ruleSchema = z
  .strictObject({
    name: z.string().check(z.minLength(1), z.maxLength(50)),
    sqlFilter: z.optional(z.string().check(z.minLength(1))),
    sqlParameters: z.optional(z.record(z.string(), filterValue)),
    correlationFilter: z.optional(
      z.strictObject({
        correlationId: z.optional(z.string()),
        messageId: z.optional(z.string()),
        to: z.optional(z.string()),
        replyTo: z.optional(z.string()),
        subject: z.optional(z.string()),
        sessionId: z.optional(z.string()),
        replyToSessionId: z.optional(z.string()),
        contentType: z.optional(z.string()),
        applicationProperties: z.optional(z.record(z.string(), filterValue)),
      }),
    ),
  })
  .check(
    z.refine((rule) => (rule.sqlFilter === undefined) !== (rule.correlationFilter === undefined), {
      message: "a rule needs exactly one of sqlFilter and correlationFilter",
    }),
  );
const subscriptionSchema = z.pipe(
  z.transform(byName),
  z.strictObject({ ...entityOptions, rules: z.optional(z.array(ruleSchema)) }),
);
const entitiesSchema = z.strictObject({
  queues: z.optional(z.array(queueSchema)),
  topics: z.optional(
    z.array(
      z.strictObject({
        name,
        subscriptions: z.array(subscriptionSchema).check(z.minLength(1, "a topic needs a subscription")),
      }),
    ),
  ),
});

export interface LocalServiceBusEntities {
  queues: EntityOptions[];
  topics: Array<{ name: string; subscriptions: SubscriptionOptions[] }>;
}

const EXPECTED = '{"queues": [...], "topics": [{"name": ..., "subscriptions": [...]}]}';

function fail(problem: string): never {
  throw new Error(`${LOCAL_SERVICE_BUS_ENTITIES} ${problem}`);
}

/** Only the options that were given (the broker fills in the rest). */
const optionsOf = ({ name, maxDeliveryCount, lockDurationMs }: EntityOptions): EntityOptions => ({
  name,
  ...(maxDeliveryCount === undefined ? {} : { maxDeliveryCount }),
  ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
});

/**
 * The embedded broker's entities: LOCAL_SERVICE_BUS_ENTITIES, or `defaultQueues` when it is unset.
 * `failedRequestsQueue` is always among the queues (added with the default options when missing).
 * A bad value throws one line naming the setting and what is wrong.
 */
export function readLocalServiceBusEntities(
  env: Env,
  { failedRequestsQueue, defaultQueues }: { failedRequestsQueue: string; defaultQueues: readonly string[] },
): LocalServiceBusEntities {
  const raw = optionalSetting(env, LOCAL_SERVICE_BUS_ENTITIES)?.trim();
  let entities: LocalServiceBusEntities;
  if (raw === undefined || raw === "") {
    entities = { queues: defaultQueues.map((queue) => ({ name: queue })), topics: [] };
  } else {
    let text = raw;
    if (raw.startsWith("@")) {
      const file = raw.slice(1).trim();
      if (file === "") fail("names no file after '@'");
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        fail(`names a file that cannot be read (${(error as Error).message})`);
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      fail(`is not JSON (${(error as Error).message}); expected ${EXPECTED} or @<file>`);
    }
    const result = entitiesSchema.safeParse(parsed);
    if (!result.success) fail(`is invalid: ${describeIssues(result.error)}`);
    entities = {
      queues: (result.data.queues ?? []).map(optionsOf),
      topics: (result.data.topics ?? []).map((topic) => ({
        name: topic.name,
        subscriptions: topic.subscriptions.map(
          (subscription): SubscriptionOptions => ({
            ...optionsOf(subscription),
            ...(subscription.rules ? { rules: subscription.rules as RuleSpec[] } : {}),
          }),
        ),
      })),
    };
  }
  // Service Bus names are case-insensitive: two entities may not differ in case only.
  const taken = new Set<string>();
  const claim = (entity: string) => {
    const key = entity.toLowerCase();
    if (taken.has(key)) fail(`is invalid: '${entity}' names two queues or topics (names ignore case)`);
    taken.add(key);
  };
  for (const queue of entities.queues) claim(queue.name);
  for (const topic of entities.topics) {
    claim(topic.name);
    const subscriptions = new Set<string>();
    for (const subscription of topic.subscriptions) {
      const key = subscription.name.toLowerCase();
      if (subscriptions.has(key))
        fail(`is invalid: topic '${topic.name}' names subscription '${subscription.name}' twice`);
      subscriptions.add(key);
      const rules = new Set<string>();
      for (const rule of subscription.rules ?? []) {
        const where = `topic '${topic.name}' subscription '${subscription.name}'`;
        if (rules.has(rule.name.toLowerCase())) fail(`is invalid: ${where} names rule '${rule.name}' twice`);
        rules.add(rule.name.toLowerCase());
        // The broker's own check (SQL syntax, sys. properties), so a bad filter names the setting.
        try {
          createRule(rule, new Date());
        } catch (error) {
          if (!(error instanceof RuleError)) throw error;
          fail(`is invalid: ${where}: ${error.message}`);
        }
      }
    }
  }
  const failedKey = failedRequestsQueue.toLowerCase();
  if (entities.topics.some((topic) => topic.name.toLowerCase() === failedKey)) {
    fail(`is invalid: '${failedRequestsQueue}' is FAILED_REQUESTS_QUEUE, so it must be a queue, not a topic`);
  }
  if (!entities.queues.some((queue) => queue.name.toLowerCase() === failedKey)) {
    entities.queues.push({ name: failedRequestsQueue });
  }
  return entities;
}

/** For the start-up banner: `orders, payments (max deliveries 2); topics events → audit, billing`. */
export function describeLocalServiceBusEntities({ queues, topics }: LocalServiceBusEntities): string {
  const entity = ({ name, maxDeliveryCount }: EntityOptions) =>
    maxDeliveryCount === undefined ? name : `${name} (max deliveries ${maxDeliveryCount})`;
  const queueText = `queues ${queues.map(entity).join(", ")}`;
  if (topics.length === 0) return queueText;
  const topicText = topics.map((topic) => `${topic.name} → ${topic.subscriptions.map(entity).join(", ")}`);
  return `${queueText}; topics ${topicText.join("; ")}`;
}
