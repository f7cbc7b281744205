import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import rhea, { type ConnectionOptions } from "rhea";
import { createSelfSignedCert, type SelfSignedCert } from "../self-signed-cert";
import { type StandInMessage, toAmqpMessage } from "./amqp-message";
import {
  type EntityDepth,
  type EntityOptions,
  EntityStore,
  type MessageQueue,
  type StoredMessageView,
  type TopicOptions,
} from "./entity-store";
import type { AmqpErrorFields } from "./errors";
import { Faults } from "./faults";
import { LinkRouter } from "./link-router";
import { createManagementHttpHandler } from "./management-http";

/**
 * A loopback Azure Service Bus broker speaking AMQP 1.0, enough for `@azure/service-bus`'s
 * ServiceBusClient with `connectionString`: SASL ANONYMOUS over plain TCP
 * (`UseDevelopmentEmulator=true`), CBS `put-token`, senders (single messages and batches) to
 * queues and topics (every subscription gets a copy, no filters), peek-lock and
 * receive-and-delete receivers on queues, subscriptions and their dead-letter queues, the
 * complete/abandon/defer/dead-letter outcomes, lock expiry and renewal, max delivery count,
 * scheduled messages, and `$management` (see management.ts). Topics copy a message to each
 * subscription with a matching rule (SQL and correlation filters, subscription-rules.ts).
 *
 * The same port speaks HTTPS too, as the service's management API (management-http.ts):
 * `ServiceBusAdministrationClient` derives `https://host:port/…` from the same connection string.
 * The first byte of each connection decides: 0x16 (a TLS ClientHello) goes to the HTTPS server,
 * anything else (AMQP's `AMQP…` header) to the broker. Clients trust `ca`.
 * Sessions, transactions, rule actions, message TTL expiry and duplicate detection are not
 * implemented.
 */
export interface ServiceBusStandInOptions {
  host?: string;
  port?: number;
  queues?: Array<string | EntityOptions>;
  topics?: TopicOptions[];
  /** The broker's clock (enqueue times, locks, schedules); `Date.now` by default. */
  now?: () => number;
  /** Advertised on sender links; the SDK sizes batches by it (256 KB, the Standard tier). */
  maxMessageSizeBytes?: number;
  /** The management API's certificate; a fresh self-signed one by default. */
  tls?: SelfSignedCert;
}

/** The key of the connection string; the management API checks SAS tokens against it. */
const KEY_NAME = "stand-in";
const KEY = "stand-in";
/** The first byte of a TLS record carrying a handshake (the ClientHello). */
const TLS_HANDSHAKE = 0x16;

export interface ServiceBusStandIn {
  host: string;
  port: number;
  /** `Endpoint=sb://host:port;SharedAccessKeyName=…;SharedAccessKey=…;UseDevelopmentEmulator=true`. */
  connectionString: string;
  /** The PEM certificate the management API (HTTPS, same port) presents: pass it as `tlsOptions.ca`. */
  ca: string;
  createQueue(queue: string | EntityOptions): void;
  createTopic(topic: TopicOptions): void;
  /** Enqueues as if a client had sent to the queue or topic. */
  send(entityPath: string, message: StandInMessage): void;
  /** Puts a message straight into the dead-letter queue of a queue or `topic/Subscriptions/sub`. */
  deadLetter(
    entityPath: string,
    message: StandInMessage,
    reason: { reason: string; description: string },
  ): void;
  /**
   * Every message an entity holds (locked, deferred and scheduled ones too), by sequence number.
   * Accepts a queue, `topic/Subscriptions/sub`, or either with `/$DeadLetterQueue`.
   */
  peekAll(entityPath: string): StoredMessageView[];
  /** Counts for an entity; `deadLetter` is the size of its dead-letter queue. */
  depth(entityPath: string): EntityDepth;
  /** Destroys every client socket at once, as a network failure would. */
  dropConnections(): void;
  /** The next `count` settlements fail with `error` (by default `amqp:not-allowed`, not retried). */
  refuseSettlement(count: number, error?: AmqpErrorFields): void;
  /** Stops (or resumes) handing messages to receivers. */
  pauseReceives(paused?: boolean): void;
  /** Client connections currently open. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function startServiceBusStandIn(
  options: ServiceBusStandInOptions = {},
): Promise<ServiceBusStandIn> {
  const now = options.now ?? Date.now;
  const faults = new Faults();
  const store = new EntityStore(now, (queue) => router.pumpQueue(queue));
  const router = new LinkRouter(store, faults, options.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE);
  for (const queue of options.queues ?? []) store.createQueue(queue);
  for (const topic of options.topics ?? []) store.createTopic(topic);
  const sockets = new Set<Socket>();
  let wakeTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /** One timer for the earliest lock expiry or scheduled message. */
  function rearm(): void {
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeTimer = undefined;
    const deadline = store.nextDeadline();
    if (deadline === undefined || closed) return;
    const delay = Math.min(Math.max(deadline - now(), 0) + 1, MAX_TIMER_MS);
    wakeTimer = setTimeout(() => guarded(() => store.sweep()), delay);
    wakeTimer.unref();
  }

