import type { Connection, Container, EventContext, Receiver, Sender } from "rhea";
import { CBS_ADDRESS, parseAddress } from "./addresses";
import { type AmqpMessage, asRheaMessage, messagesOfTransfer } from "./amqp-message";
import { cbsReply } from "./cbs";
import { DeliveryLink, type OutcomeEvent } from "./delivery-link";
import type { EntityStore, MessageQueue } from "./entity-store";
import { AmqpFailure, Condition, notFound } from "./errors";
import type { Faults } from "./faults";
import { managementReply } from "./management";

/**
 * What each link the SDK attaches is for, and the rhea events that drive them: client receivers
 * become DeliveryLinks on a queue/subscription/DLQ, client senders feed a queue or topic, and
 * the `$cbs` / `$management` link pairs answer requests on the sender named by `reply_to`.
 */

/** Attach fields rhea lets a listener set only through the link's local attach frame. */
interface LocalAttach {
  local: { attach: Record<string, unknown> };
}

type ReceiverRole = { kind: "request"; handle: (request: AmqpMessage) => AmqpMessage } | { kind: "entity" };

const MANAGEMENT_SUFFIX = /\/\$management$/i;

function setLocal(link: Sender | Receiver, fields: Record<string, unknown>): void {
  Object.assign((link as unknown as LocalAttach).local.attach, fields);
}

/** Answers the attach, then detaches with the error: how Service Bus refuses a link. */
function refuse(link: Sender | Receiver, failure: AmqpFailure | undefined): void {
  if (failure) link.close(failure.toAmqpError());
}

export class LinkRouter {
  private readonly deliveryLinks = new Set<DeliveryLink>();
  private readonly linkOfSender = new Map<Sender, DeliveryLink>();
  /** Senders that carry replies of `$cbs` and `$management`. */
  private readonly replySenders = new Set<Sender>();
  private readonly receiverRoles = new Map<Receiver, ReceiverRole>();

  constructor(
    private readonly store: EntityStore,
    private readonly faults: Faults,
    private readonly maxMessageSize: number,
  ) {}

  /** Subscribes to the container's events; `guarded` runs each handler (and catches its bugs). */
  listen(container: Container, guarded: (action: () => void) => void): void {
    const on = (event: string, handler: (context: EventContext) => void) =>
      container.on(event, (context: EventContext) => guarded(() => handler(context)));
    on("sender_open", ({ sender }) => sender && refuse(sender, this.openSender(sender)));
    on("receiver_open", ({ receiver }) => receiver && refuse(receiver, this.openReceiver(receiver)));
    on("message", (context) => this.onMessage(context));
    on("sendable", ({ sender }) => sender && this.linkOfSender.get(sender)?.pump());
    on("sender_draining", ({ sender }) => sender && this.linkOfSender.get(sender)?.drain());
    for (const event of ["accepted", "rejected", "modified", "released"] as const satisfies OutcomeEvent[]) {
      on(event, ({ sender, delivery }) => {
        const link = sender && this.linkOfSender.get(sender);
        if (link && delivery) link.onOutcome(event, delivery);
      });
    }
    on("sender_close", ({ sender }) => {
      if (!sender) return;
      this.replySenders.delete(sender);
      const link = this.linkOfSender.get(sender);
      if (link) this.forgetDeliveryLinks([link]);
    });
    on("receiver_close", ({ receiver }) => receiver && this.receiverRoles.delete(receiver));
    on("connection_close", ({ connection }) => this.forgetConnection(connection));
    on("disconnected", ({ connection }) => this.forgetConnection(connection));
    // Link, session and connection errors are the client's business; without listeners rhea
    // would rethrow them on the container.
    for (const event of ["error", "connection_error", "session_error", "sender_error", "receiver_error"]) {
      container.on(event, () => {});
    }
  }

  pumpQueue(queue: MessageQueue): void {
    for (const link of this.deliveryLinks) if (link.queue === queue) link.pump();
  }

  pumpAll(): void {
    for (const link of this.deliveryLinks) link.pump();
  }

  /** Forgets the links of one connection, or of all of them. */
  forgetConnection(connection: Connection | "all"): void {
    const ofIt = (link: { connection: Connection }) => connection === "all" || link.connection === connection;
    this.forgetDeliveryLinks([...this.deliveryLinks].filter((link) => ofIt(link.sender)));
    for (const sender of [...this.replySenders]) if (ofIt(sender)) this.replySenders.delete(sender);
    for (const receiver of [...this.receiverRoles.keys()])
      if (ofIt(receiver)) this.receiverRoles.delete(receiver);
  }

