import {
  isServiceBusError,
  ServiceBusAdministrationClient,
  ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from "@azure/service-bus";
import {
  type Bus,
  EntityNotFoundError,
  type LockedMessage,
  type MessageReceiver,
  type OutgoingMessage,
} from "../../deadletter/bus";
import {
  type DeadLetter,
  type EntityRef,
  entityPath,
  type MessageBody,
  type PropertyValue,
} from "../../deadletter/dead-letter";
import { type AdministrationClientFactory, putSqlRule, readSubscriptionRules } from "./service-bus-rules";

export type ServiceBusClientFactory = (connectionString: string) => ServiceBusClient;

function bodyOf(body: unknown): MessageBody {
  if (body === undefined || body === null) return { kind: "empty" };
  if (typeof body === "string") return { kind: "text", text: body };
  if (body instanceof Uint8Array) return { kind: "bytes", base64: Buffer.from(body).toString("base64") };
  return { kind: "json", value: body };
}

function bodyFor(body: MessageBody): unknown {
  switch (body.kind) {
    case "empty":
      return null;
    case "text":
      return body.text;
    case "bytes":
      return Buffer.from(body.base64, "base64");
    case "json":
      return body.value;
  }
}

/** Application properties may hold dates, longs and binary; the vault keeps JSON values. */
function propertyValue(value: unknown): PropertyValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return String(value);
}

const optional = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

export function toDeadLetter(message: ServiceBusReceivedMessage): DeadLetter {
  return {
    messageId: String(message.messageId ?? ""),
    sequenceNumber: message.sequenceNumber?.toString() ?? "",
    enqueuedTime: (message.enqueuedTimeUtc ?? new Date(0)).toISOString(),
    deliveryCount: message.deliveryCount ?? 0,
    deadLetterReason: optional(message.deadLetterReason),
    deadLetterErrorDescription: optional(message.deadLetterErrorDescription),
    deadLetterSource: optional(message.deadLetterSource),
    body: bodyOf(message.body),
    contentType: optional(message.contentType),
    subject: optional(message.subject),
    correlationId: message.correlationId === undefined ? undefined : String(message.correlationId),
    sessionId: optional(message.sessionId),
    partitionKey: optional(message.partitionKey),
    replyTo: optional(message.replyTo),
    replyToSessionId: optional(message.replyToSessionId),
    to: optional(message.to),
    timeToLive: optional(message.timeToLive),
    applicationProperties: Object.fromEntries(
      Object.entries(message.applicationProperties ?? {}).map(([k, v]) => [k, propertyValue(v)]),
    ),
  };
}

export function toServiceBusMessage(message: OutgoingMessage): ServiceBusMessage {
  const out: ServiceBusMessage = { body: bodyFor(message.body) };
  if (message.messageId !== undefined) out.messageId = message.messageId;
  if (message.contentType !== undefined) out.contentType = message.contentType;
  if (message.subject !== undefined) out.subject = message.subject;
  if (message.correlationId !== undefined) out.correlationId = message.correlationId;
  if (message.sessionId !== undefined) out.sessionId = message.sessionId;
  if (message.partitionKey !== undefined) out.partitionKey = message.partitionKey;
  if (message.replyTo !== undefined) out.replyTo = message.replyTo;
  if (message.replyToSessionId !== undefined) out.replyToSessionId = message.replyToSessionId;
  if (message.to !== undefined) out.to = message.to;
  if (message.timeToLive !== undefined) out.timeToLive = message.timeToLive;
  if (message.applicationProperties !== undefined)
    out.applicationProperties = { ...message.applicationProperties };
  return out;
}

function lockedMessage(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): LockedMessage {
  return {
    message: toDeadLetter(message),
    // The SDK's lock renewer updates `lockedUntilUtc` on the message it renews.
    lockedUntil: () => message.lockedUntilUtc,
    complete: () => receiver.completeMessage(message),
    abandon: () => receiver.abandonMessage(message),
    deadLetter: (reason, description) =>
      receiver.deadLetterMessage(message, {
        deadLetterReason: reason,
        deadLetterErrorDescription: description,
      }),
  };
}

/**
 * The Bus port on `@azure/service-bus`. One client per connection string, kept for the life of
 * the process so warm Lambda invocations reuse the AMQP connection.
 */
