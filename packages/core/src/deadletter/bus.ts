import type { DeadLetter, EntityRef } from "./dead-letter";

/**
 * The queue, topic or subscription does not exist on the namespace (deleted, renamed, or never
 * created): adapters throw this so use cases can tell it apart without knowing the SDK.
 */
export class EntityNotFoundError extends Error {
  override readonly name = "EntityNotFoundError";
  constructor(
    /** `queue` or `topic/Subscriptions/subscription`. */
    readonly entity: string,
    options?: ErrorOptions,
  ) {
    super(`Service Bus entity '${entity}' does not exist`, options);
  }
}

/** A received message held under a peek-lock until it is settled one way or another. */
export interface LockedMessage {
  message: DeadLetter;
  /**
   * When the lock runs out as the broker last said (renewals move it); undefined when unknown.
   * Settling after that fails: the message is back on the entity for someone else.
   */
  lockedUntil?(): Date | undefined;
  complete(): Promise<void>;
  /** Gives the lock up; the message becomes available again (delivery count + 1). */
  abandon(): Promise<void>;
  deadLetter(reason: string, description: string): Promise<void>;
}

export interface MessageReceiver {
  /**
   * Up to `max` messages; fewer (or none) when the entity runs dry within `waitMs`. Throws
   * `EntityNotFoundError` when the entity does not exist.
   */
  receive(max: number, waitMs: number): Promise<LockedMessage[]>;
  close(): Promise<void>;
}

/** What a sender puts on the bus: the sendable fields of a message, never the broker-set ones. */
export type OutgoingMessage = Pick<DeadLetter, "body"> &
  Partial<
    Pick<
      DeadLetter,
      | "messageId"
      | "contentType"
      | "subject"
      | "correlationId"
      | "sessionId"
      | "partitionKey"
      | "replyTo"
      | "replyToSessionId"
      | "to"
      | "timeToLive"
      | "applicationProperties"
    >
  >;

/** Azure Service Bus as the watcher, the resolver and the failed-requests queue use it. */
export interface Bus {
  /** A peek-lock receiver on the entity, or on its dead-letter subqueue. */
  receiver(connection: string, entity: EntityRef, options: { deadLetter: boolean }): Promise<MessageReceiver>;
  /**
   * Up to `max` messages of the entity's dead-letter subqueue, oldest first, without locking or
   * removing any (a bulk replay's canary looks for its messages there). Throws
   * `EntityNotFoundError` when the entity does not exist.
   */
  peekDeadLetters(connection: string, entity: EntityRef, max: number): Promise<DeadLetter[]>;
  /** Sends to a queue or topic. */
  send(connection: string, target: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * A topic's subscriptions and their rules, through the management API (a subscription replay
   * checks them first). Throws `EntityNotFoundError` when the topic does not exist.
   */
  subscriptionRules(connection: string, topic: string): Promise<SubscriptionRules[]>;
  /** Creates a SQL-filter rule, or gives an existing one this filter (keeping its action). */
  putSqlRule(connection: string, topic: string, subscription: string, rule: SqlRule): Promise<void>;
  close(): Promise<void>;
}

/** One subscription's rules as the management API reports them. */
export interface SubscriptionRules {
  name: string;
  rules: Array<{
    name: string;
    filter: { kind: "sql"; expression: string } | { kind: "correlation"; summary: string };
  }>;
}

export interface SqlRule {
  name: string;
  expression: string;
}
