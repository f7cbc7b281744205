// `npx tsx bench/cold-start/run.ts [--runs 15] [--baseline DIR]`: bundle sizes, Lambda cold starts
// (import the bundle + answer a first Function URL event in a fresh `node`), and spawn → first
// response of the local server against a Bolt app. Prints a Markdown table; writes
// bench/results/cold-start.json. `--baseline DIR` also times the bundles in DIR (an older commit's
// build-lambdas output), interleaved with the current ones, and prints current ÷ baseline.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startLambdaStandIn } from "@victoria/emulators/lambda-invoke";
import { startS3StandIn } from "@victoria/emulators/s3";
import { startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { buildLambdas, type LambdaBundle } from "../../packages/functions/scripts/build-lambdas";

type BenchBundle = Pick<LambdaBundle, "name" | "outfile" | "bytes" | "totalBytes">;

import { buildLocalServer } from "../../packages/functions/scripts/build-local";
import { bundleServers } from "../ack-path/build";
import { SIGNING_SECRET, signedHeaders, slashCommandBody } from "../ack-path/slack-request";
import { formatSummary, markdownTable, pinned, summarize } from "../lib/stats";
import { BENCH_CONFIG, firstEvent } from "./lambda-events";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    profile: { type: "string" },
    bundles: { type: "string" },
    baseline: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const FUNCTIONS = ["authenticate", "execute", "listener", "resolve", "worker"] as const;
const ROOT = new URL("../..", import.meta.url).pathname;
const RESULT = "__COLD_START__";

/** Runs in a fresh `node`: times the import and the first invocation from inside the process. */
const HARNESS = `
import { pathToFileURL } from "node:url";
const [bundle, eventJson] = process.argv.slice(2);
const started = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const context = { awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 30000 };
const response = await mod.handler(JSON.parse(eventJson), context);
const answered = performance.now();
// The worker answers no HTTP: 0 stands for "resolved".
const result = { importMs: imported - started, firstResponseMs: answered - started, sinceProcessStartMs: answered,
  status: response?.statusCode ?? 0, rssMiB: process.memoryUsage().rss / 1048576 };
process.stdout.write("\\n${RESULT}" + JSON.stringify(result) + "\\n", () => process.exit(0));
`;

/**
 * Registered with `--import` in one untimed run per function: records every file: module the
 * process loads, so "what the first event loads" counts the dynamic chunks it pulls in too.
 */
const TRACE_HOOKS = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.startsWith("file:")) appendFileSync(process.env.COLD_START_TRACE, url + "\\n");
  return next(url, context);
}
`;
const TRACE_REGISTER = `
import { register } from "node:module";
register("./trace-hooks.mjs", import.meta.url);
`;

interface ColdStart {
  importMs: number;
  firstResponseMs: number;
  sinceProcessStartMs: number;
  status: number;
  rssMiB: number;
  wallMs: number;
}

function run(command: string, args: string[], env: Record<string, string>, cwd: string) {
  return new Promise<{ stdout: string; stderr: string; code: number | null; wallMs: number }>(
    (resolve, reject) => {
      const started = performance.now();
      const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ stdout, stderr, code, wallMs: performance.now() - started }));
    },
  );
}

async function lambdaColdStart(
  bundle: BenchBundle,
  harness: string,
  env: Record<string, string>,
  cwd: string,
) {
  const name = bundle.name as (typeof FUNCTIONS)[number];
  const { event, expectStatus } = firstEvent(name);
  // --profile <dir>: a CPU profile of every cold start, to see where the milliseconds go.
  const profile = values.profile
    ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`, "--cpu-prof-interval=100"]
    : [];
  const [command, args] = pinned(0, process.execPath, [
    ...profile,
    harness,
    bundle.outfile,
    JSON.stringify(event),
  ]);
  const { stdout, stderr, code, wallMs } = await run(command, args, env, cwd);
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
  if (code !== 0 || line === undefined) throw new Error(`${name} failed (${code}):\n${stdout}\n${stderr}`);
  const result = { ...(JSON.parse(line.slice(RESULT.length)) as Omit<ColdStart, "wallMs">), wallMs };
  if (result.status !== expectStatus)
    throw new Error(`${name} answered ${result.status}, expected ${expectStatus}`);
  return result;
}

