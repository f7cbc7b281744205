import rhea from "rhea";
import { type AmqpMessage, decodeMessage, encodeMessage } from "./amqp-message";
import type { EntityStore, MessageQueue, Settlement } from "./entity-store";
import { AmqpFailure, Condition, notFound } from "./errors";
import type { Faults } from "./faults";
import { lockTokenOfUuid } from "./lock-token";

/**
 * The `<entity>/$management` request/response node: peek, renew-lock, update-disposition
 * (settling by lock token once the receiving link is gone, and for deferred messages),
 * receive-by-sequence-number (`receiveDeferredMessages`), schedule and cancel-scheduled.
 * Replies carry `statusCode` (and, on failure, `errorCondition`/`statusDescription`) in their
 * application properties, which is where the SDK looks.
 */
export interface ManagementContext {
  store: EntityStore;
  faults: Faults;
}

type Body = Record<string, unknown>;

function bodyOf(request: AmqpMessage): Body {
  const body = request.body;
  return typeof body === "object" && body !== null && !Buffer.isBuffer(body) ? (body as Body) : {};
}

/** An AMQP long as rhea hands it over: a number, or 8 big-endian bytes when wrapped from a Buffer. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  return undefined;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function badRequest(description: string): AmqpFailure {
  return new AmqpFailure("com.microsoft:argument-error", description, 400);
}

function lockTokensOf(body: Body): string[] {
  return listOf(body["lock-tokens"]).map((value) => {
    const token = lockTokenOfUuid(value);
    if (!token) throw badRequest("lock-tokens must be uuids");
    return token;
  });
}

function propertiesOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function settlementOf(body: Body): Settlement {
  const status = body["disposition-status"];
  const properties = propertiesOf(body["properties-to-modify"]);
  switch (status) {
    case "completed":
      return { kind: "complete" };
    case "abandoned":
      return { kind: "abandon", properties };
    case "defered": // sic: the SDK's spelling
    case "deferred":
      return { kind: "defer", properties };
    case "suspended": {
      const reason = body["deadletter-reason"];
      const description = body["deadletter-description"];
      return {
        kind: "deadLetter",
        properties,
        ...(typeof reason === "string" ? { reason } : {}),
        ...(typeof description === "string" ? { description } : {}),
      };
    }
    default:
      throw badRequest(`unknown disposition-status '${String(status)}'`);
  }
}

function peek(context: ManagementContext, queue: MessageQueue, body: Body): Body | undefined {
  const from = toNumber(body["from-sequence-number"]) ?? 1;
  const count = toNumber(body["message-count"]) ?? 1;
  const messages = context.store
    .messagesOf(queue)
    .filter((message) => message.sequenceNumber >= from)
    .slice(0, Math.max(count, 0))
    .map((message) => ({ message: encodeMessage(context.store.wireMessage(queue, message)) }));
  return messages.length > 0 ? { messages } : undefined;
}

function receiveBySequenceNumber(context: ManagementContext, queue: MessageQueue, body: Body): Body {
  const sequenceNumbers = listOf(body["sequence-numbers"]).map((value) => {
    const number = toNumber(value);
    if (number === undefined) throw badRequest("sequence-numbers must be longs");
    return number;
  });
  const deleteOnReceive = toNumber(body["receiver-settle-mode"]) === 0;
  const locked = context.store.lockDeferred(queue, sequenceNumbers);
  const messages = locked.map((message) => {
    const token = message.lock?.token ?? "";
    const encoded = encodeMessage(context.store.wireMessage(queue, message));
    if (deleteOnReceive) context.store.settle(token, { kind: "complete" });
    // Plain uuid bytes: the SDK does not reorder lock tokens that come from $management.
    return {
      "lock-token": rhea.types.wrap_uuid(Buffer.from(token.replace(/-/g, ""), "hex")),
      message: encoded,
    };
  });
  return { messages };
}

function schedule(context: ManagementContext, entityPath: string, body: Body): Body {
  const target = context.store.sendTarget(entityPath);
  if (!target) throw notFound(entityPath);
  const messages = listOf(body.messages).map((entry) => {
    const encoded = propertiesOf(entry)?.message;
    if (!Buffer.isBuffer(encoded)) throw badRequest("each scheduled message needs an encoded 'message'");
    return decodeMessage(encoded);
  });
  const sequenceNumbers = context.store.enqueue(target, messages);
  return { "sequence-numbers": rhea.types.wrap_array(sequenceNumbers.map(longBytes), 0x81, undefined) };
}

function longBytes(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(BigInt(value));
  return bytes;
}

function cancelScheduled(context: ManagementContext, entityPath: string, body: Body): void {
  const target = context.store.sendTarget(entityPath);
  if (!target) throw notFound(entityPath);
  const sequenceNumbers = listOf(body["sequence-numbers"])
    .map(toNumber)
    .filter((n): n is number => n !== undefined);
  context.store.cancelScheduled(target, sequenceNumbers);
}

/** Runs one operation; `undefined` means success with nothing to return (204 for a peek). */
function run(
  context: ManagementContext,
  entityPath: string,
  operation: unknown,
  body: Body,
): { status: number; body?: Body } {
  const { store } = context;
  switch (operation) {
    case "com.microsoft:peek-message": {
      const result = peek(context, store.requireSource(entityPath), body);
      return result ? { status: 200, body: result } : { status: 204 };
    }
    case "com.microsoft:renew-lock": {
      const expirations = lockTokensOf(body).map((token) => new Date(store.renewLock(token)));
      return { status: 200, body: { expirations } };
    }
    case "com.microsoft:update-disposition": {
      const settlement = settlementOf(body);
      for (const token of lockTokensOf(body)) {
        const refusal = context.faults.takeSettlementRefusal();
        if (refusal) throw refusal;
        store.settle(token, settlement);
      }
      return { status: 200 };
    }
    case "com.microsoft:receive-by-sequence-number":
      return { status: 200, body: receiveBySequenceNumber(context, store.requireSource(entityPath), body) };
    case "com.microsoft:schedule-message":
      return { status: 200, body: schedule(context, entityPath, body) };
    case "com.microsoft:cancel-scheduled-message":
      cancelScheduled(context, entityPath, body);
      return { status: 200 };
    default:
      throw new AmqpFailure(
        Condition.notImplemented,
        `The stand-in does not implement the management operation '${String(operation)}'.`,
        501,
      );
  }
}

export function managementReply(
  context: ManagementContext,
  entityPath: string,
  request: AmqpMessage,
): AmqpMessage {
  const reply: AmqpMessage = {
    correlation_id: request.message_id,
    ...(typeof request.reply_to === "string" ? { to: request.reply_to } : {}),
  };
  try {
    const result = run(context, entityPath, request.application_properties?.operation, bodyOf(request));
    reply.application_properties = { statusCode: result.status };
    if (result.body) reply.body = result.body;
  } catch (error) {
    const failure =
      error instanceof AmqpFailure
        ? error
        : new AmqpFailure(
            Condition.internalError,
            error instanceof Error ? error.message : String(error),
            500,
          );
    reply.application_properties = {
      statusCode: failure.statusCode,
      statusDescription: failure.message,
      errorCondition: failure.condition,
    };
  }
  return reply;
}
