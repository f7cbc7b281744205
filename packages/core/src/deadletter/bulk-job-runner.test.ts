import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineRequest, SendRequest } from "@azure/core-rest-pipeline";
import {
  ServiceBusAdministrationClient,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
} from "@azure/service-bus";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import { createFileBulkJobStore } from "../adapters/local/file-bulk-job-store";
import { createFileVault } from "../adapters/local/file-vault";
import { createMemoryLogger } from "../logging/json-logger";
import { withRequestContext } from "../logging/request-context";
import type { AuditRecord } from "../security/audit-log";
import { resolvedByJob } from "./bulk-job";
import { resumeBulkJobs } from "./bulk-job-jobs";
import { type BulkRunnerDeps, type BulkRunResult, runBulkJob } from "./bulk-job-runner";
import type { BulkJobStore } from "./bulk-job-store";
import { type BulkJobs, createBulkJobs } from "./bulk-jobs";
import type { Bus } from "./bus";
import type { DeadLetter, EntityRef } from "./dead-letter";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { DeadLetterActions } from "./dead-letter-actions-types";
import type { Vault } from "./vault";
import { sampleRecord } from "./vault-contract";

// Over the wire: the real Service Bus SDK against the AMQP stand-in, records in a file vault, jobs
// in the file job store. Time is a fake clock that `sleep` advances, so pacing is counted, not timed.

const ORDERS: EntityRef = { kind: "queue", queue: "orders" };
const AUDIT_SUB: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };
/** On a topic whose replay rules get installed: a replay to it reaches it alone. */
const RULED_AUDIT: EntityRef = { kind: "subscription", topic: "ruled", subscription: "audit" };
const RULED_BILLING: EntityRef = { kind: "subscription", topic: "ruled", subscription: "billing" };

let broker: ServiceBusStandIn;
let bus: Bus;
let sdk: ServiceBusClient;
let dir: string;
let vault: Vault;
let store: BulkJobStore;
let actions: DeadLetterActions;
let clock: number;
let audit: AuditRecord[];
let run = 0;
/** HTTP requests the management client has sent to the stand-in (the rules are read over it). */
let managementRequests = 0;

beforeAll(async () => {
  broker = await startServiceBusStandIn({
    queues: ["orders"],
    topics: [
      { name: "events", subscriptions: ["audit"] },
      { name: "ruled", subscriptions: ["audit", "billing"] },
    ],
  });
  const counting = {
    name: "count-management-requests",
    sendRequest: (request: PipelineRequest, next: SendRequest) => {
      managementRequests += 1;
      return next(request);
    },
  };
  bus = createServiceBusBus(
    (c) => new ServiceBusClient(c),
    { maxAutoLockRenewalDurationInMs: 0 },
    (c) => {
      const admin = new ServiceBusAdministrationClient(c, { tlsOptions: { ca: broker.ca } });
      admin.pipeline.addPolicy(counting);
      return admin;
    },
  );
  sdk = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await sdk.close();
  await bus.close();
  await broker.close();
});

beforeEach(async () => {
  run += 1;
  dir = await mkdtemp(join(tmpdir(), "victoria-bulk-"));
  vault = createFileVault(dir);
  store = createFileBulkJobStore(dir);
  actions = createDeadLetterActions({
    vault,
    bus,
    connections: { local: broker.connectionString },
    maxReplays: 3,
  });
  // Later than every record parked (2025), so a job's `until` covers them all.
  clock = Date.parse("2030-01-01T00:00:00.000Z");
  audit = [];
});

afterEach(async () => {
  await drain(ORDERS);
  await drain(AUDIT_SUB);
  await drain(RULED_AUDIT);
  await drain(RULED_BILLING);
  await rm(dir, { recursive: true, force: true });
});

const now = () => new Date(clock);
const sleep = async (ms: number) => {
  clock += ms;
};

function deps(overrides: Partial<BulkRunnerDeps> = {}): BulkRunnerDeps {
  return {
    store,
    actions,
    vault,
    bus,
    connections: { local: broker.connectionString },
    logger: createMemoryLogger(),
    audit: { write: async (record) => void audit.push(record) },
    now,
    sleep,
    batchSize: 3,
    ...overrides,
  };
}

function bulk(overrides: Partial<BulkRunnerDeps> = {}): BulkJobs {
  return createBulkJobs({ ...deps(overrides), actions } as Parameters<typeof createBulkJobs>[0]);
}