/** Bytes of the function's own files (entry and chunks) that an import plus its first event load. */
async function firstEventLoad(
  bundle: BenchBundle,
  traceRegister: string,
  harness: string,
  env: Record<string, string>,
  cwd: string,
) {
  const { event } = firstEvent(bundle.name as (typeof FUNCTIONS)[number]);
  const trace = join(cwd, `${bundle.name}.trace`);
  const { code, stderr } = await run(
    process.execPath,
    ["--import", traceRegister, harness, bundle.outfile, JSON.stringify(event)],
    { ...env, COLD_START_TRACE: trace },
    cwd,
  );
  if (code !== 0) throw new Error(`${bundle.name} traced run failed (${code}): ${stderr}`);
  const own = `${pathToFileURL(dirname(bundle.outfile)).href}/`;
  const loaded = new Set((await readFile(trace, "utf8")).split("\n").filter((url) => url.startsWith(own)));
  let bytes = 0;
  for (const url of loaded) bytes += (await stat(fileURLToPath(url))).size;
  return bytes;
}

type ServerKind = "victoria" | "victoria-tsx" | "bolt";
// Below Linux's ephemeral range (32768+), so an outgoing connection never holds the port we pick.
let nextPort = 20_000 + Math.floor(Math.random() * 10_000);

/**
 * Spawn → first successful response. `victoria` is what `npm start` runs (the bundle from
 * build-local.ts, in plain node), `victoria-tsx` the sources through tsx (`npm run start:source`),
 * `bolt` a Bolt app bundled the same way (npm packages loaded from node_modules).
 */
async function serverColdStart(kind: ServerKind, entries: Record<ServerKind, string[]>): Promise<number> {
  // Fresh ports each time (the server takes PORT and PORT+1 for its Slack stand-in).
  nextPort += 2;
  const port = nextPort;
  const [command, args] = pinned(0, process.execPath, [...entries[kind], String(port)]);
  const dir = await mkdtemp(join(tmpdir(), "cold-local-"));
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      SLACK_STAND_IN_PORT: String(port + 1),
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}: ${stderr}`);
      try {
        // The same first request for every contender: a signed slash command, acknowledged.
        const body = slashCommandBody(`bench.${crypto.randomUUID()}`);
        const response = await fetch(
          `http://127.0.0.1:${port}${kind === "bolt" ? "/slack/events" : "/authenticate"}`,
          {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", ...signedHeaders(body) },
            body,
          },
        );
        if (response.status === 200) return performance.now() - started;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

const work = await mkdtemp(join(tmpdir(), "cold-start-"));
const harness = join(work, "harness.mjs");
await writeFile(harness, HARNESS);
const traceRegister = join(work, "trace-register.mjs");
await writeFile(traceRegister, TRACE_REGISTER);
await writeFile(join(work, "trace-hooks.mjs"), TRACE_HOOKS);
/**
 * `--bundles <dir>` times bundles built elsewhere (`<dir>/<name>/index.mjs`, e.g. by an older
 * commit's build-lambdas, for before/after figures) and skips the local servers.
 */
const givenBundles = (dir: string): Promise<BenchBundle[]> =>
  Promise.all(
    FUNCTIONS.map(async (name) => {
      const outfile = join(dir, name, "index.mjs");
      const { size } = await stat(outfile);
      return { name, outfile, bytes: size, totalBytes: size };
    }),
  );
const bundles: BenchBundle[] = values.bundles
  ? await givenBundles(values.bundles)
  : await buildLambdas(join(work, "dist"), { functions: FUNCTIONS, sourcemap: false });
