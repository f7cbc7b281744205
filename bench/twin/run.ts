/**
 * Bench 5: what a user waits for, through the twin of the deployment (`startTwin`: every Lambda in
 * its own process behind a Function URL, the worker invoked asynchronously, Secrets Manager, S3)
 * and through the local server (`npm start`'s bundle: every route in one process, memory and
 * files), side by side and interleaved in one run. Two flows:
 *
 * - a signed `/victoria config path` from U0MEMBER (sre@example.com) → the answer posted to its
 *   `response_url`: the first after start (the twin: each function's cold start on the way) and
 *   warm (p50/p99);
 * - one dead letter on `orders` + an Azure Monitor alert to `/listener?token=…` → the notification
 *   in the alert channel.
 *
 *   npx tsx bench/twin/run.ts [--rounds 3] [--warm 30] [--alerts 3] [--budget 60]
 *
 * Each round starts both systems fresh (so the first command is cold), then alternates them
 * request by request (A B A B …, the first of each pair swapped every round). Slack and Service
 * Bus stand-ins run on 127.0.0.1 in this process for both: the twin's own (startTwin embeds
 * them), and for the local server a pair started here and passed as SLACK_API_URL /
 * SERVICE_BUS_CONNECTIONS (as bench:drain does), so both are observed the same way, by polling
 * their records every millisecond. Nothing is pinned: the twin is several processes. Figures, never
 * a verdict.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import {
  LOCAL_BOT_USER_ID,
  LOCAL_CLUSTER,
  LOCAL_DEMO_QUEUE,
  LOCAL_NAMESPACE,
  LOCAL_SLACK_USERS,
} from "@victoria/functions/local-server";
import { sampleAlert } from "@victoria/functions/workbench/sample-alerts";
import { buildLocalServer } from "../../packages/functions/scripts/build-local";
import { spawnLocalServer } from "../../packages/functions/test/spawn-local-server";
import { startTwin } from "../../packages/twin/src/twin";
import { cleanRun, environmentTable } from "../drain/machine";
import { repoRoot } from "../drain/pinned-server";
import { formatSummary, markdownTable, percentile, summarize } from "../lib/stats";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    warm: { type: "string", default: "30" },
    alerts: { type: "string", default: "3" },
    /** Seconds each round's warm commands and alerts may take, both systems together. */
    budget: { type: "string", default: "60" },
  },
});
const rounds = Number(values.rounds);
const warmCount = Number(values.warm);
const alertCount = Number(values.alerts);
const budgetMs = Number(values.budget) * 1000;
/** Longest wait for one answer or notification before the run is called broken. */
const GIVE_UP_MS = 60_000;

const MEMBER = "U0MEMBER";
const OPS = "C0OPS";
const ALERTS = "C0ALERTS";
const FAILED_REQUESTS = "victoria-failed-requests";
/** The same values for both: the twin's secret, the local server's environment. */
const SECRET = {
  SLACK_SIGNING_SECRET: "bench-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-bench",
  SLACK_ALERT_CHANNEL: ALERTS,
  VICTORIA_SHARED_SECRET: "bench-shared-secret",
  LISTENER_TOKEN: "bench-listener-token",
  SRE_MEMBERS: "sre@example.com",
};
const COMMAND = "config path";
const ANSWER = /bundled default config/;

type Name = "local" | "twin";
const LABEL: Record<Name, string> = {
  local: "local server (one process, memory + files)",
  twin: "twin (a process per function, async worker, Secrets Manager, S3)",
};

interface System {
  name: Name;
  authenticateUrl: string;
  listenerUrl: string;
  slack: SlackStandIn;
  broker: ServiceBusStandIn;
  /** Resolves when the system has nothing left in flight (the twin's async invocations). */
  settle(): Promise<void>;
  /** Lambda REPORT lines so far (the twin's), as function id and duration: where the time went. */
  reports(): ReadonlyArray<{ id: string; ms: number }>;
  /** Recent log lines, for an error message. */
  tail(): string;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls `check` every millisecond until it gives a value; the same for both systems. */
async function until<T>(system: System, what: string, check: () => T | undefined): Promise<T> {
  const deadline = performance.now() + GIVE_UP_MS;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`${system.name}: no ${what} in ${GIVE_UP_MS} ms; its log:\n${system.tail()}`);
    await sleep(1);
  }
}

