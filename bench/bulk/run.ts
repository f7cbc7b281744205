/**
 * Bulk replay at a set rate: N parked dead letters in a file vault, one bulk replay job
 * (`deadletter replay --entity orders --rate R`) run to its end by the real runner with real time,
 * every message sent through the Service Bus SDK to the AMQP stand-in. Reports the achieved rate
 * beside the one asked for (as a ratio), the wall time, peak RSS, and — from the queue itself,
 * received after the job — how many messages arrived, how many distinct (none twice) and how many
 * records the vault shows replayed.
 *
 *   npx tsx bench/bulk/run.ts [--records 10000] [--rate 100] [--runs 1]
 *
 * Bounded: at --rate 100 a run of 10,000 takes about 100 s; everything is on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileBulkJobStore } from "@victoria/core/adapters/local/file-bulk-job-store";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { runBulkJob } from "@victoria/core/deadletter/bulk-job-runner";
import { createBulkJobs } from "@victoria/core/deadletter/bulk-jobs";
import type { DeadLetter, EntityRef } from "@victoria/core/deadletter/dead-letter";
import { createDeadLetterActions } from "@victoria/core/deadletter/dead-letter-actions";
import { vaultRecordId } from "@victoria/core/deadletter/vault-record-id";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { environmentTable } from "../drain/machine";
import { formatSummary, markdownTable, summarize } from "../lib/stats";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "10000" },
    rate: { type: "string", default: "100" },
    runs: { type: "string", default: "1" },
  },
});
const records = Number(values.records);
const rate = Number(values.rate);
const runs = Number(values.runs);
const ORDERS: EntityRef = { kind: "queue", queue: "orders" };

interface RunResult {
  wallMs: number;
  achievedPerSecond: number;
  done: number;
  skipped: number;
  failed: number;
  received: number;
  distinct: number;
  vaultReplayed: number;
  parkMs: number;
  peakRssMiB: number;
}

async function oneRun(): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-bulk-"));
  const broker = await startServiceBusStandIn({ host: "127.0.0.1", port: 0, queues: ["orders"] });
  const bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
  const vault = createFileVault(join(dir, "vault"));
  const store = createFileBulkJobStore(join(dir, "vault"));
  try {
    const parkStarted = performance.now();
    for (let i = 0; i < records; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, records - i) }, (_, k) => {
          const n = i + k;
          const message: DeadLetter = {
            messageId: `bulk-${n}`,
            sequenceNumber: String(n + 1),
            enqueuedTime: new Date(Date.now() - 3_600_000).toISOString(),
            deliveryCount: 10,
            deadLetterReason: "MaxDeliveryCountExceeded",
            body: { kind: "json", value: { n } },
            applicationProperties: { tenant: n % 2 ? "acme" : "globex" },
          };
          return vault.park({
            id: vaultRecordId("local", ORDERS, message),
            cluster: "local",
            namespace: "victoria-local",
            entity: ORDERS,
            parkedAt: new Date(Date.now() - 60_000).toISOString(),
            message,
          });
        }),
      );
    }
    const parkMs = performance.now() - parkStarted;
    const actions = createDeadLetterActions({
      vault,
      bus,
      connections: { local: broker.connectionString },
      maxReplays: 3,
    });
    const deps = {
      store,
      actions,
      vault,
      bus,
      connections: { local: broker.connectionString },
      logger: createMemoryLogger(),
    };
    const jobs = createBulkJobs(deps);
    const job = await jobs.start({
      action: "replay",
      filter: { entity: "orders" },
      rate,
      requestedBy: "cli:bench",
    });
    const started = performance.now();
    const result = await runBulkJob(deps, job.id, { runnerId: "bench", budgetMs: 3_600_000 });
    const wallMs = performance.now() - started;
    const counts = result.job?.counts ?? { done: 0, skipped: 0, failed: 0 };

    const sdk = new ServiceBusClient(broker.connectionString);
    const receiver = sdk.createReceiver("orders", { receiveMode: "receiveAndDelete" });
    const ids: string[] = [];
    for (;;) {
      const batch = await receiver.receiveMessages(500, { maxWaitTimeInMs: 300 });
      if (batch.length === 0) break;
      ids.push(...batch.map((m) => String(m.messageId)));
    }
    await receiver.close();
    await sdk.close();
    return {
      wallMs,
      achievedPerSecond: counts.done / (wallMs / 1000),
      ...counts,
      received: ids.length,
      distinct: new Set(ids).size,
      vaultReplayed: (await vault.list({ state: "replayed" })).length,
      parkMs,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await bus.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: RunResult[] = [];
for (let run = 1; run <= runs; run++) {
  const result = await oneRun();
  results.push(result);
  process.stderr.write(`run ${run}: ${JSON.stringify(result)}\n`);
}
const s = (pick: (r: RunResult) => number, digits = 1) => formatSummary(summarize(results.map(pick)), digits);
console.log(environmentTable());
console.log();
console.log(
  markdownTable(
    ["metric", `median (range), ${runs} run(s)`, "goal"],
    [
      ["records parked, replayed by one job", String(records), ""],
      ["rate asked (per second)", String(rate), ""],
      ["achieved rate (replays per second)", s((r) => r.achievedPerSecond), `≤ ${rate}, close to it`],
      ["achieved ÷ asked", `${s((r) => r.achievedPerSecond / rate, 3)}×`, "≤ 1"],
      ["job wall time (s)", s((r) => r.wallMs / 1000, 1), `≈ ${(records / rate).toFixed(0)}`],
      [
        "done / skipped / failed",
        results.map((r) => `${r.done} / ${r.skipped} / ${r.failed}`).join("; "),
        `${records} / 0 / 0`,
      ],
      [
        "messages received on the queue / distinct",
        results.map((r) => `${r.received} / ${r.distinct}`).join("; "),
        `${records} / ${records} (none twice)`,
      ],
      ["vault records replayed", s((r) => r.vaultReplayed, 0), String(records)],
      ["parking the records first (s, not part of the job)", s((r) => r.parkMs / 1000, 1), ""],
      ["bench process peak RSS (MiB; vault, runner, SDK and broker)", s((r) => r.peakRssMiB, 0), ""],
    ],
  ),
);
