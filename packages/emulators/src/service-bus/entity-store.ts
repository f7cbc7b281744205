import { randomUUID } from "node:crypto";
import { deadLetterPath, entityKey, parseAddress, subscriptionPath } from "./addresses";
import { type AmqpMessage, Annotation, MessageState, readableBody, stamped, toMillis } from "./amqp-message";
import { AmqpFailure, Condition, lockLost, notFound } from "./errors";
import { newLockToken } from "./lock-token";
import {
  createRule,
  defaultRule,
  type RuleSpec,
  ruleMatches,
  type SubscriptionRule,
} from "./subscription-rules";

/**
 * The broker's state: queues, topics and their subscriptions, each with a dead-letter subqueue,
 * the messages they hold and the locks on them. No AMQP here; `now` drives every lock and
 * schedule, and `onAvailable` tells the broker a queue may have something to deliver.
 */
export const DEFAULT_LOCK_DURATION_MS = 60_000;
export const DEFAULT_MAX_DELIVERY_COUNT = 10;

export interface EntityOptions {
  name: string;
  /** Delivery attempts before a message is dead-lettered with `MaxDeliveryCountExceeded` (10). */
  maxDeliveryCount?: number;
  /** How long a peek-lock lasts (60 s). */
  lockDurationMs?: number;
}

export interface SubscriptionOptions extends EntityOptions {
  /** The subscription's rules; without them it has `$Default` (every message). */
  rules?: RuleSpec[];
}

export interface TopicOptions {
  name: string;
  subscriptions: Array<string | SubscriptionOptions>;
}

export interface StoredMessage {
  sequenceNumber: number;
  enqueuedAt: number;
  /** Scheduled enqueue time; the message cannot be received before it. */
  availableAt: number;
  /** Prior delivery attempts (abandoned or lock expired), the AMQP header's `delivery-count`. */
  deliveryCount: number;
  deferred: boolean;
  lock: { token: string; until: number } | undefined;
  message: AmqpMessage;
}

export type MessageStatus = "active" | "locked" | "deferred" | "scheduled";

/** What a settlement asks for, whether it came over a receiver link or `$management`. */
export type Settlement =
  | { kind: "complete" }
  | { kind: "abandon"; properties?: Record<string, unknown> }
  /** Handed back without counting as a delivery attempt (AMQP `released`). */
  | { kind: "release" }
  | { kind: "defer"; properties?: Record<string, unknown> }
  | { kind: "deadLetter"; reason?: string; description?: string; properties?: Record<string, unknown> };

interface SequenceCounter {
  value: number;
}

/** A queue, a subscription, or the dead-letter subqueue of either. */
export class MessageQueue {
  /** Insertion order is delivery order. */
  readonly messages = new Map<number, StoredMessage>();
  /** A subscription's rules by lower-cased name (names ignore case); empty for anything else. */
  readonly rules = new Map<string, SubscriptionRule>();

  constructor(
    /** e.g. `orders`, `events/Subscriptions/audit`, `orders/$DeadLetterQueue`. */
    readonly path: string,
    readonly maxDeliveryCount: number,
    readonly lockDurationMs: number,
    readonly sequence: SequenceCounter,
    /** Undefined for a dead-letter subqueue itself. */
    readonly deadLetterQueue: MessageQueue | undefined,
  ) {}

  statusOf(message: StoredMessage, now: number): MessageStatus {
    if (message.lock) return "locked";
    if (message.deferred) return "deferred";
    return message.availableAt > now ? "scheduled" : "active";
  }
}

export interface StoredMessageView {
  sequenceNumber: number;
  status: MessageStatus;
  deliveryCount: number;
  enqueuedAt: Date;
  lockedUntil?: Date;
  messageId?: unknown;
  /** Decoded as the SDK decodes it: JSON when the data is JSON, else a Buffer. */
  body: unknown;
  subject?: string;
  correlationId?: unknown;
  contentType?: string;
  applicationProperties: Record<string, unknown>;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  /** The message as stored, for assertions on anything else. */
  raw: AmqpMessage;
}

export interface EntityDepth {
  active: number;
  locked: number;
  deferred: number;
  scheduled: number;
  deadLetter: number;
}

