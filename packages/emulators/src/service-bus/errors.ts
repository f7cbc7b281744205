/**
 * The AMQP error conditions the stand-in answers with. The SDK turns each into a `ServiceBusError`
 * code through `@azure/core-amqp`'s condition map, so the condition decides what callers see.
 */
export const Condition = {
  /** → `MessagingEntityNotFound`, but only with a description the SDK recognises (see `notFound`). */
  notFound: "amqp:not-found",
  /** → `MessageLockLost`; not retried by the SDK. */
  messageLockLost: "com.microsoft:message-lock-lost",
  /** → `ServiceBusy`; the SDK retries it (after `retryDelayInMs`, 30 s by default). */
  serverBusy: "com.microsoft:server-busy",
  notAllowed: "amqp:not-allowed",
  notImplemented: "amqp:not-implemented",
  internalError: "amqp:internal-error",
  deadLetter: "com.microsoft:dead-letter",
} as const;

/** An AMQP `error` as it travels in detach frames, rejected outcomes and management replies. */
export interface AmqpErrorFields {
  condition: string;
  description?: string;
}

/** A failure to report to the client as an AMQP error (and, on `$management`, as a status code). */
export class AmqpFailure extends Error {
  constructor(
    readonly condition: string,
    description: string,
    /** Status code of the same failure on a request/response (`$management`) link. */
    readonly statusCode = 500,
  ) {
    super(description);
  }

  toAmqpError(): AmqpErrorFields {
    return { condition: this.condition, description: this.message };
  }
}

export function lockLost(): AmqpFailure {
  return new AmqpFailure(
    Condition.messageLockLost,
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
    410,
  );
}

/**
 * `amqp:not-found` alone maps to `ServiceCommunicationError`; core-amqp only says
 * `MessagingEntityNotFound` when the description reads "The messaging entity … could not be found".
 */
export function notFound(address: string): AmqpFailure {
  return new AmqpFailure(
    Condition.notFound,
    `The messaging entity '${address}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
    404,
  );
}
