/**
 * Bench 3: 1,000 dead letters on one queue, one alert to `/listener`. Measures the wall time until
 * the DLQ is empty (every message parked, notified and completed), Slack API calls and the server's
 * peak RSS, then counts the DLQ and the vault to prove none were lost. Beside it, interleaved (the
 * order swapped every run), the SDK floor: the same messages on the same kind of broker received
 * and completed by the Service Bus SDK alone in its own pinned process (sdk-floor.ts); the ratio
 * drain ÷ floor is what parking, notifying and bookkeeping cost over the bus work itself.
 *
 *   npx tsx bench/drain/run.ts [--runs 3] [--messages 1000] [--profile /tmp/prof]
 *
 * The broker and Slack stand-ins live here (core 1) so they stay observable; the real local server
 * is spawned per run on core 0 and pointed at them.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { startSlackStandIn } from "@victoria/emulators/slack";
import { DEFAULT_DRAIN_BUDGET_SECONDS } from "@victoria/functions/settings";
import { sampleAlert } from "@victoria/functions/workbench/sample-alerts";
import { formatSummary, markdownTable, pinned, summarize } from "../lib/stats";
import { cleanRun, environmentTable, pinSelf } from "./machine";
import { jsonLogLines, repoRoot, spawnPinnedServer } from "./pinned-server";

const QUEUE = "orders";
const NAMESPACE = "victoria-local"; // its last segment, `local`, is the cluster we configure
const GOALS = { wallSeconds: 10, slackCalls: 5 };
const GIVE_UP_MS = (2 * DEFAULT_DRAIN_BUDGET_SECONDS + 60) * 1000; // past two rounds' budgets

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
    // The job's last drain: a backlog over one drain's `maxMessages` is drained in rounds, each logged.
    const drained = () => {
      const last = jsonLogLines(server.logs)
        .filter((l) => l.message === "dead letters drained")
        .at(-1);
      return last?.stoppedBy === "max-messages" ? undefined : last;
    };
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

interface FloorResult {
  wallMs: number;
  received: number;
  peakRssMiB: number;
  dlqLeft: number;
}

/** The same dead letters, received and completed by the SDK alone (sdk-floor.ts) on core 0. */
async function oneFloor(): Promise<FloorResult> {
  const broker = await startServiceBusStandIn({ host: "127.0.0.1", port: 0, queues: [QUEUE] });
  try {
    for (let i = 0; i < messages; i++) {
      broker.deadLetter(
        QUEUE,
        { body: Buffer.from(JSON.stringify({ n: i })), messageId: `bench-${i}` },
        { reason: "MaxDeliveryCountExceeded", description: "bench" },
      );
    }
    const script = join(repoRoot, "bench/drain/sdk-floor.ts");
    const [command, args] = pinned(0, process.execPath, [
      "--import",
      "tsx",
      script,
      broker.connectionString,
      QUEUE,
      String(messages),
    ]);
    const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    const code = await new Promise<number | null>((done) => child.on("close", done));
    if (code !== 0) throw new Error(`sdk-floor exited with ${code}`);
    const line = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Omit<FloorResult, "dlqLeft">;
    return { ...line, dlqLeft: broker.depth(QUEUE).deadLetter };
  } finally {
    await broker.close();
  }
}

pinSelf(1);
const results: Array<RunResult & { otherCpuPercent: number; discardedRuns: number[] }> = [];
const floors: FloorResult[] = [];
/** Drain wall ÷ floor wall, per interleaved pair. */
const ratios: number[] = [];
for (let run = 1; run <= runs; run++) {
  // A B, then B A: neither contender always runs on a machine the other just warmed.
  let floor: FloorResult | undefined;
  if (run % 2 === 0) floor = (await cleanRun(oneFloor)).value;
  const { value, otherCpu, discarded } = await cleanRun(oneRun);
  if (run % 2 === 1) floor = (await cleanRun(oneFloor)).value;
  if (!floor) throw new Error("no floor run");
  floors.push(floor);
  ratios.push(value.wallMs / floor.wallMs);
  process.stderr.write(
    `run ${run} floor: ${(floor.wallMs / 1000).toFixed(2)} s, ${floor.received} received, ${floor.peakRssMiB.toFixed(0)} MiB, DLQ left ${floor.dlqLeft}\n`,
  );
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
      [
        "SDK floor: receive + complete only, same messages (s)",
        formatSummary(summarize(floors.map((f) => f.wallMs / 1000)), 2),
        "",
      ],
      ["↳ SDK floor peak RSS (MiB)", formatSummary(summarize(floors.map((f) => f.peakRssMiB)), 0), ""],
      ["↳ SDK floor DLQ left", formatSummary(summarize(floors.map((f) => f.dlqLeft)), 0), "0"],
      ["drain ÷ SDK floor, wall time (per interleaved pair)", `${formatSummary(summarize(ratios), 2)}×`, ""],
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
  `${JSON.stringify({ date: new Date().toISOString(), messages, runs: results, floors, ratios, drainBudgetSeconds: DEFAULT_DRAIN_BUDGET_SECONDS }, null, 2)}\n`,
);
console.log(`\nraw results: ${out}`);