export interface Topic {
  name: string;
  sequence: SequenceCounter;
  subscriptions: MessageQueue[];
}

export type SendTarget = { kind: "queue"; queue: MessageQueue } | { kind: "topic"; topic: Topic };

function settingsOf(spec: string | EntityOptions): Required<EntityOptions> {
  const options = typeof spec === "string" ? { name: spec } : spec;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.name)) {
    throw new Error(`invalid Service Bus entity name '${options.name}'`);
  }
  return {
    name: options.name,
    maxDeliveryCount: options.maxDeliveryCount ?? DEFAULT_MAX_DELIVERY_COUNT,
    lockDurationMs: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
  };
}

/** A copy that can be changed (properties, annotations) without touching the original. */
function copyOf(message: AmqpMessage): AmqpMessage {
  return {
    ...message,
    message_annotations: { ...message.message_annotations },
    application_properties: { ...message.application_properties },
  };
}

export class EntityStore {
  private readonly queues = new Map<string, MessageQueue>();
  private readonly topics = new Map<string, Topic>();
  private readonly locks = new Map<string, { queue: MessageQueue; message: StoredMessage }>();
  /** Messages whose scheduled enqueue time has not come yet. */
  private readonly scheduled = new Set<{ queue: MessageQueue; message: StoredMessage }>();

  constructor(
    private readonly now: () => number,
    private readonly onAvailable: (queue: MessageQueue) => void,
  ) {}

  createQueue(spec: string | EntityOptions): void {
    const options = settingsOf(spec);
    this.assertFree(options.name);
    this.addQueue(options.name, options, { value: 0 });
  }

  createTopic(spec: TopicOptions): void {
    const name = settingsOf(spec.name).name;
    this.assertFree(name);
    const topic: Topic = { name, sequence: { value: 0 }, subscriptions: [] };
    this.topics.set(entityKey(name), topic);
    for (const subscription of spec.subscriptions) this.createSubscription(name, subscription);
  }

  createSubscription(topicName: string, spec: string | SubscriptionOptions): void {
    const topic = this.topics.get(entityKey(topicName));
    if (!topic) throw new Error(`no topic '${topicName}'`);
    const options = settingsOf(spec);
    const path = subscriptionPath(topic.name, options.name);
    if (this.queues.has(entityKey(path))) throw new Error(`subscription '${path}' already exists`);
    const at = new Date(this.now());
    const specs = typeof spec === "string" ? undefined : spec.rules;
    // Checked before the subscription exists, so a bad rule leaves nothing half made.
    const rules = specs === undefined ? [defaultRule(at)] : specs.map((rule) => createRule(rule, at));
    const queue = this.addQueue(path, options, topic.sequence);
    for (const rule of rules) {
      const key = rule.name.toLowerCase();
      if (queue.rules.has(key)) {
        this.queues.delete(entityKey(path));
        throw new Error(`subscription '${path}' names rule '${rule.name}' twice`);
      }
      queue.rules.set(key, rule);
    }
    topic.subscriptions.push(queue);
  }

  topic(name: string): Topic | undefined {
    return this.topics.get(entityKey(name));
  }

  /** A topic's subscription by name, or undefined. */
  subscription(topicName: string, name: string): MessageQueue | undefined {
    const topic = this.topic(topicName);
    return topic && this.queues.get(entityKey(subscriptionPath(topic.name, name)));
  }

  private assertFree(name: string): void {
    if (this.queues.has(entityKey(name)) || this.topics.has(entityKey(name))) {
      throw new Error(`an entity named '${name}' already exists`);
    }
  }

  private addQueue(path: string, options: Required<EntityOptions>, sequence: SequenceCounter): MessageQueue {
    const deadLetter = new MessageQueue(
      deadLetterPath(path),
      Number.POSITIVE_INFINITY,
      options.lockDurationMs,
      sequence,
      undefined,
    );
    const queue = new MessageQueue(
      path,
      options.maxDeliveryCount,
      options.lockDurationMs,
      sequence,
      deadLetter,
    );
    this.queues.set(entityKey(path), queue);
    return queue;
  }

