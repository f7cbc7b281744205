/** Where a message lives on Service Bus: a queue, or a topic's subscription. */
export type EntityRef =
  | { kind: "queue"; queue: string }
  | { kind: "subscription"; topic: string; subscription: string };

/** `orders` or `events/Subscriptions/audit`: the path Service Bus and its SDK use. */
export function entityPath(entity: EntityRef): string {
  return entity.kind === "queue" ? entity.queue : `${entity.topic}/Subscriptions/${entity.subscription}`;
}

/** Where a replay sends a message back to: the queue, or the topic (not the subscription). */
export function sendTarget(entity: EntityRef): string {
  return entity.kind === "queue" ? entity.queue : entity.topic;
}

/**
 * A message body as it was on the bus, kept exactly: AMQP data sections are bytes, value sections
 * strings or JSON values. Replay sends the same kind back.
 */
export type MessageBody =
  | { kind: "bytes"; base64: string }
  | { kind: "text"; text: string }
  | { kind: "json"; value: unknown }
  | { kind: "empty" };

export type PropertyValue = string | number | boolean | null;

/** Everything about a dead-lettered message that the vault keeps and a replay needs. */
export interface DeadLetter {
  messageId: string;
  /** Service Bus sequence numbers are 64-bit; kept as a decimal string. */
  sequenceNumber: string;
  /** ISO-8601 UTC. */
  enqueuedTime: string;
  deliveryCount: number;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deadLetterSource?: string;
  body: MessageBody;
  contentType?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  partitionKey?: string;
  replyTo?: string;
  replyToSessionId?: string;
  to?: string;
  /** Milliseconds. */
  timeToLive?: number;
  applicationProperties: Record<string, PropertyValue>;
}

/** A short, single-line preview of a body for Slack (never the whole of it). */
export function bodyPreview(body: MessageBody, max = 200): string {
  const text =
    body.kind === "text"
      ? body.text
      : body.kind === "json"
        ? JSON.stringify(body.value)
        : body.kind === "bytes"
          ? Buffer.from(body.base64, "base64").toString("utf8")
          : "";
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
