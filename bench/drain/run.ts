/**
 * Bench 3: 1,000 dead letters on one queue, one alert to `/listener`. Measures the wall time until
 * the DLQ is empty (every message parked, notified and completed), Slack API calls and the server's
 * peak RSS, then counts the DLQ and the vault to prove none were lost.
 *
 *   npx tsx bench/drain/run.ts [--runs 3] [--messages 1000] [--profile /tmp/prof]
 *
 * The broker and Slack stand-ins live here (core 1) so they stay observable; the real local server
 * is spawned per run on core 0 and pointed at them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { startSlackStandIn } from "@victoria/emulators/slack";
import { DEFAULT_DRAIN_BUDGET_SECONDS } from "@victoria/functions/settings";
import { sampleAlert } from "@victoria/functions/workbench/sample-alerts";
import { formatSummary, markdownTable, summarize } from "../lib/stats";
import { cleanRun, environmentTable, pinSelf } from "./machine";
import { jsonLogLines, repoRoot, spawnPinnedServer } from "./pinned-server";

const QUEUE = "orders";
const NAMESPACE = "victoria-local"; // its last segment, `local`, is the cluster we configure
const GOALS = { wallSeconds: 10, slackCalls: 5 };
const GIVE_UP_MS = (DEFAULT_DRAIN_BUDGET_SECONDS + 60) * 1000; // well past the drain's own budget

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    messages: { type: "string", default: "1000" },
    profile: { type: "string" },
  },
});
const runs = Number(values.runs);
const messages = Number(values.messages);

interface RunResult {
  wallMs: number;
  slackCalls: number;
  slackMethods: Record<string, number>;
  peakRssMiB: number;
  dlqLeft: number;
  vaultRecords: number;
  notifiedRecords: number;
  lost: number;
  /** Where the wall time went, from the records' own timestamps (same machine clock). */
  phasesMs: { toFirstPark: number; parking: number; toNotification: number; markAndComplete: number };
  /** The server's own `dead letters drained` report. */
  drainReport: Record<string, unknown> | undefined;
  warnings: number;
  errors: string[];
}