  /** Where a sender may send: a queue or a topic (not a subscription or a dead-letter queue). */
  sendTarget(address: string): SendTarget | undefined {
    const parsed = parseAddress(address);
    if (!parsed || parsed.deadLetter || parsed.management) return undefined;
    const topic = this.topics.get(entityKey(parsed.entityPath));
    if (topic) return { kind: "topic", topic };
    const queue = this.queues.get(entityKey(parsed.entityPath));
    return queue && !queue.path.includes("/") ? { kind: "queue", queue } : undefined;
  }

  /** Where a receiver may receive: a queue, a subscription, or the dead-letter queue of either. */
  source(address: string): MessageQueue | undefined {
    const parsed = parseAddress(address);
    if (!parsed) return undefined;
    const queue = this.queues.get(entityKey(parsed.entityPath));
    return parsed.deadLetter ? queue?.deadLetterQueue : queue;
  }

  /** Whether the address names an entity at all (a topic has a `$management` node too). */
  exists(address: string): boolean {
    const parsed = parseAddress(address);
    if (!parsed) return false;
    return (
      this.source(address) !== undefined ||
      (!parsed.deadLetter && this.topics.has(entityKey(parsed.entityPath)))
    );
  }

  requireSource(address: string): MessageQueue {
    const queue = this.source(address);
    if (!queue) throw notFound(address);
    return queue;
  }

  /** Stores messages sent to a queue or topic; returns their sequence numbers. */
  enqueue(target: SendTarget, messages: AmqpMessage[]): number[] {
    const now = this.now();
    const sequenceNumbers: number[] = [];
    const sequence = target.kind === "queue" ? target.queue.sequence : target.topic.sequence;
    const touched = new Set<MessageQueue>();
    for (const original of messages) {
      const sequenceNumber = ++sequence.value;
      sequenceNumbers.push(sequenceNumber);
      const message = copyOf(original);
      // Service Bus gives every message an id; the SDK leaves it unset when the caller did.
      message.message_id ??= randomUUID().replace(/-/g, "");
      const scheduled = toMillis(message.message_annotations?.[Annotation.scheduledEnqueueTime]);
      // A topic copies the message to each subscription with a rule that matches it.
      const receivers =
        target.kind === "queue"
          ? [target.queue]
          : target.topic.subscriptions.filter((queue) =>
              [...queue.rules.values()].some((rule) => ruleMatches(rule, message)),
            );
      for (const queue of receivers) {
        touched.add(queue);
        const stored: StoredMessage = {
          sequenceNumber,
          enqueuedAt: now,
          availableAt: scheduled ?? now,
          deliveryCount: 0,
          deferred: false,
          lock: undefined,
          message: receivers.length > 1 ? copyOf(message) : message,
        };
        queue.messages.set(sequenceNumber, stored);
        if (stored.availableAt > now) this.scheduled.add({ queue, message: stored });
      }
    }
    for (const queue of touched) this.onAvailable(queue);
    return sequenceNumbers;
  }

  /** Puts a message straight into an entity's dead-letter queue (a test helper's way in). */
  deadLetterDirectly(address: string, message: AmqpMessage, reason: string, description: string): number {
    const queue = this.requireSource(address);
    const deadLetter = queue.deadLetterQueue;
    if (!deadLetter) throw new Error(`'${address}' is already a dead-letter queue`);
    const sequenceNumber = ++queue.sequence.value;
    const now = this.now();
    const stored: StoredMessage = {
      sequenceNumber,
      enqueuedAt: now,
      availableAt: now,
      deliveryCount: 0,
      deferred: false,
      lock: undefined,
      message: { ...copyOf(message), message_id: message.message_id ?? randomUUID().replace(/-/g, "") },
    };
    this.moveToDeadLetter(queue, stored, { kind: "deadLetter", reason, description });
    return sequenceNumber;
  }

  /** Locks the next receivable message for a peek-lock receiver. */
  lockNext(queue: MessageQueue): StoredMessage | undefined {
    const message = this.nextAvailable(queue);
    if (message) this.lock(queue, message);
    return message;
  }

  /** Removes the next receivable message for a receive-and-delete receiver. */
  takeNext(queue: MessageQueue): StoredMessage | undefined {
    const message = this.nextAvailable(queue);
    if (message) queue.messages.delete(message.sequenceNumber);
    return message;
  }

