import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import type { Bus } from "@victoria/core/deadletter/bus";
import { failedRequestEnvelopeSchema } from "@victoria/core/failed-requests/failed-request-envelope";
import { createFailedRequestPublisher } from "@victoria/core/failed-requests/failed-request-publisher";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { createVictoria } from "@victoria/core/victoria/engine";
import { CommandFailure } from "@victoria/core/victoria/errors";
import { createInProcessRunner } from "@victoria/core/victoria/in-process-runner";
import { definePlugin } from "@victoria/core/victoria/plugin";
import { configPlugin } from "@victoria/core/victoria/plugins/config";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../app";
import { executeRoute } from "./execute";

const SECRET = "s";
const QUEUE = "victoria-failed-requests";
let broker: ServiceBusStandIn;
let bus: Bus;

const flakyPlugin = definePlugin({
  name: "flaky",
  summary: "Fails.",
  commands: [
    {
      name: "fail",
      summary: "Fail as a timeout from Azure would.",
      sensitive: false,
      args: [],
      async run() {
        throw new CommandFailure("upstream timed out", { failureClass: "transient" });
      },
    },
    {
      name: "reset",
      summary: "Throw a network error no adapter worded.",
      sensitive: false,
      args: [],
      async run() {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
    },
    ...(["not_found", "conflict", "configuration", "invalid"] as const).map((failureClass) => ({
      name: failureClass,
      summary: `Fail as ${failureClass}.`,
      sensitive: false,
      args: [],
      async run(): Promise<void> {
        throw new CommandFailure(`a ${failureClass} failure`, { failureClass });
      },
    })),
    {
      name: "crash",
      summary: "A bug.",
      sensitive: false,
      args: [],
      async run() {
        throw new TypeError("cannot read properties of undefined");
      },
    },
  ],
});

beforeAll(async () => {
  broker = await startServiceBusStandIn({ queues: [QUEUE] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
});

afterAll(async () => {
  await bus.close();
  await broker.close();
});

let app: ReturnType<typeof createApp>;
beforeEach(async () => {
  // Empty the queue between tests.
  const receiver = await bus.receiver(
    broker.connectionString,
    { kind: "queue", queue: QUEUE },
    { deadLetter: false },
  );
  for (const m of await receiver.receive(50, 200)) await m.complete();
  await receiver.close();
  const logger = createMemoryLogger();
  const victoria = createVictoria({
    plugins: [configPlugin, flakyPlugin],
    providers: { encryption: {}, storage: {} },
  });
  const router = executeRoute({
    runner: createInProcessRunner({ victoria, configPath: null, timeoutMs: 5_000 }),
    sharedSecret: SECRET,
    logger,
    failedRequests: createFailedRequestPublisher(bus, broker.connectionString, QUEUE),
  });
  app = createApp({ logger, routes: [{ path: "/execute", method: "POST", router }] });
});

function call(
  args: string[],
  headers: Record<string, string> = {},
  signedFields: Record<string, unknown> = {},
) {
  const body = JSON.stringify({ args, ...signedFields });
  return app.request("/execute", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signServiceRequest(SECRET, body), ...headers },
  });
}

describe("/execute publishes failed commands to FAILED_REQUESTS_QUEUE", () => {
  it("publishes a failed command as a MSG_VICTORIA_REQUEST_FAILED envelope", async () => {
    const res = await call(["flaky", "fail"], {}, { requestId: "req-9", requester: "sre@example.com" });
    expect(res.status).toBe(500);
    const [stored] = broker.peekAll(QUEUE);
    const receiver = await bus.receiver(
      broker.connectionString,
      { kind: "queue", queue: QUEUE },
      { deadLetter: false },
    );
    const [message] = await receiver.receive(1, 500);
    await message?.complete();
    await receiver.close();
    expect(stored).toBeDefined();
    const body = message?.message.body;
    const envelope = failedRequestEnvelopeSchema.parse(body?.kind === "json" ? body.value : undefined);
    expect(envelope).toMatchObject({
      sender: "victoria",
      target: "MSG_SERVICE_ANY",
      type: "MSG_VICTORIA_REQUEST_FAILED",
      payload: { args: ["flaky", "fail"], requestId: "req-9", requester: "sre@example.com", attempt: 1 },
    });
    expect(envelope.payload.error).toContain("upstream timed out");
    expect(envelope.payload.failureClass).toBe("transient");
  });

  it("publishes a network error that reached the engine unworded, as transient (exit 75)", async () => {
    const res = await call(["flaky", "reset"]);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ failureClass: "transient" });
    expect(broker.depth(QUEUE)).toMatchObject({ active: 1 });
  });

  it.each([
    ["a success", ["config", "path"], {}],
    ["a usage error (it would fail the same on every retry)", ["config", "nope"], {}],
    ["a missing key or dead letter", ["flaky", "not_found"], {}],
    ["something already done", ["flaky", "conflict"], {}],
    ["a configuration error", ["flaky", "configuration"], {}],
    ["bad input", ["flaky", "invalid"], {}],
    ["a bug (uncaught exception)", ["flaky", "crash"], {}],
    ["a retry's own failure (already on the queue)", ["flaky", "fail"], { attempt: 2 }],
  ])("publishes nothing for %s", async (_, args, signedFields: Record<string, unknown>) => {
    const res = await call(args, {}, signedFields);
    if (res.status === 500) {
      const body = (await res.json()) as { failureClass?: string };
      // The class travels in the answer too, so /authenticate and the retry consumer can read it.
      if (args[1] !== "fail")
        expect(body.failureClass).toBe(
          args[0] === "config" ? "usage" : args[1] === "crash" ? "internal" : args[1],
        );
    }
    expect(broker.depth(QUEUE)).toMatchObject({ active: 0, locked: 0 });
  });

  it("does not trust X-Victoria-Requester or X-Victoria-Retry headers (unsigned: a replay could change them)", async () => {
    const res = await call(
      ["flaky", "fail"],
      { "x-victoria-requester": "mallory@example.com", "x-victoria-retry": "2" },
      { requestId: "req-10", requester: "sre@example.com", attempt: 1 },
    );
    expect(res.status).toBe(500);
    // Published (the header does not make it a retry), with the signed body's requester.
    const [published] = broker.peekAll(QUEUE);
    expect(published?.body).toMatchObject({
      payload: { requestId: "req-10", requester: "sre@example.com", attempt: 1 },
    });
    expect(broker.depth(QUEUE)).toMatchObject({ active: 1 });
  });

  it("publishes no requester when the signed body names none, whatever the header says", async () => {
    await call(["flaky", "fail"], { "x-victoria-requester": "mallory@example.com" }, { requestId: "req-11" });
    const [published] = broker.peekAll(QUEUE);
    expect(published?.body).toMatchObject({ payload: { requestId: "req-11" } });
    expect(JSON.stringify(published?.body)).not.toContain("mallory");
  });
});