/** `--baseline <dir>`: the same functions as built before a change, timed beside the current ones. */
const baseline: BenchBundle[] = values.baseline ? await givenBundles(values.baseline) : [];
/** Local servers are timed only in a plain run (given or baseline bundles say nothing about them). */
const timeServers = !values.bundles && !values.baseline;
const secrets = await startSecretsManagerStandIn({ region: "eu-west-2" });
secrets.putSecret("victoria/bench", BENCH_CONFIG);
const lambda = await startLambdaStandIn({ region: "eu-west-2" });
lambda.register("victoria-worker", async () => ({ ok: true }));
// /authenticate deduplicates deliveries in S3 when deployed (DEDUPE_BUCKET), so its first event does too.
const s3 = await startS3StandIn({ region: "eu-west-2", buckets: ["victoria-dedupe"] });
// What a deployed function has: its secret's id, the worker's name, AWS endpoints (here the stand-ins).
const env = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "eu-west-2",
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  DEDUPE_BUCKET: "victoria-dedupe",
  VICTORIA_SECRET_ID: "victoria/bench",
  VICTORIA_WORKER_FUNCTION: "victoria-worker",
  SRE_MEMBERS: "sre@example.com",
};

const serverEntries: Record<ServerKind, string[]> = {
  victoria: [await buildLocalServer()],
  "victoria-tsx": ["--import", "tsx", "packages/functions/src/local.ts"],
  bolt: [(await bundleServers(["bolt"])).get("bolt") as string],
};
const lambdaRuns = new Map<string, ColdStart[]>(FUNCTIONS.map((name) => [name, []]));
const baselineRuns = new Map<string, ColdStart[]>(FUNCTIONS.map((name) => [name, []]));
const baselineLoaded = new Map<string, number>();
const serverRuns: Record<ServerKind, number[]> = { victoria: [], "victoria-tsx": [], bolt: [] };
const loadedByFirstEvent = new Map<string, number>();
try {
  // One untimed, traced run each: which of the function's files the first event really loads.
  for (const bundle of bundles)
    loadedByFirstEvent.set(bundle.name, await firstEventLoad(bundle, traceRegister, harness, env, work));
  for (const bundle of baseline)
    baselineLoaded.set(bundle.name, await firstEventLoad(bundle, traceRegister, harness, env, work));
  for (let round = 0; round < RUNS; round++) {
    // Interleaved: one of each per round, so drift in machine load hits all alike; with a baseline,
    // each function's current and baseline bundles back to back, in alternating order (A B, B A, …).
    for (const bundle of bundles) {
      const before = baseline.find((b) => b.name === bundle.name);
      const pair: [BenchBundle, Map<string, ColdStart[]>][] = [[bundle, lambdaRuns]];
      if (before) pair.push([before, baselineRuns]);
      if (round % 2 === 1) pair.reverse();
      for (const [timed, runs] of pair)
        runs.get(timed.name)?.push(await lambdaColdStart(timed, harness, env, work));
    }
    for (const kind of ["victoria", "victoria-tsx", "bolt"] as const)
      if (timeServers) serverRuns[kind].push(await serverColdStart(kind, serverEntries));
    process.stderr.write(`round ${round + 1}/${RUNS}\n`);
  }
  // Every authenticate cold start must have claimed its delivery in the bucket, or it was not timed fairly.
  const claims = s3.requests.filter((r) => r.method === "PUT" && r.status === 200).length;
  if (bundles.some((b) => b.name === "authenticate") && claims < RUNS * (baseline.length > 0 ? 2 : 1))
    throw new Error(`authenticate made ${claims} dedupe claims in S3 over ${RUNS} runs`);
} finally {
  await lambda.close();
  await s3.close();
  await secrets.close();
  await rm(work, { recursive: true, force: true });
}