/** `count` parked records on `entity`, messages `<prefix>-<n>` of this test run. */
async function park(count: number, entity: EntityRef = ORDERS, reason = "Boom"): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) {
    const message: DeadLetter = {
      messageId: `r${run}-${entity.kind}-${reason}-${n}`,
      sequenceNumber: String(n),
      enqueuedTime: "2025-01-02T03:04:05.000Z",
      deliveryCount: 10,
      deadLetterReason: reason,
      body: { kind: "json", value: { n } },
      applicationProperties: {},
    };
    const { record } = await vault.park(sampleRecord(n, { cluster: "local", entity, message }));
    ids.push(record.id);
  }
  return ids;
}

function receiverFor(entity: EntityRef) {
  return entity.kind === "queue"
    ? sdk.createReceiver(entity.queue, { receiveMode: "receiveAndDelete" })
    : sdk.createReceiver(entity.topic, entity.subscription, { receiveMode: "receiveAndDelete" });
}

/** Every message on the entity now, taken off it. */
async function drain(entity: EntityRef): Promise<string[]> {
  const receiver = receiverFor(entity);
  const ids: string[] = [];
  for (;;) {
    const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 200 });
    if (batch.length === 0) break;
    ids.push(...batch.map((m) => String(m.messageId)));
  }
  await receiver.close();
  return ids;
}

