/**
 * `npx tsx bench/ack-path/run.ts [--rounds 5] [--duration 10] [--warmup 2] [--connections 50] [--ablation]`
 *
 * The Slack acknowledgement path: our `/authenticate` against Slack Bolt (default HTTP receiver)
 * and two bare references, one signed slash command per request. Contenders run interleaved,
 * each round on a fresh server pinned to core 0, the load generator pinned to core 1. Prints a
 * Markdown report and writes the raw samples to bench/results/ack-path.json. Never asserts.
 * `--ablation` measures our route built up step by step instead (bench/results/ack-ablation.json).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleServers } from "./build";
import { ABLATION, CONTENDERS } from "./contenders";
import { LOAD_CORE, type LoadOptions, measure, type Sample, SERVER_CORE } from "./measure";
import { resultsTable, summarizeAll, verdict } from "./report";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    ablation: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const contenders = values.ablation ? ABLATION : CONTENDERS;
const RESULTS_FILE = join(
  fileURLToPath(new URL(".", import.meta.url)),
  values.ablation ? "../results/ack-ablation.json" : "../results/ack-path.json",
);
const options: LoadOptions = {
  durationSec: Number(values.duration),
  warmupSec: Number(values.warmup),
  connections: Number(values.connections),
};

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  node: process.version,
  os: `${platform()} ${release()}`,
  loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
};
const bundles = await bundleServers([...new Set(contenders.map((c) => c.entry))]);

const samples: Sample[] = [];
for (let round = 1; round <= rounds; round++) {
  // A B C D, A B C D, ...: drift in the machine's noise hits every contender alike.
  for (const contender of contenders) {
    const sample = await measure(contender, bundles.get(contender.entry) as string, round, options);
    samples.push(sample);
    const { load } = sample;
    process.stderr.write(
      `round ${round}/${rounds} ${contender.name.padEnd(9)} ${load.requestsPerSec.toFixed(0).padStart(6)} req/s  p99 ${load.latencyMs.p99} ms  peak RSS ${sample.peakRssMiB.toFixed(0)} MiB  server CPU ${sample.serverCpuPercent.toFixed(0)}%  load-gen CPU ${load.loadgenCpuPercent.toFixed(0)}%  other CPU ${sample.foreignCpuPercent.toFixed(0)}%  bad ${load.non2xx + load.errors + load.timeouts + load.mismatches}\n`,
    );
  }
}

const summaries = summarizeAll(contenders, samples);
const date = new Date().toISOString();
const report = [
  "## Slack acknowledgement path",
  "",
  `${date} · ${machine.cpu} · ${machine.cores} cores · Node ${machine.node} · load average at start ${machine.loadAverageAtStart.join(" ")}`,
  "",
  `${rounds} interleaved rounds × ${options.durationSec} s (after ${options.warmupSec} s warm-up) at ${options.connections} connections; server pinned to core ${SERVER_CORE}, autocannon to core ${LOAD_CORE}; a fresh server per sample. Every request is a validly signed slash command with a unique trigger_id.`,
  "",
  resultsTable(summaries),
  "",
  ...verdict(summaries),
  "",
  "Notes: victoria is the real `/authenticate` route in `createApp` on @hono/node-server with the in-memory dedupe store and a dispatcher that encodes the job and hands it off, as the deployed function hands it to the worker Lambda (VICTORIA_BENCH_IN_PROCESS=1: the in-process dispatcher); its per-request log lines are built but discarded, as Bolt logs nothing per request by default. Bolt acks with an empty 200; victoria with its ephemeral JSON message. Latencies are whole milliseconds (autocannon's histogram). Servers run as esbuild bundles on plain node. CPU % is of one core; other CPU is what the rest of the machine (other processes, steal) used during the measured window.",
].join("\n");
process.stdout.write(`${report}\n`);

await mkdir(join(RESULTS_FILE, ".."), { recursive: true });
await writeFile(
  RESULTS_FILE,
  `${JSON.stringify({ date, machine, options: { rounds, ...options }, summaries, samples }, null, 2)}\n`,
);
process.stderr.write(`Raw results: ${RESULTS_FILE}\n`);