const PHASES = {
  toFirstPark: "alert → first record parked",
  parking: "receiving + parking all (1st → last parkedAt)",
  toNotification: "last park → Slack post (incl. last empty receive)",
  markAndComplete: "post → DLQ empty (markNotified + complete)",
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function oneRun(): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-drain-"));
  const broker = await startServiceBusStandIn({
    host: "127.0.0.1",
    port: 0,
    queues: [QUEUE, "victoria-failed-requests"],
  });
  const slack = await startSlackStandIn({ host: "127.0.0.1", port: 0, botToken: "xoxb-dev-bot-token" });
  const server = await spawnPinnedServer({
    core: 0,
    env: {
      SLACK_API_URL: slack.url,
      SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: broker.connectionString }),
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
    },
    nodeArgs: values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`] : [],
  });
  try {
    for (let i = 0; i < messages; i++) {
      broker.deadLetter(
        QUEUE,
        { body: Buffer.from(JSON.stringify({ n: i })), messageId: `bench-${i}` },
        { reason: "MaxDeliveryCountExceeded", description: "bench" },
      );
    }
    const callsBefore = slack.calls.length;
    const drained = () => jsonLogLines(server.logs).find((l) => l.message === "dead letters drained");
    const alert = sampleAlert("azure-monitor", {
      namespace: NAMESPACE,
      queue: QUEUE,
      count: messages,
      now: new Date(),
    });
    const started = performance.now();
    const startedAt = Date.now();
    const response = await fetch(`${server.url}/listener`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-listener-token": "dev-listener-token" },
      body: JSON.stringify(alert),
    });
    if (response.status !== 202)
      throw new Error(`/listener answered ${response.status}: ${await response.text()}`);
    // The DLQ counts locked messages too, so 0 means every message was completed. Stop early if the
    // drain reports it gave up (budget or error) with messages left.
    while (broker.depth(QUEUE).deadLetter > 0 && !drained() && performance.now() - started < GIVE_UP_MS) {
      await sleep(20);
    }
    const wallMs = performance.now() - started;
    for (let waited = 0; !drained() && waited < 10_000; waited += 20) await sleep(20);
    const peakRssMiB = server.peakRssMiB();
    const calls = slack.calls.slice(callsBefore);
    const records = await createFileVault(join(dir, "vault")).list();
    const notifiedRecords = records.filter((r) => r.notification !== undefined).length;
    const parked = records.map((r) => Date.parse(r.parkedAt));
    const firstPark = Math.min(...parked);
    const lastPark = Math.max(...parked);
    const notifiedAt = Date.parse(records[0]?.notification?.at ?? "") || Number.NaN;
    const lines = jsonLogLines(server.logs);
    const { level: _l, message: _m, time: _t, ...drainReport } = drained() ?? {};
    return {
      wallMs,
      slackCalls: calls.length,
      slackMethods: Object.fromEntries(
        [...new Set(calls.map((c) => c.method))].map((m) => [m, calls.filter((c) => c.method === m).length]),
      ),
      peakRssMiB,
      dlqLeft: broker.depth(QUEUE).deadLetter,
      vaultRecords: records.length,
      notifiedRecords,
      lost: messages - notifiedRecords,
      phasesMs: {
        toFirstPark: firstPark - startedAt,
        parking: lastPark - firstPark,
        // Includes the last, empty receive, which waits up to `waitMs` (1 s) for more messages.
        toNotification: notifiedAt - lastPark,
        markAndComplete: startedAt + wallMs - notifiedAt,
      },
      drainReport: drained() ? drainReport : undefined,
      warnings: lines.filter((l) => l.level === "warn").length,
      errors: lines.filter((l) => l.level === "error").map((l) => String(l.message)),
    };
  } finally {
    await server.stop();
    await broker.close();
    await slack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

pinSelf(1);
const results: Array<RunResult & { otherCpuPercent: number; discardedRuns: number[] }> = [];
for (let run = 1; run <= runs; run++) {
  const { value, otherCpu, discarded } = await cleanRun(oneRun);
  const result = { ...value, otherCpuPercent: otherCpu, discardedRuns: discarded };
  results.push(result);
  process.stderr.write(
    `run ${run}: ${(result.wallMs / 1000).toFixed(2)} s, other processes ${result.otherCpuPercent.toFixed(0)} % CPU, ` +
      `${result.slackCalls} Slack calls, ` +
      `${result.peakRssMiB.toFixed(0)} MiB, DLQ left ${result.dlqLeft}, notified ${result.notifiedRecords}, ` +
      `report ${JSON.stringify(result.drainReport)}, errors ${JSON.stringify(result.errors)}\n`,
  );
}

const wall = summarize(results.map((r) => r.wallMs / 1000));
const calls = summarize(results.map((r) => r.slackCalls));
const lost = Math.max(...results.map((r) => r.lost));
const verdict = (ok: boolean) => (ok ? "met" : "missed");
console.log(environmentTable());
console.log();
console.log(
  markdownTable(
    ["metric", `median (range), ${runs} runs`, "goal"],
    [
      [
        "wall time, alert → DLQ empty (s)",
        formatSummary(wall, 2),
        `≤ ${GOALS.wallSeconds} s: ${verdict(wall.max <= GOALS.wallSeconds)}`,
      ],
      ...(["toFirstPark", "parking", "toNotification", "markAndComplete"] as const).map((phase) => [
        `↳ ${PHASES[phase]} (s)`,
        formatSummary(summarize(results.map((r) => r.phasesMs[phase] / 1000)), 2),
        "",
      ]),
      [
        "Slack API calls",
        formatSummary(calls, 0),
        `≤ ${GOALS.slackCalls}: ${verdict(calls.max <= GOALS.slackCalls)}`,
      ],
      ["server peak RSS (MiB)", formatSummary(summarize(results.map((r) => r.peakRssMiB)), 0), ""],
      ["DLQ left", formatSummary(summarize(results.map((r) => r.dlqLeft)), 0), "0"],
      [
        "vault records parked + notified",
        formatSummary(summarize(results.map((r) => r.notifiedRecords)), 0),
        String(messages),
      ],
      [
        "lost (messages − notified records)",
        formatSummary(summarize(results.map((r) => r.lost)), 0),
        `0: ${verdict(lost === 0)}`,
      ],
      [
        "other processes' CPU during a run (% of all cores)",
        formatSummary(summarize(results.map((r) => r.otherCpuPercent)), 0),
        "≈ 0 for a clean figure",
      ],
      [
        "runs discarded and redone (others > 10 % CPU)",
        String(results.reduce((n, r) => n + r.discardedRuns.length, 0)),
        "",
      ],
      [
        "server warnings / errors logged",
        `${results.reduce((n, r) => n + r.warnings, 0)} / ${results.reduce((n, r) => n + r.errors.length, 0)}`,
        "0 / 0",
      ],
    ],
  ),
);

const out = join(repoRoot, "bench/results/drain.json");
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), messages, runs: results, drainBudgetSeconds: DEFAULT_DRAIN_BUDGET_SECONDS }, null, 2)}\n`,
);
console.log(`\nraw results: ${out}`);
