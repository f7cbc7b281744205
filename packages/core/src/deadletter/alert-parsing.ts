import * as z from "../validation/zod";
import type { EntityRef } from "./dead-letter";

/**
 * What `POST /listener` is asked to do, read from the body Azure sent:
 * - an Event Grid subscription handshake, answered with `{"validationResponse": code}`;
 * - a resolved alert, which needs nothing;
 * - one or more entities whose dead-letter subqueues should be drained.
 *
 * Accepted bodies (see alert-parsing.test.ts for the samples each comes from):
 * - Azure Monitor metric alerts, common alert schema (`schemaId: "azureMonitorCommonAlertSchema"`,
 *   `data.essentials` + `data.alertContext.condition.allOf[]`);
 * - Azure Monitor metric alerts, non-common schema (`schemaId: "AzureMonitorMetricAlert"`,
 *   `data.status` + `data.context.{resourceName,timestamp,condition.allOf[]}`) — what the original
 *   watcher was sent (its action group had `use_common_alert_schema: False`);
 * - Event Grid deliveries in the Event Grid schema (`eventType`, `eventTime`) or the CloudEvents 1.0
 *   schema (`type`, `time`, `specversion`), as an array or a single event. (CloudEvents endpoint
 *   validation is an HTTP `OPTIONS` handshake, not a body, so it never reaches this parser.)
 */
export type ListenerInput =
  | { kind: "validation"; validationResponse: string }
  | { kind: "resolved" }
  | { kind: "dead-letters"; source: "azure-monitor" | "event-grid"; alerts: DeadLetterAlert[] };

/** One entity to drain. */
export interface DeadLetterAlert {
  namespace: string;
  entity: EntityRef;
  /** The metric value Azure Monitor reported (an aggregate such as an average: may be fractional). */
  count?: number;
  /** ISO-8601, as Azure sent it. */
  firedAt?: string;
}

/** The body is not something the listener understands; the message names the field and the problem. */
export class ListenerInputError extends Error {
  override readonly name = "ListenerInputError";
}

/** The Service Bus metric the alerts must be about. */
export const DEAD_LETTER_METRIC = "DeadletteredMessages";

export const EVENT_GRID_VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent";
export const DEAD_LETTER_EVENT_TYPES: readonly string[] = [
  "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners",
  "Microsoft.ServiceBus.DeadletterMessagesAvailablePeriodicNotifications",
];

/**
 * The cluster a namespace belongs to, exactly as the original watcher derived it
 * (`get_cluster` in Glasswall-SRE/dead-letter-watcher `deadletter_listener/lambda_function.py`):
 * the text after the last `-` of the namespace name, or the whole name when it has no `-`.
 * `gw-icap-sb-uksprod1` → `uksprod1`; `sb-dev` → `dev`; `standalone` → `standalone`; `ns-` → ``.
 * No case folding: `SERVICE_BUS_CONNECTIONS` is keyed by what this returns.
 */
export function clusterOf(namespace: string): string {
  const parts = namespace.split("-");
  return parts[parts.length - 1] ?? "";
}

/**
 * Reads an Azure Monitor `EntityName` dimension value. Azure Monitor reports Service Bus metrics
 * per queue or per topic ("Count of dead-lettered messages in a Queue/Topic"): the value is the bare
 * queue or topic name, and a topic's subscriptions are counted under the topic's name. A bare name
 * is therefore read as a queue (the original watcher only alerted on queues). The Service Bus path
 * form `<topic>/Subscriptions/<subscription>` (any case) is read as a topic subscription, so an
 * alert rule or a caller that names one explicitly is understood too.
 */
export function entityFromName(name: string): EntityRef | undefined {
  const parts = name.split("/");
  if (parts.length === 1) {
    return name === "" || name === NAMESPACE_ONLY_METRIC ? undefined : { kind: "queue", queue: name };
  }
  const [topic, middle, subscription] = parts;
  if (parts.length === 3 && topic && subscription && middle?.toLowerCase() === "subscriptions") {
    return { kind: "subscription", topic, subscription };
  }
  return undefined;
}