  private nextAvailable(queue: MessageQueue): StoredMessage | undefined {
    const now = this.now();
    for (const message of queue.messages.values()) {
      if (!message.lock && !message.deferred && message.availableAt <= now) return message;
    }
    return undefined;
  }

  private lock(queue: MessageQueue, message: StoredMessage): void {
    const token = newLockToken();
    message.lock = { token, until: this.now() + queue.lockDurationMs };
    this.locks.set(token, { queue, message });
  }

  /** Finds a live lock; an expired one is released on the spot and reported as lost. */
  private liveLock(token: string): { queue: MessageQueue; message: StoredMessage } {
    const entry = this.locks.get(token);
    if (!entry) throw lockLost();
    if ((entry.message.lock?.until ?? 0) <= this.now()) {
      this.expire(entry.queue, entry.message);
      throw lockLost();
    }
    return entry;
  }

  settle(token: string, settlement: Settlement): void {
    const { queue, message } = this.liveLock(token);
    if (settlement.kind === "deadLetter" && !queue.deadLetterQueue) {
      throw new AmqpFailure(
        Condition.notAllowed,
        "A dead-lettered message cannot be dead-lettered again.",
        400,
      );
    }
    if ("properties" in settlement && settlement.properties) {
      message.message.application_properties = {
        ...message.message.application_properties,
        ...settlement.properties,
      };
    }
    switch (settlement.kind) {
      case "complete":
        this.unlock(message);
        queue.messages.delete(message.sequenceNumber);
        return;
      case "abandon":
        this.releaseLock(queue, message, true);
        return;
      case "release":
        this.releaseLock(queue, message, false);
        return;
      case "defer":
        this.unlock(message);
        message.deferred = true;
        return;
      case "deadLetter":
        this.unlock(message);
        queue.messages.delete(message.sequenceNumber);
        this.moveToDeadLetter(queue, message, settlement);
        return;
    }
  }

  /** Extends a live lock by the entity's lock duration; returns the new expiry. */
  renewLock(token: string): number {
    const { queue, message } = this.liveLock(token);
    const until = this.now() + queue.lockDurationMs;
    if (message.lock) message.lock.until = until;
    return until;
  }

  /** Locks deferred messages by sequence number (`receiveDeferredMessages`). */
  lockDeferred(queue: MessageQueue, sequenceNumbers: number[]): StoredMessage[] {
    const found: StoredMessage[] = [];
    for (const sequenceNumber of sequenceNumbers) {
      const message = queue.messages.get(sequenceNumber);
      if (!message?.deferred || message.lock) {
        throw new AmqpFailure(
          "com.microsoft:message-not-found",
          `Failed to lock one or more specified messages. Either the message is not deferred or is locked (sequence number ${sequenceNumber}).`,
          404,
        );
      }
      this.lock(queue, message);
      found.push(message);
    }
    return found;
  }

  /** Cancels scheduled messages of a queue or topic by sequence number. */
  cancelScheduled(target: SendTarget, sequenceNumbers: number[]): void {
    const receivers = new Set(target.kind === "queue" ? [target.queue] : target.topic.subscriptions);
    const cancelled = new Set(sequenceNumbers);
    for (const entry of [...this.scheduled]) {
      if (receivers.has(entry.queue) && cancelled.has(entry.message.sequenceNumber)) {
        entry.queue.messages.delete(entry.message.sequenceNumber);
        this.scheduled.delete(entry);
      }
    }
  }

  private unlock(message: StoredMessage): void {
    if (message.lock) this.locks.delete(message.lock.token);
    message.lock = undefined;
  }

  /** Ends a lock; a counted attempt past the entity's maximum dead-letters the message. */
  private releaseLock(queue: MessageQueue, message: StoredMessage, countAttempt: boolean): void {
    this.unlock(message);
    if (countAttempt) message.deliveryCount += 1;
    if (queue.deadLetterQueue && message.deliveryCount >= queue.maxDeliveryCount) {
      queue.messages.delete(message.sequenceNumber);
      this.moveToDeadLetter(queue, message, {
        kind: "deadLetter",
        reason: "MaxDeliveryCountExceeded",
        description: `Message could not be consumed after ${queue.maxDeliveryCount} delivery attempts.`,
      });
    }
    this.onAvailable(queue);
  }