const kib = (bytes: number) => (bytes / 1024).toFixed(0);
const lambdaRows = bundles.map((bundle) => {
  const runs = lambdaRuns.get(bundle.name) ?? [];
  return [
    bundle.name,
    kib(bundle.bytes),
    kib(loadedByFirstEvent.get(bundle.name) ?? Number.NaN),
    kib(bundle.totalBytes),
    formatSummary(summarize(runs.map((r) => r.importMs))),
    formatSummary(summarize(runs.map((r) => r.firstResponseMs))),
    formatSummary(summarize(runs.map((r) => r.wallMs)), 0),
    summarize(runs.map((r) => r.rssMiB)).median.toFixed(0),
  ];
});
/** Current ÷ baseline, per function: the medians of each measure, and the bytes. */
const ratio = (current: number, before: number) => (current / before).toFixed(2);
const baselineRows = baseline.map((before) => {
  // Bytes as the traced first event loads them: the same measure for built and given bundles.
  const loadedNow = loadedByFirstEvent.get(before.name) ?? Number.NaN;
  const loadedThen = baselineLoaded.get(before.name) ?? Number.NaN;
  const now = lambdaRuns.get(before.name) ?? [];
  const then = baselineRuns.get(before.name) ?? [];
  const med = (runs: ColdStart[], pick: (r: ColdStart) => number) => summarize(runs.map(pick)).median;
  return [
    before.name,
    `${kib(loadedNow)} / ${kib(loadedThen)}`,
    ratio(loadedNow, loadedThen),
    `${med(now, (r) => r.importMs).toFixed(1)} / ${med(then, (r) => r.importMs).toFixed(1)}`,
    ratio(
      med(now, (r) => r.importMs),
      med(then, (r) => r.importMs),
    ),
    `${med(now, (r) => r.firstResponseMs).toFixed(1)} / ${med(then, (r) => r.firstResponseMs).toFixed(1)}`,
    ratio(
      med(now, (r) => r.firstResponseMs),
      med(then, (r) => r.firstResponseMs),
    ),
    `${med(now, (r) => r.wallMs).toFixed(0)} / ${med(then, (r) => r.wallMs).toFixed(0)}`,
    ratio(
      med(now, (r) => r.wallMs),
      med(then, (r) => r.wallMs),
    ),
  ];
});
const victoria = summarize(serverRuns.victoria);
const victoriaTsx = summarize(serverRuns["victoria-tsx"]);
const bolt = summarize(serverRuns.bolt);
const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`;
process.stdout.write(
  [
    `Cold start — ${new Date().toISOString().slice(0, 10)} — ${machine} — ${RUNS} runs each, interleaved, pinned to core 0`,
    "",
    markdownTable(
      [
        "function",
        "import loads (KiB)",
        "import + first event load (KiB)",
        "all chunks (KiB)",
        "import (ms)",
        "import + first response (ms)",
        "process wall (ms)",
        "RSS (MiB)",
      ],
      lambdaRows,
    ),
    "",
    ...(baseline.length > 0
      ? [
          `Current ÷ baseline (${values.baseline}), medians, current / baseline:`,
          "",
          markdownTable(
            [
              "function",
              "import + first event load (KiB)",
              "ratio",
              "import (ms)",
              "ratio",
              "import + first response (ms)",
              "ratio",
              "process wall (ms)",
              "ratio",
            ],
            baselineRows,
          ),
          "",
        ]
      : []),
    !timeServers
      ? "(local servers not timed with --bundles or --baseline)"
      : markdownTable(
          ["local server", "spawn → first 200 (ms)", "ratio"],
          [
            [
              "Serverless Victoria (`npm start`: bundle)",
              formatSummary(victoria, 0),
              (victoria.median / bolt.median).toFixed(2),
            ],
            [
              "Serverless Victoria (sources via tsx)",
              formatSummary(victoriaTsx, 0),
              (victoriaTsx.median / bolt.median).toFixed(2),
            ],
            ["Slack Bolt app (bundle)", formatSummary(bolt, 0), "1.00"],
          ],
        ),
    "",
  ].join("\n"),
);
await mkdir(join(ROOT, "bench", "results"), { recursive: true });
await writeFile(
  join(ROOT, "bench", "results", timeServers ? "cold-start.json" : "cold-start-given-bundles.json"),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine,
      bundles: bundles.map((b) => ({
        name: b.name,
        bytes: b.bytes,
        firstEventBytes: loadedByFirstEvent.get(b.name),
        totalBytes: b.totalBytes,
      })),
      lambda: Object.fromEntries(lambdaRuns),
      ...(baseline.length > 0
        ? {
            baseline: {
              dir: values.baseline,
              bundles: baseline.map((b) => ({
                name: b.name,
                bytes: b.bytes,
                firstEventBytes: baselineLoaded.get(b.name),
              })),
              lambda: Object.fromEntries(baselineRuns),
            },
          }
        : {}),
      server: serverRuns,
    },
    null,
    2,
  ),
);
