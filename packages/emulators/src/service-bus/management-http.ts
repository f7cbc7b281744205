import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { header, readBody, sendText } from "../http-io";
import { child, escapeXml, parseXml, type XmlElement, type XmlError } from "./atom-xml";
import type { EntityStore, MessageQueue } from "./entity-store";
import {
  type CorrelationFilterSpec,
  createRule,
  type FilterValue,
  RuleError,
  type RuleSpec,
  type SubscriptionRule,
} from "./subscription-rules";

/**
 * The Service Bus management API over HTTPS (ATOM feeds, what `ServiceBusAdministrationClient`
 * speaks) for topic subscriptions and their rules: get/list subscriptions, get/list/create/update/
 * delete rules. Requests must carry a SAS token signed with the stand-in's key (401 otherwise, as
 * the service answers). Queues, topics and the namespace are not served here (501).
 *
 * Bodies follow the service's closely enough for the SDK's parser: every entry's `id` is the
 * entity's full URL (the SDK reads topic, subscription and rule names from it).
 */
export interface ManagementHttpOptions {
  store: EntityStore;
  keyName: string;
  key: string;
  now: () => number;
}

const ATOM = "http://www.w3.org/2005/Atom";
const CONNECT = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
const INSTANCE = "http://www.w3.org/2001/XMLSchema-instance";
const API_VERSION = "2021-05";
const DEFAULT_PAGE = 100;
/** TimeSpan.MaxValue, what the service reports for "never". */
const NEVER = "P10675199DT2H48M5.4775807S";

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

function errorXml(status: number, detail: string): string {
  return `<Error><Code>${status}</Code><Detail>${escapeXml(detail)}</Detail></Error>`;
}

/** Checks `SharedAccessSignature sig=…&se=…&skn=…&sr=…` as the service would, with one key. */
function authorize(req: IncomingMessage, options: ManagementHttpOptions): void {
  const authorization = header(req, "authorization");
  if (!authorization) {
    throw new HttpFailure(401, "MissingToken: The authorization header was not found.");
  }
  const match = /^SharedAccessSignature\s+(.+)$/i.exec(authorization);
  const fields = new Map(
    (match?.[1] ?? "").split("&").map((pair) => {
      const at = pair.indexOf("=");
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    }),
  );
  const sig = fields.get("sig");
  const se = fields.get("se");
  const sr = fields.get("sr");
  if (!match || !sig || !se || !sr || fields.get("skn") !== options.keyName) {
    throw new HttpFailure(401, "InvalidSignature: The token has an invalid signature.");
  }
  const expected = encodeURIComponent(
    createHmac("sha256", options.key).update(`${sr}\n${se}`).digest("base64"),
  );
  const same = expected.length === sig.length && timingSafeEqual(Buffer.from(expected), Buffer.from(sig));
  if (!same) throw new HttpFailure(401, "InvalidSignature: The token has an invalid signature.");
  if (Number(se) * 1000 < options.now()) throw new HttpFailure(401, "ExpiredToken: The token is expired.");
}

type Route =
  | { kind: "subscriptions"; topic: string }
  | { kind: "subscription"; topic: string; subscription: string }
  | { kind: "rules"; topic: string; subscription: string }
  | { kind: "rule"; topic: string; subscription: string; rule: string };

function routeOf(pathname: string): Route | undefined {
  const segments = pathname.split("/").slice(1).map(decodeURIComponent);
  const [topic, subscriptions, subscription, rules, rule, ...rest] = segments;
  if (!topic || subscriptions?.toLowerCase() !== "subscriptions" || rest.length > 0) return undefined;
  if (!subscription) return { kind: "subscriptions", topic };
  if (rules === undefined) return { kind: "subscription", topic, subscription };
  if (rules.toLowerCase() !== "rules") return undefined;
  return rule ? { kind: "rule", topic, subscription, rule } : { kind: "rules", topic, subscription };
}

function duration(ms: number): string {
  return Number.isFinite(ms) ? `PT${ms / 1000}S` : NEVER;
}

function subscriptionNameOf(queue: MessageQueue): string {
  return queue.path.split("/")[2] ?? queue.path;
}