/** Service Bus reports namespace-level operations under this pseudo entity name. */
const NAMESPACE_ONLY_METRIC = "-NamespaceOnlyMetric-";

/** Reads a listener request body (already JSON-parsed). Throws `ListenerInputError`. */
export function parseListenerInput(body: unknown): ListenerInput {
  if (Array.isArray(body)) return parseEventGrid(body, true);
  if (!isRecord(body)) {
    throw new ListenerInputError(`body: expected a JSON object or array, got ${typeName(body)}`);
  }
  if ("eventType" in body || ("specversion" in body && "type" in body)) return parseEventGrid([body], false);
  if (body.schemaId === COMMON_SCHEMA_ID) return parseCommonAlert(body);
  if (body.schemaId === METRIC_ALERT_SCHEMA_ID) return parseMetricAlert(body);
  // The original's fixtures carry made-up schemaIds: recognise the two alert shapes by their fields.
  const data = body.data;
  if (isRecord(data) && isRecord(data.context)) return parseMetricAlert(body);
  if (isRecord(data) && isRecord(data.essentials)) return parseCommonAlert(body);
  throw new ListenerInputError(
    `body: not an Azure Monitor alert (no data.essentials or data.context) nor an Event Grid event (no eventType)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Azure Monitor metric alerts

const COMMON_SCHEMA_ID = "azureMonitorCommonAlertSchema";
const METRIC_ALERT_SCHEMA_ID = "AzureMonitorMetricAlert";

const dimension = z.object({ name: z.string(), value: z.string() });
// Azure sends metricValue as a number; the original's fixtures also have it as a numeric string.
const metricCondition = z.object({
  metricName: z.string(),
  metricValue: z.nullish(z.union([z.number(), z.string()])),
  dimensions: z.nullish(z.array(dimension)),
});
const allOfConditions = z.object({ allOf: z.array(metricCondition) });

// Status first, on its own: a resolved alert is a no-op whatever else it carries.
const commonAlertStatus = z.object({
  data: z.object({ essentials: z.object({ monitorCondition: z.string() }) }),
});
const commonAlert = z.object({
  data: z.object({
    essentials: z.object({
      alertTargetIDs: z.nullish(z.array(z.string())),
      configurationItems: z.nullish(z.array(z.string())),
      firedDateTime: z.nullish(z.string()),
    }),
    alertContext: z.object({ condition: allOfConditions }, { error: "missing (not a metric alert)" }),
  }),
});

const metricAlertStatus = z.object({
  // Absent in the original's fixtures, which it never read: absent means fired.
  data: z.object({ status: z.optional(z.string()) }),
});
const metricAlert = z.object({
  data: z.object({
    context: z.object({
      resourceName: z.string().check(z.minLength(1)),
      timestamp: z.nullish(z.string()),
      condition: allOfConditions,
    }),
  }),
});

function parseCommonAlert(body: Record<string, unknown>): ListenerInput {
  const { monitorCondition } = check(commonAlertStatus, body, "").data.essentials;
  if (monitorCondition === "Resolved") return { kind: "resolved" };
  if (monitorCondition !== "Fired") {
    throw new ListenerInputError(
      `data.essentials.monitorCondition: expected "Fired" or "Resolved", got ${JSON.stringify(monitorCondition)}`,
    );
  }
  const { essentials, alertContext } = check(commonAlert, body, "").data;
  const entities = deadLetterEntities(alertContext.condition.allOf, "data.alertContext.condition.allOf");
  const namespace = commonAlertNamespace(essentials);
  const firedAt = essentials.firedDateTime ?? undefined;
  return {
    kind: "dead-letters",
    source: "azure-monitor",
    alerts: entities.map(({ entity, count }) => withOptional({ namespace, entity }, count, firedAt)),
  };
}

function parseMetricAlert(body: Record<string, unknown>): ListenerInput {
  const { status } = check(metricAlertStatus, body, "").data;
  // Newer metric alerts send Activated/Deactivated; classic ones sent Activated/Resolved.
  if (status === "Deactivated" || status === "Resolved") return { kind: "resolved" };
  if (status !== undefined && status !== "Activated") {
    throw new ListenerInputError(
      `data.status: expected "Activated", "Deactivated" or "Resolved", got ${JSON.stringify(status)}`,
    );
  }
  const { context } = check(metricAlert, body, "").data;
  const entities = deadLetterEntities(context.condition.allOf, "data.context.condition.allOf");
  const namespace = context.resourceName;
  const firedAt = context.timestamp ?? undefined;
  return {
    kind: "dead-letters",
    source: "azure-monitor",
    alerts: entities.map(({ entity, count }) => withOptional({ namespace, entity }, count, firedAt)),
  };
}

/** The entities named by the `DeadletteredMessages` conditions; other metrics are ignored. */
function deadLetterEntities(
  conditions: z.infer<typeof metricCondition>[],
  path: string,
): Array<{ entity: EntityRef; count: number | undefined }> {
  const found: Array<{ entity: EntityRef; count: number | undefined }> = [];
  const seen = new Set<string>();
  conditions.forEach((condition, index) => {
    if (condition.metricName !== DEAD_LETTER_METRIC) return;
    const at = `${path}[${index}].dimensions`;
    const name = condition.dimensions?.find((d) => d.name.toLowerCase() === "entityname")?.value;
    if (name === undefined) throw new ListenerInputError(`${at}: no EntityName dimension`);
    const entity = entityFromName(name);
    if (!entity)
      throw new ListenerInputError(
        `${at}: EntityName ${JSON.stringify(name)} is not a queue or topic subscription`,
      );
    const key = entityKey(entity);
    if (seen.has(key)) return; // the same entity under two aggregations is one drain
    seen.add(key);
    found.push({ entity, count: metricNumber(condition.metricValue) });
  });
  if (found.length === 0) {
    const metrics = [...new Set(conditions.map((c) => c.metricName))];
    throw new ListenerInputError(
      `${path}: no ${DEAD_LETTER_METRIC} condition (metrics: ${metrics.length > 0 ? metrics.join(", ") : "none"})`,
    );
  }
  return found;
}

/**
 * The namespace of a common-schema alert: the `namespaces` segment of the alert target's resource id
 * (Azure lowercases these ids), else `configurationItems[0]`, else a bare name in `alertTargetIDs[0]`
 * (as in the original's sample alert).
 */
function commonAlertNamespace(essentials: z.infer<typeof commonAlert>["data"]["essentials"]): string {
  const target = essentials.alertTargetIDs?.[0];
  if (target?.includes("/")) {
    const match = /\/providers\/microsoft\.servicebus\/namespaces\/([^/]+)/i.exec(target);
    if (!match?.[1]) {
      throw new ListenerInputError(
        `data.essentials.alertTargetIDs[0]: not a Service Bus namespace resource id: ${JSON.stringify(target)}`,
      );
    }
    return match[1];
  }
  const namespace = essentials.configurationItems?.[0] || target;
  if (!namespace) throw new ListenerInputError("data.essentials.alertTargetIDs: no Service Bus namespace");
  return namespace;
}

// ---------------------------------------------------------------------------------------------
// Event Grid (Event Grid schema and CloudEvents 1.0)

const eventGridEvent = z.union([
  z.object({ eventType: z.string(), eventTime: z.nullish(z.string()), data: z.unknown() }),
  z.object({ specversion: z.string(), type: z.string(), time: z.nullish(z.string()), data: z.unknown() }),
]);

const validationData = z.object({ validationCode: z.string().check(z.minLength(1)) });

// queueName is null for subscriptions; topicName and subscriptionName are null for queues.
const deadLetterEventData = z.object({
  namespaceName: z.string().check(z.minLength(1)),
  entityType: z.enum(["queue", "subscriber"]),
  queueName: z.nullish(z.string()),
  topicName: z.nullish(z.string()),
  subscriptionName: z.nullish(z.string()),
});

function parseEventGrid(events: unknown[], isArray: boolean): ListenerInput {
  if (events.length === 0) throw new ListenerInputError("body: an empty Event Grid delivery");
  const alerts: DeadLetterAlert[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of events.entries()) {
    const at = isArray ? `[${index}]` : "";
    if (!isRecord(raw))
      throw new ListenerInputError(`${at || "body"}: expected an event object, got ${typeName(raw)}`);
    const event = check(eventGridEvent, raw, at);
    const type = "eventType" in event ? event.eventType : event.type;
    const typeField = join(at, "eventType" in event ? "eventType" : "type");
    const firedAt = ("eventType" in event ? event.eventTime : event.time) ?? undefined;
    if (type === EVENT_GRID_VALIDATION_EVENT) {
      // Event Grid sends the handshake alone; anything else alongside it is not Event Grid talking.
      if (events.length > 1)
        throw new ListenerInputError(`${typeField}: a ${type} must be the only event of a delivery`);
      const data = check(validationData, event.data, join(at, "data"));
      return { kind: "validation", validationResponse: data.validationCode };
    }
    if (!DEAD_LETTER_EVENT_TYPES.includes(type)) {
      throw new ListenerInputError(`${typeField}: unsupported event type ${JSON.stringify(type)}`);
    }
    const data = check(deadLetterEventData, event.data, join(at, "data"));
    const entity = eventEntity(data, join(at, "data"));
    const namespace = shortNamespace(data.namespaceName);
    const key = `${namespace.toLowerCase()}\u0000${entityKey(entity)}`;
    if (seen.has(key)) continue; // periodic notifications repeat: one drain per entity
    seen.add(key);
    alerts.push(withOptional({ namespace, entity }, undefined, firedAt));
  }
  return { kind: "dead-letters", source: "event-grid", alerts };
}

function eventEntity(data: z.infer<typeof deadLetterEventData>, at: string): EntityRef {
  if (data.entityType === "queue") {
    if (!data.queueName) throw new ListenerInputError(`${at}.queueName: missing for entityType "queue"`);
    return { kind: "queue", queue: data.queueName };
  }
  if (!data.topicName) throw new ListenerInputError(`${at}.topicName: missing for entityType "subscriber"`);
  if (!data.subscriptionName)
    throw new ListenerInputError(`${at}.subscriptionName: missing for entityType "subscriber"`);
  return { kind: "subscription", topic: data.topicName, subscription: data.subscriptionName };
}

/** `ns.servicebus.windows.net` → `ns`: namespace names cannot contain dots, host names do. */
function shortNamespace(name: string): string {
  return name.split(".")[0] ?? name;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function check<T>(schema: z.ZodMiniType<T>, value: unknown, at: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = firstLeafIssue(result.error.issues);
  const path = issue.path.reduce<string>((text, key) => join(text, key), at);
  throw new ListenerInputError(`${path || "body"}: ${issue.message}`);
}

type Issue = z.core.$ZodIssue;

/** For a union mismatch, the issue of the branch that got furthest says most about what is wrong. */
function firstLeafIssue(issues: readonly Issue[]): { path: PropertyKey[]; message: string } {
  const issue = issues[0];
  if (!issue) return { path: [], message: "invalid" };
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const branches = issue.errors.map((branch) => firstLeafIssue(branch));
    const deepest = branches.reduce((a, b) => (b.path.length > a.path.length ? b : a));
    return { path: [...issue.path, ...deepest.path], message: deepest.message };
  }
  return { path: issue.path, message: issue.message };
}

function join(path: string, key: PropertyKey): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? String(key) : `${path}.${String(key)}`;
}

function metricNumber(value: number | string | null | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function withOptional(
  alert: { namespace: string; entity: EntityRef },
  count: number | undefined,
  firedAt: string | undefined,
): DeadLetterAlert {
  return {
    ...alert,
    ...(count === undefined ? {} : { count }),
    ...(firedAt === undefined ? {} : { firedAt }),
  };
}

function entityKey(entity: EntityRef): string {
  // Service Bus entity names are case-insensitive.
  return entity.kind === "queue"
    ? `q:${entity.queue.toLowerCase()}`
    : `s:${entity.topic.toLowerCase()}/${entity.subscription.toLowerCase()}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
