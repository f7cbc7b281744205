import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusAdministrationClient, ServiceBusClient } from "@azure/service-bus";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import { createFileVault } from "../adapters/local/file-vault";
import { createVictoria } from "../victoria/engine";
import { BufferedOutput } from "../victoria/output";
import { corePlugins } from "../victoria/plugins/core-plugins";
import type { Bus } from "./bus";
import type { EntityRef } from "./dead-letter";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { Vault } from "./vault";
import { vaultRecordId } from "./vault-record-id";

// A topic with three subscriptions on the stand-in broker, the real SDK on both of its protocols
// (AMQP for messages, HTTPS for rules), `victoria deadletter` in process with the real actions.

const SUBSCRIPTIONS = ["audit", "billing", "ops"] as const;
let broker: ServiceBusStandIn;
let bus: Bus;
let client: ServiceBusClient;
let dir: string;
let vault: Vault;
let topic: string;
let topicCount = 0;

beforeEach(async () => {
  broker ??= await startServiceBusStandIn();
  client ??= new ServiceBusClient(broker.connectionString);
  bus ??= createServiceBusBus(
    (c) => new ServiceBusClient(c),
    { maxAutoLockRenewalDurationInMs: 0 },
    (c) => new ServiceBusAdministrationClient(c, { tlsOptions: { ca: broker.ca } }),
  );
  topic = `events${++topicCount}`;
  broker.createTopic({ name: topic, subscriptions: [...SUBSCRIPTIONS] });
  dir = await mkdtemp(join(tmpdir(), "victoria-subscription-replay-"));
  vault = createFileVault(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await bus?.close();
  await client?.close();
  await broker?.close();
});

function victoria() {
  const actions = createDeadLetterActions({
    vault,
    bus,
    connections: { local: broker.connectionString },
    maxReplays: 3,
  });
  const engine = createVictoria({
    plugins: corePlugins,
    providers: { encryption: {}, storage: {} },
    env: {},
    deadLetters: async () => actions,
  });
  return async (...argv: string[]) => {
    const out = new BufferedOutput();
    const exitCode = await engine.run(["deadletter", ...argv], { out });
    return { exitCode, output: out.text() };
  };
}

/** A message dead-lettered on the audit subscription, received off its DLQ and parked. */
async function parkAuditDeadLetter(): Promise<string> {
  const entity: EntityRef = { kind: "subscription", topic, subscription: "audit" };
  broker.deadLetter(
    `${topic}/Subscriptions/audit`,
    { messageId: "order-7", body: { order: 7 } },
    { reason: "Boom", description: "handler failed" },
  );
  const receiver = await bus.receiver(broker.connectionString, entity, { deadLetter: true });
  const [locked] = await receiver.receive(1, 2_000);
  if (!locked) throw new Error("the dead letter did not arrive");
  const id = vaultRecordId("local", entity, locked.message);
  await vault.park({
    id,
    cluster: "local",
    namespace: "stand-in",
    entity,
    parkedAt: new Date().toISOString(),
    message: locked.message,
  });
  await locked.complete();
  await receiver.close();
  return id;
}

/** Everything the subscription holds now, waiting briefly: an empty answer means nothing came. */
async function received(subscription: string): Promise<Array<{ body: unknown; properties: unknown }>> {
  const receiver = client.createReceiver(topic, subscription, { receiveMode: "receiveAndDelete" });
  try {
    const messages = await receiver.receiveMessages(10, { maxWaitTimeInMs: 500 });
    return messages.map((m) => ({ body: m.body, properties: m.applicationProperties }));
  } finally {
    await receiver.close();
  }
}

describe("replaying a subscription's dead letter", () => {
  it("without the rules: refused, naming what is missing and the other subscriptions; nothing is sent", async () => {
    const id = await parkAuditDeadLetter();
    const run = victoria();
    const { exitCode, output } = await run("replay", id);
    expect(exitCode).toBe(1);
    expect(output).toContain(`Not replayed: Service Bus cannot send to subscription 'audit' alone`);
    expect(output).toContain(`'audit' has no rule victoria-replay`);
    expect(output).toContain(`'billing' rule '$Default' is not guarded`);
    expect(output).toContain(`victoria deadletter rules install local ${topic}`);
    expect(output).toContain(`which 'billing', 'ops' would receive too`);
    expect((await vault.get(id))?.state).toBe("parked");
    for (const subscription of SUBSCRIPTIONS) expect(await received(subscription)).toEqual([]);
  });

  it("with --to-topic: every subscription receives it", async () => {
    const id = await parkAuditDeadLetter();
    const { exitCode, output } = await victoria()("replay", id, "--to-topic");
    expect(exitCode).toBe(0);
    expect(output).toContain(`sent to the whole topic ${topic} (every subscription)`);
    for (const subscription of SUBSCRIPTIONS) {
      expect(await received(subscription)).toEqual([
        { body: { order: 7 }, properties: expect.objectContaining({ "x-victoria-replay-count": 1 }) },
      ]);
    }
  });

  it("with the rules installed: the subscription receives it and the other two receive nothing", async () => {
    const run = victoria();
    const check = await run("rules", "check", "local", topic);
    expect(check.exitCode).toBe(1);
    expect(check.output).toContain(`audit: not ready — rules $Default`);
    expect(check.output).toContain(`audit: rule victoria-replay — add: "x-victoria-replay-to" = 'audit'`);
    expect(check.output).toContain(`audit: rule $Default — guard: 1=1  →  "x-victoria-replay-to" IS NULL`);
    expect(check.output).toContain(`Not ready: run \`victoria deadletter rules install local ${topic}\`.`);

    const install = await run("rules", "install", "local", topic);
    expect(install.exitCode).toBe(0);
    expect(install.output).toContain("Changed 6 rules:");
    expect(install.output).toContain("audit: ready — rules $Default, victoria-replay");
    expect(install.output).toContain("a dead letter is replayed to its own subscription only");

    // Idempotent: nothing left to change, and check agrees.
    const again = await run("rules", "install", "local", topic);
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain("Nothing to change.");
    expect((await run("rules", "check", "local", topic)).exitCode).toBe(0);

    // Ordinary traffic still reaches every subscription.
    const sender = client.createSender(topic);
    await sender.sendMessages({ body: "normal" });
    await sender.close();
    for (const subscription of SUBSCRIPTIONS) {
      expect((await received(subscription)).map((m) => m.body)).toEqual(["normal"]);
    }

    const id = await parkAuditDeadLetter();
    const replay = await run("replay", id);
    expect(replay.exitCode).toBe(0);
    expect(replay.output).toContain(`sent back to ${topic}/Subscriptions/audit only`);
    expect(await received("audit")).toEqual([
      {
        body: { order: 7 },
        properties: expect.objectContaining({
          "x-victoria-replay-count": 1,
          "x-victoria-replay-to": "audit",
        }),
      },
    ]);
    expect(await received("billing")).toEqual([]);
    expect(await received("ops")).toEqual([]);
  });

  it("a correlation filter is reported for conversion, never changed", async () => {
    const admin = new ServiceBusAdministrationClient(broker.connectionString, {
      tlsOptions: { ca: broker.ca },
    });
    await admin.createRule(topic, "ops", "gold", { applicationProperties: { tier: "gold" } });
    const run = victoria();
    const install = await run("rules", "install", "local", topic);
    expect(install.exitCode).toBe(1);
    expect(install.output).toContain(
      "ops: rule gold — convert it yourself: a correlation filter (tier=gold)",
    );
    expect(install.output).toContain("Not ready: the rules above need converting by hand.");
    expect((await admin.getRule(topic, "ops", "gold")).filter).toMatchObject({
      applicationProperties: { tier: "gold" },
    });
    // Replays to audit stay refused: ops's gold rule would take a gold message meant for audit.
    const id = await parkAuditDeadLetter();
    const replay = await run("replay", id);
    expect(replay.output).toContain(`'ops' rule 'gold' is a correlation filter`);
  });

  it("rules for a topic that does not exist, or an unknown action", async () => {
    const run = victoria();
    expect(await run("rules", "check", "local", "nope")).toEqual({
      exitCode: 1,
      output: "Error: Topic 'nope' does not exist on cluster 'local'.\n",
    });
    expect((await run("rules", "frobnicate", "local", topic)).exitCode).toBe(2);
  });
});
