import type { Message } from "rhea";
import rhea from "rhea";

/**
 * An AMQP message as rhea encodes and decodes it: header, properties and the other sections
 * flattened into one object. Only the fields the stand-in reads or writes are named.
 */
export interface AmqpMessage {
  body?: unknown;
  message_id?: unknown;
  correlation_id?: unknown;
  content_type?: string;
  subject?: string;
  to?: string;
  reply_to?: string;
  group_id?: string;
  reply_to_group_id?: string;
  ttl?: number;
  delivery_count?: number;
  message_annotations?: Record<string, unknown>;
  application_properties?: Record<string, unknown>;
  [field: string]: unknown;
}

/** `message_format` of a batch: one message whose `data` sections each hold an encoded message. */
export const BATCH_FORMAT = 0x80013700;

export const Annotation = {
  sequenceNumber: "x-opt-sequence-number",
  enqueuedTime: "x-opt-enqueued-time",
  lockedUntil: "x-opt-locked-until",
  scheduledEnqueueTime: "x-opt-scheduled-enqueue-time",
  deadLetterSource: "x-opt-deadletter-source",
  messageState: "x-opt-message-state",
} as const;

/** `x-opt-message-state` values the SDK understands (it maps them to `state`). */
export const MessageState = { active: 0, deferred: 1, scheduled: 2 } as const;

/** rhea's `data` body: `content` is one Buffer, or several for a batch. */
interface DataSection {
  typecode: number;
  content: Buffer | Buffer[];
}

function isDataSection(body: unknown): body is DataSection {
  return typeof body === "object" && body !== null && (body as { typecode?: unknown }).typecode === 0x75;
}

export function decodeMessage(bytes: Buffer): AmqpMessage {
  return rhea.message.decode(bytes) as AmqpMessage;
}

/** rhea types messages as its decoded class; plain objects with the same fields encode the same. */
export function asRheaMessage(message: AmqpMessage): Message {
  return message as unknown as Message;
}

export function encodeMessage(message: AmqpMessage): Buffer {
  return rhea.message.encode(message);
}

/** The messages carried by one transfer: a batch is unpacked, anything else is one message. */
export function messagesOfTransfer(payload: unknown, format: number | undefined): AmqpMessage[] {
  if (format !== BATCH_FORMAT) {
    if (Buffer.isBuffer(payload)) throw new Error(`unsupported message format ${format}`);
    return [payload as AmqpMessage];
  }
  if (!Buffer.isBuffer(payload)) throw new Error("a batch transfer must carry the encoded batch");
  const envelope = decodeMessage(payload);
  if (!isDataSection(envelope.body)) throw new Error("a batch must hold data sections");
  const parts = Array.isArray(envelope.body.content) ? envelope.body.content : [envelope.body.content];
  return parts.map((part) => decodeMessage(part));
}

/** A body as the SDK sends it: Buffers as they are, anything else as JSON, in one `data` section. */
export function dataBody(body: unknown): unknown {
  const bytes =
    body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body ?? null), "utf8");
  return rhea.message.data_section(bytes);
}

/** A body as the SDK reads it back: a `data` section parsed as JSON when it is JSON, else bytes. */
export function readableBody(body: unknown): unknown {
  if (!isDataSection(body)) return body;
  const bytes = Array.isArray(body.content) ? Buffer.concat(body.content) : body.content;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return bytes;
  }
}

/** What the broker stamps on a message it hands out (transfer or peek). */
export interface BrokerStamp {
  sequenceNumber: number;
  enqueuedAt: number;
  deliveryCount: number;
  lockedUntil?: number;
  state?: number;
}

/**
 * The message as the broker sends it: the stored message plus the annotations the SDK turns into
 * `sequenceNumber`, `enqueuedTimeUtc`, `lockedUntilUtc` and `state`, and the header's
 * `delivery_count` (→ `deliveryCount`, prior delivery attempts).
 */
export function stamped(message: AmqpMessage, stamp: BrokerStamp): AmqpMessage {
  const annotations: Record<string, unknown> = {
    ...message.message_annotations,
    [Annotation.sequenceNumber]: rhea.types.wrap_long(stamp.sequenceNumber),
    [Annotation.enqueuedTime]: rhea.types.wrap_timestamp(stamp.enqueuedAt),
  };
  if (stamp.lockedUntil !== undefined) {
    annotations[Annotation.lockedUntil] = rhea.types.wrap_timestamp(stamp.lockedUntil);
  }
  if (stamp.state !== undefined && stamp.state !== MessageState.active) {
    annotations[Annotation.messageState] = rhea.types.wrap_int(stamp.state);
  }
  return { ...message, delivery_count: stamp.deliveryCount, message_annotations: annotations };
}

/** A timestamp-ish value (Date, epoch ms) as epoch milliseconds. */
export function toMillis(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number" && Number.isFinite(value)) return value;
  return undefined;
}

/** A message in the SDK's terms (`ServiceBusMessage`), for test helpers that put messages in. */
export interface StandInMessage {
  body: unknown;
  messageId?: string | number | Buffer;
  correlationId?: string | number | Buffer;
  contentType?: string;
  subject?: string;
  to?: string;
  replyTo?: string;
  sessionId?: string;
  timeToLive?: number;
  scheduledEnqueueTimeUtc?: Date;
  applicationProperties?: Record<string, string | number | boolean | Date | null>;
}

/** Encodes like the SDK's `toRheaMessage`, so receivers decode it exactly as a sent message. */
export function toAmqpMessage(message: StandInMessage): AmqpMessage {
  const amqp: AmqpMessage = { body: dataBody(message.body), message_annotations: {} };
  if (message.messageId !== undefined) amqp.message_id = message.messageId;
  if (message.correlationId !== undefined) amqp.correlation_id = message.correlationId;
  if (message.contentType !== undefined) amqp.content_type = message.contentType;
  if (message.subject !== undefined) amqp.subject = message.subject;
  if (message.to !== undefined) amqp.to = message.to;
  if (message.replyTo !== undefined) amqp.reply_to = message.replyTo;
  if (message.sessionId !== undefined) amqp.group_id = message.sessionId;
  if (message.timeToLive !== undefined) amqp.ttl = message.timeToLive;
  if (message.applicationProperties !== undefined) {
    amqp.application_properties = { ...message.applicationProperties };
  }
  if (message.scheduledEnqueueTimeUtc !== undefined) {
    amqp.message_annotations = { [Annotation.scheduledEnqueueTime]: message.scheduledEnqueueTimeUtc };
  }
  return amqp;
}