  /** Unregisters first, so handing the messages back cannot pump them into a link that is going. */
  private forgetDeliveryLinks(links: DeliveryLink[]): void {
    for (const link of links) {
      this.deliveryLinks.delete(link);
      this.linkOfSender.delete(link.sender);
    }
    for (const link of links) link.detach();
    for (const queue of new Set(links.map((link) => link.queue))) this.pumpQueue(queue);
  }

  /** Sets up the broker's side of a client receiver; returns why it is refused, if it is. */
  private openSender(sender: Sender): AmqpFailure | undefined {
    const address = sender.source?.address ?? "";
    sender.set_source({ address });
    setLocal(sender, { snd_settle_mode: sender.snd_settle_mode, rcv_settle_mode: sender.rcv_settle_mode });
    if (address === CBS_ADDRESS) {
      this.replySenders.add(sender);
      return undefined;
    }
    if (parseAddress(address)?.management) {
      if (!this.store.exists(address.replace(MANAGEMENT_SUFFIX, ""))) return notFound(address);
      this.replySenders.add(sender);
      return undefined;
    }
    const queue = this.store.source(address);
    if (!queue) return notFound(address);
    if (
      (sender.source as { filter?: Record<string, unknown> } | undefined)?.filter?.[
        "com.microsoft:session-filter"
      ] !== undefined
    ) {
      return new AmqpFailure(Condition.notImplemented, "The stand-in has no session-enabled entities.", 501);
    }
    // The SDK asks for settled deliveries (snd-settle-mode settled) in receive-and-delete mode.
    const link = new DeliveryLink(sender, queue, this.store, this.faults, sender.snd_settle_mode === 1);
    this.deliveryLinks.add(link);
    this.linkOfSender.set(sender, link);
    return undefined;
  }

  /** Sets up the broker's side of a client sender; returns why it is refused, if it is. */
  private openReceiver(receiver: Receiver): AmqpFailure | undefined {
    const address = receiver.target?.address ?? "";
    receiver.set_target({ address });
    // The SDK sizes its message batches by the max-message-size of this attach.
    setLocal(receiver, { max_message_size: this.maxMessageSize });
    if (address === CBS_ADDRESS) {
      this.receiverRoles.set(receiver, { kind: "request", handle: cbsReply });
      return undefined;
    }
    if (parseAddress(address)?.management) {
      // The node's entity, dead-letter subqueue included: `q/$DeadLetterQueue/$management` peeks the DLQ.
      const entityAddress = address.replace(MANAGEMENT_SUFFIX, "");
      if (!this.store.exists(entityAddress)) return notFound(address);
      const context = { store: this.store, faults: this.faults };
      this.receiverRoles.set(receiver, {
        kind: "request",
        handle: (request) => managementReply(context, entityAddress, request),
      });
      return undefined;
    }
    if (!this.store.sendTarget(address)) {
      return this.store.exists(address)
        ? new AmqpFailure(
            Condition.notAllowed,
            `Cannot send to '${address}': only queues and topics take messages.`,
          )
        : notFound(address);
    }
    this.receiverRoles.set(receiver, { kind: "entity" });
    return undefined;
  }

  private onMessage({ receiver, delivery, message }: EventContext): void {
    if (!receiver || !delivery) return;
    const role = this.receiverRoles.get(receiver);
    if (!role) {
      delivery.reject({ condition: Condition.notFound, description: "link is not attached" });
      return;
    }
    if (role.kind === "request") {
      const request = message as AmqpMessage;
      delivery.accept();
      this.reply(receiver.connection, request.reply_to, role.handle(request));
      return;
    }
    const address = receiver.target?.address ?? "";
    const target = this.store.sendTarget(address);
    if (!target) {
      delivery.reject(notFound(address).toAmqpError());
      return;
    }
    try {
      this.store.enqueue(target, messagesOfTransfer(message, delivery.format));
      delivery.accept();
    } catch (error) {
      delivery.reject({
        condition: Condition.internalError,
        description: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** The SDK's reply receivers are named after `reply_to` ($management's also target it). */
  private reply(connection: Connection, replyTo: string | undefined, response: AmqpMessage): void {
    for (const sender of this.replySenders) {
      if (sender.connection !== connection) continue;
      if (sender.name === replyTo || sender.target?.address === replyTo) {
        sender.send(asRheaMessage(response));
        return;
      }
    }
  }
}
