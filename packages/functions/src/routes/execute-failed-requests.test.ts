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
      summary: "Fail.",
      args: [],
      async run() {
        throw new CommandFailure("upstream timed out");
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

function call(args: string[], headers: Record<string, string> = {}) {
  const body = JSON.stringify({ args });
  return app.request("/execute", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signServiceRequest(SECRET, body), ...headers },
  });
}

describe("/execute publishes failed commands to FAILED_REQUESTS_QUEUE", () => {
  it("publishes a failed command as a MSG_VICTORIA_REQUEST_FAILED envelope", async () => {
    const res = await call(["flaky", "fail"], {
      "x-request-id": "req-9",
      "x-victoria-requester": "sre@example.com",
    });
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
  });

  it.each([
    ["a success", ["config", "path"], {}],
    ["a usage error (it would fail the same on every retry)", ["config", "nope"], {}],
    ["a retry's own failure (already on the queue)", ["flaky", "fail"], { "x-victoria-retry": "2" }],
  ])("publishes nothing for %s", async (_, args, headers) => {
    await call(args, headers);
    expect(broker.depth(QUEUE)).toMatchObject({ active: 0, locked: 0 });
  });
});