describe("runBulkJob", () => {
  it("replays each matching parked record once, skips what someone resolved first, and notes the job", async () => {
    const ids = await park(5);
    await park(2, ORDERS, "Other");
    const jobs = bulk();
    const job = await jobs.start({ action: "replay", filter: { reason: "boom" }, requestedBy: "cli:alice" });
    // Someone else deletes one before the runner reaches it.
    expect((await actions.delete(ids[2] as string, "cli:bob")).ok).toBe(true);

    const result = await runBulkJob(deps(), job.id, { runnerId: "a", budgetMs: 60_000 });

    expect(result.outcome).toBe("finished");
    expect(result.job).toMatchObject({ state: "done", counts: { done: 4, skipped: 0, failed: 0 } });
    const sent = await drain(ORDERS);
    expect(sent.sort()).toEqual([1, 2, 4, 5].map((n) => `r${run}-queue-Boom-${n}`));
    for (const id of ids.filter((_, i) => i !== 2)) {
      const record = await vault.get(id);
      expect(record?.state).toBe("replayed");
      expect(record?.resolution).toMatchObject({ by: "cli:alice", via: "command" });
      expect(resolvedByJob(record?.resolution?.note, job.id)).toBe(true);
    }
    // The other reason was not touched.
    expect((await vault.list({ reason: "Other", state: "parked" })).length).toBe(2);
    // Start and end are audited.
    expect(audit.map((a) => a.phase)).toEqual(["requested", "finished"]);
    expect(audit[1]?.output).toContain("4 replayed");
  });

  it("keeps the starting request's id: its audit, every record's resolution and a resumed run's log lines", async () => {
    const ids = await park(3);
    const job = await withRequestContext({ requestId: "req-started-it" }, () =>
      bulk().start({ action: "replay", filter: { reason: "boom" }, requestedBy: "cli:alice" }),
    );
    expect(job.requestId).toBe("req-started-it");
    // Taken up later by the tick, under the tick's own id: the run joins the starting request's story.
    const logger = createMemoryLogger();
    await withRequestContext({ requestId: "tick" }, () =>
      resumeBulkJobs({ runner: deps({ logger }), budgetMs: () => 60_000, logger }),
    );
    expect((await store.get(job.id))?.state).toBe("done");
    expect(await drain(ORDERS)).toHaveLength(3);
    for (const id of ids) expect((await vault.get(id))?.resolution?.requestId).toBe("req-started-it");
    expect(audit.map((a) => [a.phase, a.requestId])).toEqual([
      ["requested", "req-started-it"],
      ["finished", "req-started-it"],
    ]);
    const ended = logger.lines.find((l) => l.message === "bulk job ended");
    expect(ended?.requestId).toBe("req-started-it");
    expect(logger.lines.find((l) => l.message === "bulk job resumed")?.requestId).toBe("tick");
  });

  it("deletes on a topic subscription, and a record resolved before the start is not counted", async () => {
    const ids = await park(4, AUDIT_SUB);
    // Topic-wide: the stand-in topic has no replay rules installed (subscription-replay.ts).
    await actions.replay(ids[0] as string, "cli:bob", { toTopic: true });
    await drain(AUDIT_SUB);
    const job = await bulk().start({
      action: "delete",
      filter: { entity: "events/Subscriptions/audit" },
      note: "stale",
      requestedBy: "cli:alice",
    });
    const result = await runBulkJob(deps(), job.id, { runnerId: "a", budgetMs: 60_000 });
    expect(result.job?.counts).toEqual({ done: 3, skipped: 0, failed: 0 });
    const deleted = await vault.list({ state: "deleted" });
    expect(deleted).toHaveLength(3);
    expect(deleted.every((r) => r.resolution?.note === `bulk job ${job.id}: stale`)).toBe(true);
    expect(await drain(AUDIT_SUB)).toEqual([]);
  });

  it("acts on each record exactly once with two runners racing on one job, leases expiring under them", async () => {
    await park(12);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      rate: 100,
      requestedBy: "cli:a",
    });
    // Leases shorter than a batch: each runner keeps losing the job to the other mid-way.
    const racing = deps({ leaseMs: 15, batchSize: 2 });
    const [a, b] = await Promise.all([
      runBulkJob(racing, job.id, { runnerId: "a", budgetMs: 600_000 }),
      runBulkJob(racing, job.id, { runnerId: "b", budgetMs: 600_000 }),
    ]);
    // Whoever is left finishes it (as the schedule's tick would).
    let final = await store.get(job.id);
    if (final?.state !== "done") {
      clock += 1_000;
      await runBulkJob(deps(), job.id, { runnerId: "c", budgetMs: 600_000 });
      final = await store.get(job.id);
    }
    expect([a.outcome, b.outcome]).toContain("not-ours");
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(12);
    expect(new Set(sent).size).toBe(12);
    expect(await vault.list({ state: "parked" })).toEqual([]);
    expect(final?.state).toBe("done");
    // Every record counted once, done or (lost to the other runner) skipped.
    expect((final?.counts.done ?? 0) + (final?.counts.skipped ?? 0)).toBe(12);
  });

  it("resumes after a runner is killed mid-batch: lease expiry, the tick takes over, no record twice", async () => {
    await park(10);
    const job = await bulk().start({ action: "replay", filter: { entity: "orders" }, requestedBy: "cli:a" });
    let calls = 0;
    const dying: BulkRunnerDeps["actions"] = {
      ...actions,
      replay: async (ref, by, options) => {
        calls += 1;
        if (calls === 5) throw new Error("killed"); // the process dies between two records
        return actions.replay(ref, by, options);
      },
    };
    await expect(
      runBulkJob(deps({ actions: dying }), job.id, { runnerId: "a", budgetMs: 60_000 }),
    ).rejects.toThrow("killed");
    const crashed = await store.get(job.id);
    expect(crashed?.inFlight.length).toBeGreaterThan(0);
    // Before the lease expires the tick leaves it alone; after, it runs it to the end.
    const logger = createMemoryLogger();
    expect(await resumeBulkJobs({ runner: deps(), budgetMs: () => 60_000, logger })).toEqual([]);
    clock += 61_000;
    expect(await resumeBulkJobs({ runner: deps(), budgetMs: () => 60_000, logger })).toEqual([job.id]);

    const final = await store.get(job.id);
    expect(final).toMatchObject({ state: "done", counts: { done: 10, skipped: 0, failed: 0 }, inFlight: [] });
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(10);
    expect(new Set(sent).size).toBe(10);
  });

  it("stops before its next batch when cancelled, leaving the rest parked", async () => {
    await park(9);
    const jobs = bulk();
    const job = await jobs.start({ action: "delete", filter: { entity: "orders" }, requestedBy: "cli:a" });
    let asked = false;
    const result = await runBulkJob(
      deps({
        progress: {
          async show(current) {
            if (!asked && current.counts.done >= 3) {
              asked = true;
              expect((await jobs.cancel(job.id, "cli:bob")).ok).toBe(true);
            }
            return undefined;
          },
        },
      }),
      job.id,
      { runnerId: "a", budgetMs: 60_000 },
    );
    expect(result.job).toMatchObject({
      state: "cancelled",
      why: "cancelled by cli:bob",
      counts: { done: 3 },
    });
    expect(await vault.list({ state: "parked" })).toHaveLength(6);
    expect((await jobs.cancel(job.id, "cli:bob")).ok).toBe(false);
  });

  it("a job nobody is running is cancelled at once", async () => {
    await park(2);
    const jobs = bulk();
    const job = await jobs.start({ action: "replay", filter: { entity: "orders" }, requestedBy: "cli:a" });
    const cancelled = await jobs.cancel(job.id, "cli:bob");
    expect(cancelled).toMatchObject({ ok: true, job: { state: "cancelled" } });
    expect((await runBulkJob(deps(), job.id, { runnerId: "a", budgetMs: 60_000 })).outcome).toBe("not-ours");
    expect(await vault.list({ state: "parked" })).toHaveLength(2);
  });

  it("stops after the canary when a canary message is dead-lettered again, and acts on no more", async () => {
    await park(8);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      canary: 2,
      canaryWaitSeconds: 30,
      requestedBy: "cli:a",
    });
    let consumed = false;
    const result = await runBulkJob(
      deps({
        progress: {
          async show(current) {
            if (current.state !== "canary-wait" || consumed) return undefined;
            consumed = true;
            // The consumer fails the replayed message again: it goes back to the dead-letter queue.
            const receiver = sdk.createReceiver("orders");
            const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
            await receiver.deadLetterMessage(first as ServiceBusReceivedMessage, {
              deadLetterReason: "Boom",
              deadLetterErrorDescription: "still broken",
            });
            await receiver.close();
            return undefined;
          },
        },
      }),
      job.id,
      { runnerId: "a", budgetMs: 600_000 },
    );
    expect(result.job?.state).toBe("stopped");
    expect(result.job?.why).toContain("canary dead-lettered again");
    expect(result.job?.counts.done).toBe(2);
    expect(await vault.list({ state: "parked" })).toHaveLength(6);
    // Take the re-dead-lettered canary off the subqueue for the next test.
    await sdk
      .createReceiver("orders", { subQueueType: "deadLetter", receiveMode: "receiveAndDelete" })
      .receiveMessages(5, { maxWaitTimeInMs: 200 });
  });

  it("goes on after a canary that stays healthy, waiting its time first", async () => {
    await park(5);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      canary: 2,
      canaryWaitSeconds: 30,
      requestedBy: "cli:a",
    });
    const started = clock;
    const result = await runBulkJob(deps(), job.id, { runnerId: "a", budgetMs: 600_000 });
    expect(result.job).toMatchObject({ state: "done", counts: { done: 5 } });
    expect(result.job?.canaryPassedAt).toBeDefined();
    expect(clock - started).toBeGreaterThanOrEqual(30_000);
  });

  it("never acts faster than its rate: acts ≤ rate × elapsed + 1 at every act", async () => {
    await park(12);
    const job = await bulk().start({
      action: "delete",
      filter: { entity: "orders" },
      rate: 4,
      requestedBy: "cli:a",
    });
    const start = clock;
    const times: number[] = [];
    const counted: BulkRunnerDeps["actions"] = {
      ...actions,
      delete: async (...args) => {
        times.push(clock);
        return actions.delete(...args);
      },
    };
    await runBulkJob(deps({ actions: counted }), job.id, { runnerId: "a", budgetMs: 600_000 });
    expect(times).toHaveLength(12);
    times.forEach((at, index) => {
      expect(index + 1).toBeLessThanOrEqual((4 * (at - start)) / 1000 + 1);
    });
  });

  it("hands over when its budget is spent, and the next runner goes on from the cursor", async () => {
    await park(6);
    const job = await bulk().start({
      action: "delete",
      filter: { entity: "orders" },
      rate: 1,
      requestedBy: "cli:a",
    });
    const first = await runBulkJob(deps(), job.id, { runnerId: "a", budgetMs: 2_500 });
    expect(first.outcome).toBe("handed-over");
    const doneSoFar = first.job?.counts.done ?? 0;
    expect(doneSoFar).toBeGreaterThan(0);
    expect(doneSoFar).toBeLessThan(6);
    // The lease was given up: another runner starts at once.
    const second = await runBulkJob(deps(), job.id, { runnerId: "b", budgetMs: 600_000 });
    expect(second.job).toMatchObject({ state: "done", counts: { done: 6 } });
  });
});