  /** Runs an event handler; a bug must not take the broker (or the test process) down. */
  function guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      process.emitWarning(`Service Bus stand-in: ${error instanceof Error ? error.stack : String(error)}`);
    }
    rearm();
  }

  /** Runs a test helper: its errors are the caller's, and locks or schedules it made get timed. */
  function helper<T>(action: () => T): T {
    try {
      return action();
    } finally {
      rearm();
    }
  }

  function requireSource(entityPath: string): MessageQueue {
    store.sweep();
    const queue = store.source(entityPath);
    if (!queue) throw new Error(`no queue, subscription or dead-letter queue '${entityPath}'`);
    return queue;
  }

  const container = rhea.create_container({ id: "service-bus-stand-in" });
  // Abandon and defer both arrive as `modified`; rhea would report them as `released`.
  // Transfers from clients are accepted by hand, once stored.
  const connectionOptions = { treat_modified_as_released: false, autoaccept: false };
  Object.assign(container.options, connectionOptions);
  router.listen(container, guarded);

  const host = options.host ?? "127.0.0.1";
  const tls = options.tls ?? createSelfSignedCert();
  const https = createHttpsServer(
    tls,
    createManagementHttpHandler({ store, keyName: KEY_NAME, key: KEY, now: () => now() }),
  );
  // A client that gives up on the certificate resets the socket; that is its business.
  https.on("tlsClientError", () => {});
  const server: Server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        https.emit("connection", socket);
      } else {
        // What rhea's own `listen` does per socket; its typings leave `accept` out.
        const connection = container.create_connection(connectionOptions as unknown as ConnectionOptions);
        (connection as unknown as { accept(socket: Socket): void }).accept(socket);
      }
      process.nextTick(() => socket.resume());
    });
  });
  server.listen({ host, port: options.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const endpointHost = host.includes(":") ? `[${host}]` : host;

  return {
    host,
    port,
    connectionString: `Endpoint=sb://${endpointHost}:${port};SharedAccessKeyName=${KEY_NAME};SharedAccessKey=${KEY};UseDevelopmentEmulator=true`,
    ca: tls.cert,
    createQueue(queue) {
      store.createQueue(queue);
    },
    createTopic(topic) {
      store.createTopic(topic);
    },
    send(entityPath, message) {
      const target = store.sendTarget(entityPath);
      if (!target) throw new Error(`no queue or topic '${entityPath}'`);
      helper(() => store.enqueue(target, [toAmqpMessage(message)]));
    },
    deadLetter(entityPath, message, { reason, description }) {
      requireSource(entityPath);
      helper(() => store.deadLetterDirectly(entityPath, toAmqpMessage(message), reason, description));
    },
    peekAll(entityPath) {
      const queue = helper(() => requireSource(entityPath));
      return store.messagesOf(queue).map((message) => store.view(queue, message));
    },
    depth(entityPath) {
      return helper(() => {
        requireSource(entityPath);
        return store.depth(entityPath);
      });
    },
    dropConnections() {
      // Links go at once (rhea only hears of the sockets on a later tick); destroying with an
      // error makes rhea tear its side of each connection down as after a network failure.
      helper(() => router.forgetConnection("all"));
      for (const socket of sockets) {
        socket.destroy(new Error("connection dropped by the Service Bus stand-in"));
      }
    },
    refuseSettlement(count, error) {
      faults.refuseSettlement(count, error);
    },
    pauseReceives(paused = true) {
      faults.receivesPaused = paused;
      if (!paused) helper(() => router.pumpAll());
    },
    get connectionCount() {
      return sockets.size;
    },
    close() {
      closed = true;
      if (wakeTimer) clearTimeout(wakeTimer);
      return new Promise<void>((resolve) => {
        https.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