async function startLocal(bundle: string, dir: string): Promise<System> {
  const slack = await startSlackStandIn({
    host: "127.0.0.1",
    port: 0,
    botToken: SECRET.SLACK_BOT_TOKEN,
    users: [...LOCAL_SLACK_USERS],
    botUserId: LOCAL_BOT_USER_ID,
  });
  const broker = await startServiceBusStandIn({
    host: "127.0.0.1",
    port: 0,
    queues: [{ name: FAILED_REQUESTS, maxDeliveryCount: 3 }, LOCAL_DEMO_QUEUE],
  });
  const server = await spawnLocalServer(
    {
      ...SECRET,
      HOST: "127.0.0.1",
      SLACK_API_URL: slack.url,
      SLACK_BOT_USER_ID: LOCAL_BOT_USER_ID,
      SERVICE_BUS_CONNECTIONS: JSON.stringify({ [LOCAL_CLUSTER]: broker.connectionString }),
      FAILED_REQUESTS_QUEUE: FAILED_REQUESTS,
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
    },
    { bundle, startTimeoutMs: 30_000 },
  );
  return {
    name: "local",
    authenticateUrl: `${server.url}/authenticate`,
    listenerUrl: `${server.url}/listener`,
    slack,
    broker,
    settle: async () => {},
    reports: () => [],
    tail: () => server.logs.join("").split("\n").slice(-30).join("\n"),
    async close() {
      await server.stop();
      await broker.close();
      await slack.close();
    },
  };
}

async function startTwinSystem(dir: string): Promise<System> {
  const logs: string[] = [];
  const reports: Array<{ id: string; ms: number }> = [];
  const twin = await startTwin({
    secret: SECRET,
    scheduleTicks: false,
    outputsFile: join(dir, "outputs.json"),
    buildDir: join(dir, "lambda"),
    log: (line) => {
      const report = /^\[(\w+)\] REPORT \S+ Duration: (\d+) ms/.exec(line);
      if (report) reports.push({ id: report[1] as string, ms: Number(report[2]) });
      logs.push(line);
      if (logs.length > 500) logs.splice(0, 250);
    },
    env: {}, // the embedded stand-ins, whatever this shell has set
  });
  const { slack, serviceBus } = twin;
  if (!slack || !serviceBus) throw new Error("the twin did not start its Slack and Service Bus stand-ins");
  return {
    name: "twin",
    authenticateUrl: twin.outputs.authenticateUrl as string,
    listenerUrl: twin.outputs.listenerUrl as string,
    slack,
    broker: serviceBus,
    settle: async () => {
      await Promise.race([twin.lambda.idle(), sleep(GIVE_UP_MS)]);
    },
    reports: () => reports,
    tail: () => logs.slice(-30).join("\n"),
    close: () => twin.close(),
  };
}

interface SlashSample {
  /** The HTTP answer to Slack's POST (the acknowledgement Slack needs within 3 s). */
  ackMs: number;
  /** The command's answer posted to its response_url: what the user waits for. */
  answerMs: number;
  /** The twin's invocations on the way (Lambda's reported Duration per function, ms). */
  functions: Record<string, number>;
}

/** A signed slash command; the time to its acknowledgement and to its answer at response_url. */
async function slash(system: System): Promise<SlashSample> {
  const responseUrl = system.slack.responseUrl({ channel: OPS, user: MEMBER });
  const body = new URLSearchParams({
    team_id: "T0BENCH",
    channel_id: OPS,
    user_id: MEMBER,
    command: "/victoria",
    text: COMMAND,
    response_url: responseUrl,
    trigger_id: `bench-${randomUUID()}`,
  }).toString();
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    ...signSlackRequest(SECRET.SLACK_SIGNING_SECRET, body),
  };
  const reportsBefore = system.reports().length;
  const started = performance.now();
  const response = await fetch(system.authenticateUrl, { method: "POST", body, headers });
  const ackMs = performance.now() - started;
  const ack = await response.text();
  if (response.status !== 200)
    throw new Error(`${system.name}: /authenticate answered ${response.status}: ${ack}`);
  const answer = await until(system, "answer at response_url", () =>
    system.slack.responses(responseUrl).find((r) => !String(r.body.text ?? "").startsWith("Running")),
  );
  const answerMs = performance.now() - started;
  const text = String(answer.body.text ?? JSON.stringify(answer.body));
  if (!ANSWER.test(text)) throw new Error(`${system.name}: unexpected answer: ${text.slice(0, 300)}`);
  await system.settle();
  const functions: Record<string, number> = {};
  for (const { id, ms } of system.reports().slice(reportsBefore)) functions[id] = (functions[id] ?? 0) + ms;
  return { ackMs, answerMs, functions };
}