describe("runBulkJob acting on a batch's records at once", () => {
  /** The actions, counting the acts under way at once (and the most seen) and when each started. */
  function watched() {
    const seen = { now: 0, most: 0, starts: [] as number[] };
    const watch = async <T>(act: () => Promise<T>): Promise<T> => {
      seen.starts.push(clock);
      seen.now += 1;
      seen.most = Math.max(seen.most, seen.now);
      try {
        return await act();
      } finally {
        seen.now -= 1;
      }
    };
    const counted: BulkRunnerDeps["actions"] = {
      ...actions,
      replay: (...args) => watch(() => actions.replay(...args)),
      delete: (...args) => watch(() => actions.delete(...args)),
    };
    return { seen, counted };
  }

  it("has several acts under way at once, never more than 8, each record once and paced", async () => {
    await park(20);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      rate: 50,
      requestedBy: "cli:a",
    });
    const { seen, counted } = watched();
    const start = clock;
    const result = await runBulkJob(deps({ actions: counted, batchSize: 20 }), job.id, {
      runnerId: "a",
      budgetMs: 600_000,
    });
    expect(result.job).toMatchObject({ state: "done", counts: { done: 20, skipped: 0, failed: 0 } });
    expect(seen.most).toBeGreaterThan(1);
    expect(seen.most).toBeLessThanOrEqual(8);
    seen.starts.forEach((at, index) => {
      expect(index + 1).toBeLessThanOrEqual((50 * (at - start)) / 1000 + 1);
    });
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(20);
    expect(new Set(sent).size).toBe(20);
  });

  it("acts on each record exactly once with two runners racing over batches acted on at once", async () => {
    await park(30);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      rate: 100,
      requestedBy: "cli:a",
    });
    const racing = deps({ leaseMs: 25, batchSize: 10 });
    const [a, b] = await Promise.all([
      runBulkJob(racing, job.id, { runnerId: "a", budgetMs: 600_000 }),
      runBulkJob(racing, job.id, { runnerId: "b", budgetMs: 600_000 }),
    ]);
    let final = await store.get(job.id);
    if (final?.state !== "done") {
      clock += 1_000;
      await runBulkJob(deps(), job.id, { runnerId: "c", budgetMs: 600_000 });
      final = await store.get(job.id);
    }
    expect([a.outcome, b.outcome]).toContain("not-ours");
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(30);
    expect(new Set(sent).size).toBe(30);
    expect(await vault.list({ state: "parked" })).toEqual([]);
    expect(final).toMatchObject({ state: "done", inFlight: [] });
    expect((final?.counts.done ?? 0) + (final?.counts.skipped ?? 0)).toBe(30);
  });

  it("a runner stalled past its lease mid-batch is taken over: the new one finishes, the stalled one stops", async () => {
    await park(20);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      rate: 100,
      requestedBy: "cli:a",
    });
    const { seen, counted } = watched();
    let taken: Promise<BulkRunResult> | undefined;
    const stalled = runBulkJob(
      deps({
        actions: counted,
        batchSize: 10,
        sleep: async (ms) => {
          clock += ms;
          if (seen.starts.length === 5 && !taken) {
            // This runner stops for longer than its lease, acts under way; another takes the job.
            clock += 61_000;
            taken = runBulkJob(deps({ batchSize: 10 }), job.id, { runnerId: "b", budgetMs: 600_000 });
            await taken;
          }
        },
      }),
      job.id,
      { runnerId: "a", budgetMs: 600_000 },
    );
    expect((await stalled).outcome).toBe("not-ours");
    expect((await taken)?.outcome).toBe("finished");
    expect(seen.starts).toHaveLength(5); // none started after the stall
    // Its acts that ended after the takeover are counted once, by the runner that took over.
    expect(await store.get(job.id)).toMatchObject({
      state: "done",
      counts: { done: 20, skipped: 0, failed: 0 },
      inFlight: [],
    });
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(20);
    expect(new Set(sent).size).toBe(20);
    expect(await vault.list({ state: "parked" })).toEqual([]);
  });

  it("resumes a runner killed with acts under way: every record acted on and counted once", async () => {
    await park(20);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "orders" },
      rate: 100,
      requestedBy: "cli:a",
    });
    let calls = 0;
    const dying: BulkRunnerDeps["actions"] = {
      ...actions,
      replay: async (ref, by, options) => {
        calls += 1;
        if (calls === 5) throw new Error("killed"); // while others of the batch are under way
        return actions.replay(ref, by, options);
      },
    };
    await expect(
      runBulkJob(deps({ actions: dying, batchSize: 10 }), job.id, { runnerId: "a", budgetMs: 60_000 }),
    ).rejects.toThrow("killed");
    const crashed = await store.get(job.id);
    expect(crashed?.inFlight).toHaveLength(10);
    expect(crashed?.counts).toEqual({ done: 0, skipped: 0, failed: 0 });

    clock += 61_000;
    const logger = createMemoryLogger();
    const resumed = deps({ batchSize: 10 });
    expect(await resumeBulkJobs({ runner: resumed, budgetMs: () => 60_000, logger })).toEqual([job.id]);
    const final = await store.get(job.id);
    expect(final).toMatchObject({ state: "done", counts: { done: 20, skipped: 0, failed: 0 }, inFlight: [] });
    const sent = await drain(ORDERS);
    expect(sent).toHaveLength(20);
    expect(new Set(sent).size).toBe(20);
  });

  it("stops starting acts within a batch once a cancel is asked, and counts those it did", async () => {
    await park(12);
    const jobs = bulk();
    const job = await jobs.start({
      action: "delete",
      filter: { entity: "orders" },
      rate: 1,
      requestedBy: "cli:a",
    });
    const { seen, counted } = watched();
    let cancelledAfter: number | undefined;
    const result = await runBulkJob(
      deps({
        actions: counted,
        batchSize: 12,
        // The cancel arrives while the runner waits for the 5th act's slot, mid-batch.
        sleep: async (ms) => {
          clock += ms;
          if (seen.starts.length === 4 && cancelledAfter === undefined) {
            cancelledAfter = seen.starts.length;
            expect((await jobs.cancel(job.id, "cli:bob")).ok).toBe(true);
          }
        },
      }),
      job.id,
      { runnerId: "a", budgetMs: 600_000 },
    );
    expect(cancelledAfter).toBe(4);
    expect(seen.starts).toHaveLength(4);
    expect(result.job).toMatchObject({
      state: "cancelled",
      why: "cancelled by cli:bob",
      counts: { done: 4, skipped: 0, failed: 0 },
      inFlight: [],
    });
    expect(await vault.list({ state: "deleted" })).toHaveLength(4);
    expect(await vault.list({ state: "parked" })).toHaveLength(8);
  });

  it("at 100/s acts on a second's worth between two saves of the job", async () => {
    await park(200);
    const job = await bulk().start({
      action: "delete",
      filter: { entity: "orders" },
      rate: 100,
      requestedBy: "cli:a",
    });
    let saves = 0;
    const counting: BulkJobStore = {
      ...store,
      update: (...args) => {
        saves += 1;
        return store.update(...args);
      },
    };
    const start = clock;
    const result = await runBulkJob(deps({ store: counting, batchSize: undefined }), job.id, {
      runnerId: "a",
      budgetMs: 600_000,
    });
    expect(result.job).toMatchObject({ state: "done", counts: { done: 200 } });
    const seconds = (clock - start) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(1.99);
    // The claim, two per batch of 100 (before acting, after), the end and the lease given back.
    expect(saves).toBeLessThanOrEqual(1 + 2 * 2 + 2 + 1);
  });

  it("reads a topic's rules once a batch in a subscription's bulk replay, a single replay each time", async () => {
    expect(await actions.rules?.install("local", "ruled")).toMatchObject({ ok: true });
    let before = managementRequests;
    await actions.rules?.check("local", "ruled");
    const perRead = managementRequests - before;
    expect(perRead).toBeGreaterThan(0);

    await park(6, RULED_AUDIT);
    const job = await bulk().start({
      action: "replay",
      filter: { entity: "ruled/Subscriptions/audit" },
      rate: 100,
      requestedBy: "cli:a",
    });
    before = managementRequests;
    const result = await runBulkJob(deps({ batchSize: 3 }), job.id, { runnerId: "a", budgetMs: 600_000 });
    expect(result.job).toMatchObject({ state: "done", counts: { done: 6, skipped: 0, failed: 0 } });
    // Two batches of three: two reads, where one a record would be six.
    expect(managementRequests - before).toBe(2 * perRead);
    const sent = await drain(RULED_AUDIT);
    expect(sent).toHaveLength(6);
    expect(new Set(sent).size).toBe(6);
    expect(await drain(RULED_BILLING)).toEqual([]);

    // A single replay (a command, a button) still reads them right before it sends.
    const [first, second] = await park(2, RULED_AUDIT, "Single");
    before = managementRequests;
    expect((await actions.replay(first as string, "cli:a")).ok).toBe(true);
    expect((await actions.replay(second as string, "cli:a")).ok).toBe(true);
    expect(managementRequests - before).toBe(2 * perRead);
  });
});

describe("createBulkJobs", () => {
  it("previews the count and three samples of what is parked, acting on nothing", async () => {
    await park(5);
    const preview = await bulk().preview({ entity: "orders" });
    expect(preview.count).toBe(5);
    expect(preview.samples).toHaveLength(3);
    expect(await vault.list({ state: "parked" })).toHaveLength(5);
    expect(await store.recent(10)).toEqual([]);
  });
});