export function createManagementHttpHandler(options: ManagementHttpOptions) {
  const { store } = options;

  function requireTopic(name: string) {
    const topic = store.topic(name);
    if (!topic) throw new HttpFailure(404, `Entity '${name}' was not found.`);
    return topic;
  }

  function requireSubscription(topic: string, name: string): MessageQueue {
    requireTopic(topic);
    const queue = store.subscription(topic, name);
    if (!queue) throw new HttpFailure(404, `Entity '${topic}|${name}' was not found.`);
    return queue;
  }

  function entry(base: string, path: string, title: string, content: string, updated: Date): string {
    const at = updated.toISOString();
    return (
      `<entry xmlns="${ATOM}"><id>${escapeXml(`${base}/${path}?api-version=${API_VERSION}`)}</id>` +
      `<title type="text">${escapeXml(title)}</title><published>${at}</published><updated>${at}</updated>` +
      `<link rel="self" href="${escapeXml(`${base}/${path}?api-version=${API_VERSION}`)}"/>` +
      `<content type="application/xml">${content}</content></entry>`
    );
  }

  function feed(base: string, path: string, title: string, entries: string[], url: URL): string {
    const skip = Math.max(Number(url.searchParams.get("$skip")) || 0, 0);
    const top = Math.max(Number(url.searchParams.get("$top")) || DEFAULT_PAGE, 1);
    const page = entries.slice(skip, skip + top);
    const self = `${base}/${path}?api-version=${API_VERSION}`;
    const next =
      skip + top < entries.length
        ? `<link rel="next" href="${escapeXml(`${self}&$skip=${skip + top}&$top=${top}`)}"/>`
        : "";
    return (
      `<feed xmlns="${ATOM}"><title type="text">${escapeXml(title)}</title><id>${escapeXml(self)}</id>` +
      `<updated>${new Date(options.now()).toISOString()}</updated><link rel="self" href="${escapeXml(self)}"/>` +
      `${next}${page.join("")}</feed>`
    );
  }

  function subscriptionXml(queue: MessageQueue): string {
    const depth = store.depth(queue.path);
    const now = new Date(options.now()).toISOString();
    const count = (name: string, value: number) => `<d2p1:${name}>${value}</d2p1:${name}>`;
    return (
      `<SubscriptionDescription xmlns="${CONNECT}" xmlns:i="${INSTANCE}">` +
      `<LockDuration>${duration(queue.lockDurationMs)}</LockDuration><RequiresSession>false</RequiresSession>` +
      `<DefaultMessageTimeToLive>${NEVER}</DefaultMessageTimeToLive>` +
      "<DeadLetteringOnMessageExpiration>false</DeadLetteringOnMessageExpiration>" +
      "<DeadLetteringOnFilterEvaluationExceptions>true</DeadLetteringOnFilterEvaluationExceptions>" +
      `<MessageCount>${depth.active + depth.locked + depth.deferred + depth.scheduled + depth.deadLetter}</MessageCount>` +
      `<MaxDeliveryCount>${queue.maxDeliveryCount}</MaxDeliveryCount>` +
      "<EnableBatchedOperations>true</EnableBatchedOperations><Status>Active</Status>" +
      `<CreatedAt>${now}</CreatedAt><UpdatedAt>${now}</UpdatedAt><AccessedAt>${now}</AccessedAt>` +
      `<CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">` +
      count("ActiveMessageCount", depth.active + depth.locked) +
      count("DeadLetterMessageCount", depth.deadLetter) +
      count("ScheduledMessageCount", depth.scheduled) +
      count("TransferMessageCount", 0) +
      count("TransferDeadLetterMessageCount", 0) +
      `</CountDetails><AutoDeleteOnIdle>${NEVER}</AutoDeleteOnIdle>` +
      "<EntityAvailabilityStatus>Available</EntityAvailabilityStatus></SubscriptionDescription>"
    );
  }

  function keyValues(values: Record<string, FilterValue> | undefined): string {
    if (!values || Object.keys(values).length === 0) return "";
    const pairs = Object.entries(values).map(([key, value]) => {
      const type = typeof value === "number" ? (Number.isInteger(value) ? "int" : "double") : typeof value;
      return (
        `<KeyValueOfstringanyType><Key>${escapeXml(key)}</Key>` +
        `<Value xmlns:d6p1="http://www.w3.org/2001/XMLSchema" i:type="d6p1:${type}">${escapeXml(String(value))}</Value>` +
        "</KeyValueOfstringanyType>"
      );
    });
    return pairs.join("");
  }

  function ruleXml(rule: SubscriptionRule): string {
    let filter: string;
    if (rule.filter.kind === "sql") {
      const parameters = keyValues(rule.filter.parameters);
      filter =
        `<Filter i:type="${rule.filter.type}"><SqlExpression>${escapeXml(rule.filter.expression)}</SqlExpression>` +
        `${parameters ? `<Parameters>${parameters}</Parameters>` : ""}<CompatibilityLevel>20</CompatibilityLevel></Filter>`;
    } else {
      const fields = rule.filter.fields;
      const element = (name: string, value: string | undefined) =>
        value === undefined ? "" : `<${name}>${escapeXml(value)}</${name}>`;
      const properties = keyValues(fields.applicationProperties);
      filter =
        `<Filter i:type="CorrelationFilter">${element("CorrelationId", fields.correlationId)}` +
        `${element("MessageId", fields.messageId)}${element("To", fields.to)}${element("ReplyTo", fields.replyTo)}` +
        `${element("Label", fields.subject)}${element("SessionId", fields.sessionId)}` +
        `${element("ReplyToSessionId", fields.replyToSessionId)}${element("ContentType", fields.contentType)}` +
        `${properties ? `<Properties>${properties}</Properties>` : ""}</Filter>`;
    }
    return (
      `<RuleDescription xmlns="${CONNECT}" xmlns:i="${INSTANCE}">${filter}<Action i:type="EmptyRuleAction"/>` +
      `<CreatedAt>${rule.createdAt.toISOString()}</CreatedAt><Name>${escapeXml(rule.name)}</Name></RuleDescription>`
    );
  }

  function ruleEntry(base: string, topic: string, subscription: string, rule: SubscriptionRule): string {
    // Unencoded, as the service writes it: the SDK takes the rule's name from this path.
    const path = `${topic}/Subscriptions/${subscription}/Rules/${rule.name}`;
    return entry(base, path, rule.name, ruleXml(rule), rule.createdAt);
  }

  /** Reads `KeyValueOfstringanyType` pairs as the SDK writes them (`l28:string`, `l28:double`, …). */
  function readKeyValues(element: XmlElement | undefined): Record<string, FilterValue> | undefined {
    if (!element) return undefined;
    const values: Record<string, FilterValue> = {};
    for (const pair of element.children.filter((c) => c.name === "KeyValueOfstringanyType")) {
      const key = child(pair, "Key")?.text;
      const value = child(pair, "Value");
      if (key === undefined || !value)
        throw new HttpFailure(400, "A key-value pair needs a Key and a Value.");
      const type = (value.attributes.type ?? "").replace(/^.*:/, "");
      if (type === "string") values[key] = value.text;
      else if (["double", "int", "long", "decimal"].includes(type)) values[key] = Number(value.text);
      else if (type === "boolean") values[key] = value.text === "true";
      else
        throw new HttpFailure(
          400,
          `The value of '${key}' has a type the stand-in does not support ('${type}').`,
        );
    }
    return values;
  }

  function ruleSpecOf(body: string, name: string): RuleSpec {
    let root: XmlElement;
    try {
      root = parseXml(body);
    } catch (error) {
      throw new HttpFailure(400, `The request body is not valid XML: ${(error as XmlError).message}.`);
    }
    const description = child(child(root, "content"), "RuleDescription");
    if (root.name !== "entry" || !description) {
      throw new HttpFailure(400, "The request body must be an ATOM entry holding a RuleDescription.");
    }
    const action = child(description, "Action");
    const actionType = action?.attributes.type?.replace(/^.*:/, "");
    if (action && actionType !== "EmptyRuleAction") {
      throw new HttpFailure(501, `The stand-in does not implement rule actions ('${actionType}').`);
    }
    const filter = child(description, "Filter");
    const type = filter?.attributes.type?.replace(/^.*:/, "") ?? "TrueFilter";
    switch (type) {
      case "TrueFilter":
        return { name, sqlFilter: "1=1" };
      case "FalseFilter":
        return { name, sqlFilter: "1=0" };
      case "SqlFilter": {
        const expression = child(filter, "SqlExpression")?.text;
        if (!expression) throw new HttpFailure(400, "A SqlFilter needs a SqlExpression.");
        const parameters = readKeyValues(child(filter, "Parameters"));
        return { name, sqlFilter: expression, ...(parameters ? { sqlParameters: parameters } : {}) };
      }
      case "CorrelationFilter": {
        const text = (element: string) => {
          const found = child(filter, element);
          return found && found.attributes.nil !== "true" ? found.text : undefined;
        };
        const fields: CorrelationFilterSpec = {};
        const set = (key: keyof CorrelationFilterSpec, element: string) => {
          const value = text(element);
          if (value !== undefined) Object.assign(fields, { [key]: value });
        };
        set("correlationId", "CorrelationId");
        set("messageId", "MessageId");
        set("to", "To");
        set("replyTo", "ReplyTo");
        set("subject", "Label");
        set("sessionId", "SessionId");
        set("replyToSessionId", "ReplyToSessionId");
        set("contentType", "ContentType");
        const properties = readKeyValues(child(filter, "Properties"));
        if (properties) fields.applicationProperties = properties;
        return { name, correlationFilter: fields };
      }
      default:
        throw new HttpFailure(400, `Unknown filter type '${type}'.`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = header(req, "host") ?? "localhost";
    const url = new URL(req.url ?? "/", `https://${host}`);
    const base = `https://${host}`;
    authorize(req, options);
    const route = routeOf(url.pathname);
    if (!route) {
      throw new HttpFailure(
        501,
        `The stand-in's management API serves topic subscriptions and their rules only, not '${url.pathname}'.`,
      );
    }
    const method = req.method ?? "GET";
    const atom = (status: number, xml: string) =>
      sendText(res, status, "application/atom+xml;type=entry;charset=utf-8", xml);
    if (route.kind === "subscriptions" || route.kind === "subscription") {
      if (method !== "GET") throw new HttpFailure(501, "The stand-in's subscriptions are read-only here.");
      const topic = requireTopic(route.topic);
      const entryOf = (queue: MessageQueue) =>
        entry(
          base,
          `${topic.name}/Subscriptions/${subscriptionNameOf(queue)}`,
          subscriptionNameOf(queue),
          subscriptionXml(queue),
          new Date(options.now()),
        );
      if (route.kind === "subscription") {
        return atom(200, entryOf(requireSubscription(route.topic, route.subscription)));
      }
      return atom(
        200,
        feed(base, `${topic.name}/Subscriptions`, "Subscriptions", topic.subscriptions.map(entryOf), url),
      );
    }
    const queue = requireSubscription(route.topic, route.subscription);
    const topicName = requireTopic(route.topic).name;
    const subscriptionName = subscriptionNameOf(queue);
    if (route.kind === "rules") {
      if (method !== "GET") throw new HttpFailure(405, "Rules are listed with GET.");
      const entries = [...queue.rules.values()].map((rule) =>
        ruleEntry(base, topicName, subscriptionName, rule),
      );
      return atom(
        200,
        feed(base, `${topicName}/Subscriptions/${subscriptionName}/Rules`, "Rules", entries, url),
      );
    }
    const key = route.rule.toLowerCase();
    const existing = queue.rules.get(key);
    const notFound = () =>
      new HttpFailure(404, `Entity '${topicName}|${subscriptionName}|${route.rule}' was not found.`);
    switch (method) {
      case "GET":
        if (!existing) throw notFound();
        return atom(200, ruleEntry(base, topicName, subscriptionName, existing));
      case "DELETE":
        if (!existing) throw notFound();
        queue.rules.delete(key);
        return sendText(res, 200, "application/xml; charset=utf-8", "");
      case "PUT": {
        const update = header(req, "if-match") !== undefined;
        if (update && !existing) throw notFound();
        if (!update && existing) {
          throw new HttpFailure(
            409,
            `The messaging entity '${topicName}|${subscriptionName}|${route.rule}' already exists.`,
          );
        }
        const spec = ruleSpecOf(await readBody(req), existing?.name ?? route.rule);
        let rule: SubscriptionRule;
        try {
          rule = createRule(spec, existing?.createdAt ?? new Date(options.now()));
        } catch (error) {
          if (error instanceof RuleError) throw new HttpFailure(400, error.message);
          throw error;
        }
        queue.rules.set(key, rule);
        return atom(update ? 200 : 201, ruleEntry(base, topicName, subscriptionName, rule));
      }
      default:
        throw new HttpFailure(405, `Method ${method} is not allowed here.`);
    }
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpFailure ? error.status : 500;
      const detail = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendText(res, status, "application/xml; charset=utf-8", errorXml(status, detail));
      else res.destroy();
    });
  };
}