/** The bot's notifications in the alert channel (not thread replies, not ephemeral). */
const notifications = (system: System) =>
  system.slack.messages(ALERTS).filter((m) => !m.threadTs && !m.ephemeral);

/** One dead letter on `orders`, an Azure Monitor alert; the time until the notification is posted. */
async function alert(system: System): Promise<number> {
  const before = notifications(system).length;
  system.broker.deadLetter(
    LOCAL_DEMO_QUEUE,
    { messageId: `bench-${randomUUID()}`, body: Buffer.from(JSON.stringify({ order: 42 })) },
    { reason: "MaxDeliveryCountExceeded", description: "bench" },
  );
  const body = JSON.stringify(
    sampleAlert("azure-monitor", {
      namespace: LOCAL_NAMESPACE,
      queue: LOCAL_DEMO_QUEUE,
      count: 1,
      now: new Date(),
    }),
  );
  const started = performance.now();
  const response = await fetch(`${system.listenerUrl}?token=${SECRET.LISTENER_TOKEN}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const answered = await response.text();
  if (response.status !== 202)
    throw new Error(`${system.name}: /listener answered ${response.status}: ${answered}`);
  await until(system, "notification", () => (notifications(system).length > before ? true : undefined));
  const ms = performance.now() - started;
  // The drain marks the record notified and completes the message after posting: let it finish,
  // so the next measurement does not overlap it.
  await until(system, "empty dead-letter queue", () =>
    system.broker.depth(LOCAL_DEMO_QUEUE).deadLetter === 0 ? true : undefined,
  );
  await system.settle();
  return ms;
}

interface RoundResult {
  startMs: Record<Name, number>;
  cold: Record<Name, SlashSample>;
  warm: Record<Name, SlashSample[]>;
  firstAlertMs: Record<Name, number>;
  alertMs: Record<Name, number[]>;
}

async function oneRound(round: number, bundle: string): Promise<RoundResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-twin-"));
  const order: Name[] = round % 2 === 1 ? ["local", "twin"] : ["twin", "local"];
  const systems = {} as Record<Name, System>;
  const startMs = {} as Record<Name, number>;
  let measured: RoundResult;
  try {
    for (const name of order) {
      const started = performance.now();
      systems[name] =
        name === "local"
          ? await startLocal(bundle, join(dir, "local"))
          : await startTwinSystem(join(dir, "twin"));
      startMs[name] = performance.now() - started;
    }
    const cold = {} as Record<Name, SlashSample>;
    for (const name of order) cold[name] = await slash(systems[name]);
    const warm: Record<Name, SlashSample[]> = { local: [], twin: [] };
    const warmStarted = performance.now();
    for (let i = 0; i < warmCount && performance.now() - warmStarted < budgetMs / 2; i++)
      for (const name of order) warm[name].push(await slash(systems[name]));
    const firstAlertMs = {} as Record<Name, number>;
    for (const name of order) firstAlertMs[name] = await alert(systems[name]);
    const alertMs: Record<Name, number[]> = { local: [], twin: [] };
    const alertsStarted = performance.now();
    for (let i = 0; i < alertCount && performance.now() - alertsStarted < budgetMs / 2; i++)
      for (const name of order) alertMs[name].push(await alert(systems[name]));
    measured = { startMs, cold, warm, firstAlertMs, alertMs };
  } finally {
    for (const system of Object.values(systems)) await system.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return measured;
}

// Built beside dist/local (two levels under packages/functions, as the workbench needs), so a
// running `npm start` is not rebuilt under its feet.
const bundle = await buildLocalServer(join(repoRoot, "packages/functions/dist/bench-twin"));
const results: Array<RoundResult & { otherCpu: number; discarded: number[] }> = [];
for (let round = 1; round <= rounds; round++) {
  // After a quiet second, never redone: the meter also counts the esbuild service that builds the
  // twin's bundles (a child reaped only when this process exits), so it is an upper bound on
  // others' CPU, not a reason to throw a round away.
  const { value, otherCpu, discarded } = await cleanRun(() => oneRound(round, bundle), { attempts: 1 });
  const result = { ...value, otherCpu, discarded };
  results.push(result);
  const p50 = (name: Name) =>
    percentile(
      result.warm[name].map((s) => s.answerMs),
      50,
    ).toFixed(1);
  process.stderr.write(
    `round ${round}: first command local ${result.cold.local.answerMs.toFixed(0)} ms, twin ${result.cold.twin.answerMs.toFixed(0)} ms; ` +
      `warm p50 local ${p50("local")} ms, twin ${p50("twin")} ms (${result.warm.local.length} each); ` +
      `first alert local ${result.firstAlertMs.local.toFixed(0)} ms, twin ${result.firstAlertMs.twin.toFixed(0)} ms; ` +
      `other processes ${result.otherCpu.toFixed(0)} % CPU\n`,
  );
}

/** A per-round figure for both systems: local, twin, and twin / local per round. */
function row(label: string, figure: (r: RoundResult, name: Name) => number, digits = 1): string[] {
  const local = summarize(results.map((r) => figure(r, "local")));
  const twin = summarize(results.map((r) => figure(r, "twin")));
  const ratio = summarize(results.map((r) => figure(r, "twin") / figure(r, "local")));
  return [label, formatSummary(local, digits), formatSummary(twin, digits), `${formatSummary(ratio, 1)}×`];
}
const warmAt = (p: number, key: "ackMs" | "answerMs") => (r: RoundResult, name: Name) =>
  percentile(
    r.warm[name].map((s) => s[key]),
    p,
  );
const warmN = Math.min(...results.map((r) => r.warm.local.length));
const alertN = Math.min(...results.map((r) => r.alertMs.local.length));

console.log(environmentTable());
console.log();
console.log(
  markdownTable(
    [
      "what the user waits for (ms)",
      `${LABEL.local}, median (range) of ${rounds} rounds`,
      LABEL.twin,
      "twin / local (per-round range)",
    ],
    [
      row(
        "start → ready, no request yet (local: spawn → listening; twin: evaluate sst.config.ts, build the bundles, start the stand-ins)",
        (r, n) => r.startMs[n],
        0,
      ),
      row("slash command, first after start: acknowledged", (r, n) => r.cold[n].ackMs, 0),
      row("slash command, first after start: **answer at response_url**", (r, n) => r.cold[n].answerMs, 0),
      row(`slash command, warm (${warmN} per round): acknowledged p50`, warmAt(50, "ackMs")),
      row("slash command, warm: **answer p50**", warmAt(50, "answerMs")),
      row("slash command, warm: answer p99", warmAt(99, "answerMs")),
      row("alert → notification posted, first after start", (r, n) => r.firstAlertMs[n], 0),
      row(
        `alert → notification posted, warm (${alertN} per round): median`,
        (r, n) => percentile(r.alertMs[n], 50),
        0,
      ),
    ],
  ),
);
console.log(
  `\nCPU not ours during a round (% of all cores; an upper bound: includes the esbuild service building the twin's bundles): ` +
    formatSummary(summarize(results.map((r) => r.otherCpu)), 0),
);

const functionIds = [...new Set(results.flatMap((r) => Object.keys(r.cold.twin.functions)))];
console.log();
console.log(
  markdownTable(
    [
      "twin: Lambda's reported Duration per function (ms)",
      `first command after start, median (range) of ${rounds} rounds`,
      "warm command, median of each round's median (range)",
    ],
    functionIds.map((id) => [
      id,
      formatSummary(summarize(results.map((r) => r.cold.twin.functions[id] ?? 0)), 0),
      formatSummary(
        summarize(
          results.map((r) =>
            percentile(
              r.warm.twin.map((s) => s.functions[id] ?? 0),
              50,
            ),
          ),
        ),
        1,
      ),
    ]),
  ),
);

const out = join(repoRoot, "bench/results/twin.json");
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), command: COMMAND, warmCount, alertCount, budgetMs, rounds: results }, null, 2)}\n`,
);
console.log(`raw results: ${out}`);
