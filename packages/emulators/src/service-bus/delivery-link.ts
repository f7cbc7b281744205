import { randomBytes } from "node:crypto";
import type { Delivery, Sender } from "rhea";
import rhea from "rhea";
import { asRheaMessage } from "./amqp-message";
import type { EntityStore, MessageQueue, Settlement } from "./entity-store";
import { AmqpFailure, Condition } from "./errors";
import type { Faults } from "./faults";
import { deliveryTagFor, lockTokenOfTag } from "./lock-token";

/**
 * One receiver of the SDK, seen from the broker: a rhea sender attached to a queue, subscription
 * or dead-letter queue. It hands out as many messages as the client gave credit for, answers
 * drains, and turns the client's dispositions into settlements of the locked messages.
 */

/** rhea internals the typings leave out: link credit and the session's outgoing bookkeeping. */
interface SenderInternals {
  credit: number;
  session: { outgoing: { next_pending_delivery: number; available(): number } };
}

/** The outcome factories rhea has but does not type. */
interface OutcomeFactories {
  accepted(): { described(): unknown };
  rejected(fields: { error?: { condition: string; description?: string } }): { described(): unknown };
  modified(fields: Record<string, unknown>): { described(): unknown };
  released(): { described(): unknown };
}
const outcomes = rhea.message as unknown as OutcomeFactories;

export type OutcomeEvent = "accepted" | "rejected" | "modified" | "released";

/** Fields of the client's outcome, as rhea decodes them. */
interface RemoteOutcome {
  error?: { condition?: string; description?: string; info?: Record<string, unknown> };
  undeliverable_here?: boolean;
  message_annotations?: Record<string, unknown>;
}

function settlementOf(event: OutcomeEvent, outcome: RemoteOutcome | undefined): Settlement {
  switch (event) {
    case "accepted":
      return { kind: "complete" };
    case "released":
      return { kind: "release" };
    case "modified":
      // The SDK abandons with undeliverable_here false and defers with it true; both carry
      // `propertiesToModify` as the outcome's message annotations.
      return outcome?.undeliverable_here
        ? { kind: "defer", properties: outcome.message_annotations }
        : { kind: "abandon", properties: outcome?.message_annotations };
    case "rejected": {
      const { DeadLetterReason, DeadLetterErrorDescription, ...properties } = outcome?.error?.info ?? {};
      return {
        kind: "deadLetter",
        properties: Object.fromEntries(
          Object.entries(properties).filter(([, v]) => v !== undefined && v !== null),
        ),
        ...(typeof DeadLetterReason === "string" ? { reason: DeadLetterReason } : {}),
        ...(typeof DeadLetterErrorDescription === "string"
          ? { description: DeadLetterErrorDescription }
          : {}),
      };
    }
  }
}

/** The settled outcome the broker answers with; an error in it is what the SDK reports as failure. */
function reply(settlement: Settlement): unknown {
  switch (settlement.kind) {
    case "complete":
      return outcomes.accepted().described();
    case "deadLetter":
      return outcomes.rejected({}).described();
    case "release":
      return outcomes.released().described();
    default:
      return outcomes.modified({ undeliverable_here: settlement.kind === "defer" }).described();
  }
}

export class DeliveryLink {
  /** Deliveries handed to rhea but maybe not yet on the wire: `[delivery id, lock token]`. */
  private readonly queued: Array<[number, string | undefined]> = [];

  constructor(
    readonly sender: Sender,
    readonly queue: MessageQueue,
    private readonly store: EntityStore,
    private readonly faults: Faults,
    /** receive-and-delete: deliveries go out settled and the message is gone at once. */
    private readonly receiveAndDelete: boolean,
  ) {}

  private get internals(): SenderInternals {
    return this.sender as unknown as SenderInternals;
  }

  /**
   * rhea only counts a delivery against the credit when it writes the transfer, so what was sent
   * in this turn and is still queued must be subtracted by hand.
   */
  private availableCredit(): number {
    const { credit, session } = this.internals;
    const next = session.outgoing.next_pending_delivery;
    while (this.queued.length > 0 && (this.queued[0]?.[0] ?? 0) < next) this.queued.shift();
    return Math.min(credit - this.queued.length, session.outgoing.available());
  }

  /** Sends what the credit allows. */
  pump(): void {
    if (!this.sender.is_open() || this.faults.receivesPaused) return;
    let credit = this.availableCredit();
    while (credit > 0) {
      const message = this.receiveAndDelete
        ? this.store.takeNext(this.queue)
        : this.store.lockNext(this.queue);
      if (!message) return;
      const token = message.lock?.token;
      const tag = token ? deliveryTagFor(token) : randomBytes(16);
      const delivery = this.sender.send(asRheaMessage(this.store.wireMessage(this.queue, message)), tag);
      this.queued.push([delivery.id, token]);
      credit -= 1;
    }
  }

  /**
   * The client asked to drain: send what there is, then give the rest of the credit back.
   * Without the drained flow the SDK's receiveMessages() waits out its drain timeout.
   */
  drain(): void {
    this.pump();
    if (this.availableCredit() > 0) this.sender.set_drained(true);
  }

  /** A disposition from the client: settle the locked message and answer with a settled outcome. */
  onOutcome(event: OutcomeEvent, delivery: Delivery): void {
    if (this.receiveAndDelete) return;
    const token = Buffer.isBuffer(delivery.tag) ? lockTokenOfTag(delivery.tag) : undefined;
    if (!token) return;
    const settlement = settlementOf(event, delivery.remote_state as RemoteOutcome | undefined);
    try {
      const refusal = this.faults.takeSettlementRefusal();
      if (refusal) throw refusal;
      this.store.settle(token, settlement);
      delivery.update(true, reply(settlement));
    } catch (error) {
      const failure =
        error instanceof AmqpFailure
          ? error
          : new AmqpFailure(Condition.internalError, error instanceof Error ? error.message : String(error));
      delivery.update(true, outcomes.rejected({ error: failure.toAmqpError() }).described());
    }
  }

  /**
   * The link or its connection is gone. Messages still waiting in rhea never reached the client,
   * so their locks end now without counting an attempt; delivered ones stay locked until they
   * expire, as on Service Bus.
   */
  detach(): void {
    this.availableCredit(); // drops what did go out
    for (const [, token] of this.queued.splice(0)) {
      if (!token) continue;
      try {
        this.store.settle(token, { kind: "release" });
      } catch {
        // Already settled or expired: nothing to hand back.
      }
    }
  }
}
