import { type AmqpErrorFields, AmqpFailure, Condition } from "./errors";

/**
 * Failures tests can ask for. Settlement refusals use a condition the SDK does not retry by
 * default (`amqp:not-allowed`, surfaced as a `ServiceBusError` with code `GeneralError`): a
 * retryable one would make the SDK wait `retryDelayInMs` (30 s by default) and then fail anyway,
 * because a delivery that was answered cannot be settled again.
 */
export const DEFAULT_SETTLEMENT_REFUSAL: AmqpErrorFields = {
  condition: Condition.notAllowed,
  description: "The stand-in refused this settlement (fault injection).",
};

export class Faults {
  private readonly refusals: AmqpErrorFields[] = [];
  /** While set, receivers get no messages (their drains are still answered). */
  receivesPaused = false;

  /** The next `count` settlements (over a link or `$management`) fail with `error`. */
  refuseSettlement(count: number, error: AmqpErrorFields = DEFAULT_SETTLEMENT_REFUSAL): void {
    for (let i = 0; i < count; i++) this.refusals.push(error);
  }

  /** The failure for this settlement, if one was asked for; the message is left as it was. */
  takeSettlementRefusal(): AmqpFailure | undefined {
    const error = this.refusals.shift();
    if (!error) return undefined;
    return new AmqpFailure(error.condition, error.description ?? "settlement refused", 500);
  }

  get pendingRefusals(): number {
    return this.refusals.length;
  }
}
