import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import { createFileVault } from "../adapters/local/file-vault";
import type { ActionOutcome, DeadLetterActions } from "../deadletter/dead-letter-actions-types";
import { sampleRecord } from "../deadletter/vault-contract";
import { createFailedRequestPublisher } from "../failed-requests/failed-request-publisher";
import { type Chat, ChatError } from "../ports";
import { cachedSecretSource } from "../secrets/secrets";
import type { AuditRecord } from "../security/audit-log";
import { corePlugins } from "../victoria/plugins/core-plugins";
import { COMMAND_PLUGINS, countingCommands, pluginOf } from "./command-metrics";
import { countingDeadLetterActions } from "./dead-letter-action-metrics";
import { EMF_MAX_VALUES, emfLines } from "./emf-lines";
import { createEmfMetrics } from "./emf-metrics";
import { readEmfLine, readEmfLines, sumOf, valuesOf } from "./emf-reader";
import { createMemoryMetrics } from "./memory-metrics";
import { METRICS, METRICS_NAMESPACE } from "./metric-names";
import { flushingAfter } from "./metrics";
import { countingNotificationFailures } from "./notification-failure-metrics";
import { oldestParkedAgeSeconds } from "./oldest-parked-age";

describe("EMF lines", () => {
  it("writes one document per dimension values, with the spec's directive and values at the root", () => {
    const lines: string[] = [];
    const metrics = createEmfMetrics({
      service: "worker",
      write: (l) => lines.push(l),
      now: () => 1_800_000_000_123,
    });
    metrics.add("AckLatency", 12.5);
    metrics.add("AckLatency", 7);
    metrics.add("CommandsRun", 1, { Plugin: "config" });
    metrics.add("CommandsFailed", 1, { Plugin: "config" });
    metrics.add("CommandsRun", 1, { Plugin: "deadletter" });
    metrics.flush();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: 1_800_000_000_123,
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [["Service"]],
              Metrics: [{ Name: "AckLatency", Unit: "Milliseconds" }],
            },
          ],
        },
        Service: "worker",
        // Repeated values of one metric: one array.
        AckLatency: [12.5, 7],
      },
      {
        _aws: {
          Timestamp: 1_800_000_000_123,
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              // The Service-only total (what the alarms watch) and the breakdown.
              Dimensions: [["Service"], ["Service", "Plugin"]],
              Metrics: [
                { Name: "CommandsRun", Unit: "Count" },
                { Name: "CommandsFailed", Unit: "Count" },
              ],
            },
          ],
        },
        Service: "worker",
        Plugin: "config",
        CommandsRun: 1,
        CommandsFailed: 1,
      },
      expect.objectContaining({ Service: "worker", Plugin: "deadletter", CommandsRun: 1 }),
    ]);
    // Every line passes the reader's checks of the specification.
    expect(sumOf(readEmfLines(lines), "CommandsRun")).toBe(2);
  });

  it("keeps a document within CloudWatch's 100 values per metric", () => {
    const entries = Array.from({ length: 250 }, (_, i) => ({
      name: "AckLatency" as const,
      value: i,
      dimensions: {},
    }));
    const lines = emfLines(entries, { service: "authenticate", timestamp: Date.now() });
    expect(lines).toHaveLength(3);
    const readings = readEmfLines(lines);
    expect(readings.map((r) => r.values.length)).toEqual([EMF_MAX_VALUES, EMF_MAX_VALUES, 50]);
    expect(valuesOf(readings, "AckLatency")).toEqual(entries.map((e) => e.value));
  });

  it("writes nothing without values, leaves out what CloudWatch would reject, and empties on flush", () => {
    const lines: string[] = [];
    const metrics = createEmfMetrics({ service: "local", write: (l) => lines.push(l) });
    metrics.flush();
    expect(lines).toEqual([]);
    metrics.add("AckLatency", Number.NaN);
    metrics.add("DrainDuration", 5, { StopReason: "  " });
    metrics.flush();
    metrics.flush();
    expect(lines).toHaveLength(1);
    const [reading] = readEmfLines(lines);
    expect(reading).toMatchObject({ name: "DrainDuration", values: [5], dimensions: { StopReason: "none" } });
  });

  it("flushes after the work, also when it throws", async () => {
    const metrics = createMemoryMetrics("worker");
    await expect(
      flushingAfter(metrics, async () => {
        metrics.add("DrainErrors", 1);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(metrics.lines).toHaveLength(1);
  });

  it("the reader refuses what CloudWatch would reject, and skips log lines", () => {
    const good = emfLines([{ name: "AckLatency", value: 1, dimensions: {} }], {
      service: "resolve",
      timestamp: Date.now(),
    })[0] as string;
    expect(readEmfLine(JSON.stringify({ level: "info", message: "hello" }))).toBeUndefined();
    expect(readEmfLine(`[Authenticate] ${good}`)?.[0]).toMatchObject({
      name: "AckLatency",
      dimensions: { Service: "resolve" },
    });
    type Document = {
      _aws: { Timestamp: number; CloudWatchMetrics: { Metrics: { Unit: string }[] }[] };
    } & Record<string, unknown>;
    const broken = (change: (d: Document) => void) => {
      const document = JSON.parse(good) as Document;
      change(document);
      return () => readEmfLine(JSON.stringify(document));
    };
    expect(broken((d) => (d._aws.Timestamp = Math.floor(d._aws.Timestamp / 1000)))).toThrow(/milliseconds/);
    expect(broken((d) => delete d.Service)).toThrow(/dimension Service/);
    expect(broken((d) => (d.AckLatency = "1"))).toThrow(/not a number/);
    expect(
      broken((d) => {
        const [directive] = d._aws.CloudWatchMetrics;
        const [metric] = directive?.Metrics ?? [];
        if (metric) metric.Unit = "ms";
      }),
    ).toThrow(/unit/);
  });

  it("names a unit CloudWatch knows for every metric of the catalogue", () => {
    for (const [name, { unit }] of Object.entries(METRICS)) {
      const line = emfLines([{ name: name as keyof typeof METRICS, value: 1, dimensions: {} }], {
        service: "worker",
        timestamp: Date.now(),
      })[0] as string;
      expect(readEmfLine(line)?.[0]?.unit).toBe(unit);
    }
  });
});

describe("commands by plugin", () => {
  it("knows the plugins the engine has, and nothing a person types", () => {
    expect([...COMMAND_PLUGINS].sort()).toEqual(corePlugins.map((p) => p.name).sort());
    expect(pluginOf("deadletter replay abc")).toBe("deadletter");
    expect(pluginOf("  Config path")).toBe("config");
    expect(pluginOf("rm -rf /")).toBe("other");
    expect(pluginOf("")).toBe("other");
  });

  it("counts a finished command as run (and failed unless it exited 0), a refused one as refused", async () => {
    const metrics = createMemoryMetrics("worker");
    const written: AuditRecord[] = [];
    const audit = countingCommands({ write: async (r) => void written.push(r) }, metrics);
    const record = (phase: AuditRecord["phase"], command: string, exitStatus?: number | "error") =>
      audit.write({
        phase,
        command,
        requestId: "r",
        time: new Date().toISOString(),
        source: "slash_command",
        user: { id: "U1" },
        ...(exitStatus === undefined ? {} : { exitStatus }),
      });
    await record("requested", "config path");
    await record("finished", "config path", 0);
    await record("requested", "deadletter show x");
    await record("finished", "deadletter show x", 1);
    await record("finished", "store ls", "error");
    await record("refused", "encrypt data x");
    expect(written).toHaveLength(6);
    const readings = metrics.readings();
    expect(sumOf(readings, "CommandsRun")).toBe(3);
    expect(sumOf(readings, "CommandsRun", { Plugin: "config" })).toBe(1);
    expect(sumOf(readings, "CommandsFailed")).toBe(2);
    expect(sumOf(readings, "CommandsFailed", { Plugin: "store" })).toBe(1);
    expect(sumOf(readings, "CommandsRefused", { Plugin: "encrypt" })).toBe(1);
  });
});

describe("dead-letter actions and notifications", () => {
  it("counts each record replayed, deleted or emailed; nothing for an action that did not happen", async () => {
    const record = { id: "r1" } as never;
    const outcomes: ActionOutcome[] = [
      { ok: true, record },
      { ok: false, reason: "already", message: "someone was first" },
    ];
    const next = async () => outcomes.shift() ?? { ok: true as const, record };
    const actions = { replay: next, delete: next, email: next } as unknown as DeadLetterActions;
    const metrics = createMemoryMetrics("worker");
    const counted = countingDeadLetterActions(actions, metrics);
    await counted.replay("r1", "U1");
    await counted.replay("r1", "U1");
    await counted.delete("r2", "U1");
    await counted.email("r3", "a@example.com", "U1");
    const readings = metrics.readings();
    expect(sumOf(readings, "DeadLettersReplayed")).toBe(1);
    expect(sumOf(readings, "DeadLettersDeleted")).toBe(1);
    expect(sumOf(readings, "DeadLettersEmailed")).toBe(1);
  });

  it("counts a notification Slack refused, and still throws it to the caller", async () => {
    const metrics = createMemoryMetrics("worker");
    const refusing: Pick<Chat, "postMessage" | "updateMessage"> = {
      postMessage: async () => {
        throw new ChatError("channel_not_found", "channel_not_found");
      },
      updateMessage: async () => {},
    };
    const chat = countingNotificationFailures(refusing, metrics);
    await expect(chat.postMessage({ channel: "C1", text: "x" })).rejects.toThrow("channel_not_found");
    await chat.updateMessage({ channel: "C1", ts: "1", text: "x" });
    expect(sumOf(metrics.readings(), "NotificationFailures")).toBe(1);
  });

  it("samples the oldest parked age from the index's summaries, 0 when nothing is parked", async () => {
    const dir = await mkdtemp(join(tmpdir(), "parked-age-"));
    try {
      const vault = createFileVault(dir);
      const now = new Date("2025-01-02T04:04:05.000Z");
      expect(await oldestParkedAgeSeconds(vault, now)).toBe(0);
      await vault.park(sampleRecord(1));
      await vault.park(sampleRecord(2));
      // sampleRecord(1) was parked at 03:04:06: an hour less a second before `now`.
      expect(await oldestParkedAgeSeconds(vault, now)).toBe(3599);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("secrets and failed requests", () => {
  it("counts a secret fetched from its source, not one the cache answered", async () => {
    const metrics = createMemoryMetrics("authenticate");
    let time = 0;
    const source = cachedSecretSource(
      { get: async () => ({ KEY: "v" }) },
      {
        ttlMs: 1_000,
        now: () => time,
        metrics,
      },
    );
    await source.get();
    await source.get();
    time = 2_000;
    await source.get();
    expect(sumOf(metrics.readings(), "SecretCacheMisses")).toBe(2);
  });

  it("counts a failed request once it is on the queue", async () => {
    const broker = await startServiceBusStandIn({ queues: ["victoria-failed-requests"] });
    const bus = createServiceBusBus((c) => new ServiceBusClient(c));
    try {
      const metrics = createMemoryMetrics("execute");
      const publisher = createFailedRequestPublisher(
        bus,
        broker.connectionString,
        "victoria-failed-requests",
        metrics,
      );
      await publisher.publish({
        args: ["store", "s3", "ls"],
        requestId: "req-1",
        requester: "sre@example.com",
        error: "exit status 1",
        attempt: 1,
        failedAt: new Date().toISOString(),
      });
      expect(broker.peekAll("victoria-failed-requests")).toHaveLength(1);
      expect(sumOf(metrics.readings(), "FailedRequestsPublished")).toBe(1);
      // Not sent (no such queue): not counted.
      const nowhere = createFailedRequestPublisher(bus, broker.connectionString, "no-such-queue", metrics);
      await expect(
        nowhere.publish({
          args: ["x"],
          requestId: "req-2",
          requester: "sre@example.com",
          error: "exit status 1",
          attempt: 1,
          failedAt: new Date().toISOString(),
        }),
      ).rejects.toThrow();
      expect(sumOf(metrics.readings(), "FailedRequestsPublished")).toBe(1);
    } finally {
      await bus.close();
      await broker.close();
    }
  });
});