  private expire(queue: MessageQueue, message: StoredMessage): void {
    this.releaseLock(queue, message, true);
  }

  private moveToDeadLetter(
    queue: MessageQueue,
    message: StoredMessage,
    settlement: Extract<Settlement, { kind: "deadLetter" }>,
  ): void {
    const deadLetter = queue.deadLetterQueue;
    if (!deadLetter) return;
    const moved = copyOf(message.message);
    const properties: Record<string, unknown> = { ...moved.application_properties, ...settlement.properties };
    if (settlement.reason !== undefined) properties.DeadLetterReason = settlement.reason;
    if (settlement.description !== undefined) properties.DeadLetterErrorDescription = settlement.description;
    moved.application_properties = properties;
    moved.message_annotations = { ...moved.message_annotations, [Annotation.deadLetterSource]: queue.path };
    deadLetter.messages.set(message.sequenceNumber, {
      ...message,
      availableAt: Math.min(message.availableAt, this.now()),
      deferred: false,
      lock: undefined,
      message: moved,
    });
    this.onAvailable(deadLetter);
  }

  /** Releases expired locks and announces scheduled messages that came due. */
  sweep(): void {
    const now = this.now();
    for (const { queue, message } of [...this.locks.values()]) {
      if ((message.lock?.until ?? 0) <= now) this.expire(queue, message);
    }
    for (const entry of [...this.scheduled]) {
      if (entry.message.availableAt > now) continue;
      this.scheduled.delete(entry);
      this.onAvailable(entry.queue);
    }
  }

  /** When the next lock expires or scheduled message comes due, if ever. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const consider = (at: number) => {
      if (next === undefined || at < next) next = at;
    };
    for (const { message } of this.locks.values()) if (message.lock) consider(message.lock.until);
    for (const { message } of this.scheduled) consider(message.availableAt);
    return next;
  }

  /** Messages held by a queue, subscription or dead-letter queue, by sequence number. */
  messagesOf(queue: MessageQueue): StoredMessage[] {
    return [...queue.messages.values()].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  /** The message as a transfer or peek carries it. */
  wireMessage(queue: MessageQueue, message: StoredMessage): AmqpMessage {
    const now = this.now();
    const status = queue.statusOf(message, now);
    return stamped(message.message, {
      sequenceNumber: message.sequenceNumber,
      enqueuedAt: message.enqueuedAt,
      deliveryCount: message.deliveryCount,
      lockedUntil: message.lock?.until,
      state: message.deferred
        ? MessageState.deferred
        : status === "scheduled"
          ? MessageState.scheduled
          : MessageState.active,
    });
  }

  view(queue: MessageQueue, message: StoredMessage): StoredMessageView {
    const raw = message.message;
    const properties = raw.application_properties ?? {};
    const reason = properties.DeadLetterReason;
    const description = properties.DeadLetterErrorDescription;
    return {
      sequenceNumber: message.sequenceNumber,
      status: queue.statusOf(message, this.now()),
      deliveryCount: message.deliveryCount,
      enqueuedAt: new Date(message.enqueuedAt),
      ...(message.lock ? { lockedUntil: new Date(message.lock.until) } : {}),
      messageId: raw.message_id,
      body: readableBody(raw.body),
      subject: raw.subject,
      correlationId: raw.correlation_id,
      contentType: raw.content_type,
      applicationProperties: properties,
      ...(typeof reason === "string" ? { deadLetterReason: reason } : {}),
      ...(typeof description === "string" ? { deadLetterErrorDescription: description } : {}),
      raw,
    };
  }

  depth(address: string): EntityDepth {
    const queue = this.requireSource(address);
    const now = this.now();
    const depth: EntityDepth = {
      active: 0,
      locked: 0,
      deferred: 0,
      scheduled: 0,
      deadLetter: queue.deadLetterQueue?.messages.size ?? 0,
    };
    for (const message of queue.messages.values()) depth[queue.statusOf(message, now)] += 1;
    return depth;
  }
}