export function createServiceBusBus(
  createClient: ServiceBusClientFactory,
  /** e.g. `maxAutoLockRenewalDurationInMs` (the SDK renews held locks for 5 minutes by default). */
  receiverOptions: { maxAutoLockRenewalDurationInMs?: number } = {},
  /** The management API's client (subscription rules); HTTPS, one per connection string. */
  createAdmin: AdministrationClientFactory = (connection) => new ServiceBusAdministrationClient(connection),
): Bus {
  const clients = new Map<string, ServiceBusClient>();
  const senders = new Map<string, ServiceBusSender>();
  const admins = new Map<string, ServiceBusAdministrationClient>();
  const admin = (connection: string) => {
    let existing = admins.get(connection);
    if (!existing) {
      existing = createAdmin(connection);
      admins.set(connection, existing);
    }
    return existing;
  };
  const client = (connection: string) => {
    let existing = clients.get(connection);
    if (!existing) {
      existing = createClient(connection);
      clients.set(connection, existing);
    }
    return existing;
  };
  return {
    async receiver(connection, entity: EntityRef, { deadLetter }): Promise<MessageReceiver> {
      const options = {
        receiveMode: "peekLock" as const,
        ...receiverOptions,
        ...(deadLetter ? { subQueueType: "deadLetter" as const } : {}),
      };
      const receiver =
        entity.kind === "queue"
          ? client(connection).createReceiver(entity.queue, options)
          : client(connection).createReceiver(entity.topic, entity.subscription, options);
      return {
        async receive(max, waitMs) {
          try {
            const messages = await receiver.receiveMessages(max, { maxWaitTimeInMs: waitMs });
            return messages.map((m) => lockedMessage(receiver, m));
          } catch (error) {
            // Service Bus refuses the link of an entity that does not exist (amqp:not-found on attach).
            if (isServiceBusError(error) && error.code === "MessagingEntityNotFound") {
              throw new EntityNotFoundError(entityPath(entity), { cause: error });
            }
            throw error;
          }
        },
        close: () => receiver.close(),
      };
    },
    async peekDeadLetters(connection, entity, max) {
      const options = { receiveMode: "peekLock" as const, subQueueType: "deadLetter" as const };
      const receiver =
        entity.kind === "queue"
          ? client(connection).createReceiver(entity.queue, options)
          : client(connection).createReceiver(entity.topic, entity.subscription, options);
      try {
        const found: DeadLetter[] = [];
        // A peek answers with at most what the broker sends in one go: ask until `max` or the end.
        let from: NonNullable<ServiceBusReceivedMessage["sequenceNumber"]> | undefined;
        while (found.length < max) {
          const page = await receiver.peekMessages(
            Math.min(max - found.length, 250),
            from === undefined ? {} : { fromSequenceNumber: from },
          );
          if (page.length === 0) break;
          found.push(...page.map(toDeadLetter));
          const last = page.at(-1)?.sequenceNumber;
          if (last === undefined) break;
          from = last.add(1);
        }
        return found;
      } catch (error) {
        if (isServiceBusError(error) && error.code === "MessagingEntityNotFound") {
          throw new EntityNotFoundError(entityPath(entity), { cause: error });
        }
        throw error;
      } finally {
        await receiver.close();
      }
    },
    async send(connection, target, messages) {
      // One sender per entity, kept: a bulk replay sends thousands one by one, and a link attach
      // per message cost more than the send itself (the SDK re-attaches a kept sender that broke).
      const key = `${connection}\u0000${target}`;
      let sender = senders.get(key);
      if (!sender) {
        sender = client(connection).createSender(target);
        senders.set(key, sender);
      }
      try {
        await sender.sendMessages(messages.map(toServiceBusMessage));
      } catch (error) {
        // A sender the SDK gave up on (closed, entity gone) is not kept for the next send.
        senders.delete(key);
        await sender.close().catch(() => undefined);
        throw error;
      }
    },
    subscriptionRules: (connection, topic) => readSubscriptionRules(admin(connection), topic),
    putSqlRule: (connection, topic, subscription, rule) =>
      putSqlRule(admin(connection), topic, subscription, rule),
    async close() {
      await Promise.all([...senders.values()].map((sender) => sender.close().catch(() => undefined)));
      senders.clear();
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
      admins.clear();
    },
  };
}

/**
 * The production Bus: the SDK's defaults wait 30 s between retries, and drains have a budget.
 * `managementCa` (SERVICE_BUS_MANAGEMENT_CA) is a PEM certificate the management API's HTTPS
 * client trusts besides the system's: the local broker's stand-in certificate.
 */
export function createDefaultServiceBusBus(options: { managementCa?: string } = {}): Bus {
  const adminOptions = options.managementCa ? { tlsOptions: { ca: options.managementCa } } : {};
  return createServiceBusBus(
    (connection) =>
      new ServiceBusClient(connection, {
        retryOptions: {
          maxRetries: 3,
          retryDelayInMs: 1_000,
          maxRetryDelayInMs: 10_000,
          timeoutInMs: 30_000,
        },
      }),
    {},
    (connection) => new ServiceBusAdministrationClient(connection, adminOptions),
  );
}
