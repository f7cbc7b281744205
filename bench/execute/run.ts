/**
 * Bench 4: `config view` through `/execute` with the in-process engine versus the same through
 * VICTORIA_BIN (a spawned Node CLI of the engine): latency p50/p99 and the ratio. Two CLIs:
 * `bin/victoria` (the sources through tsx) and the bundle `npm run build:cli` makes.
 *
 *   npx tsx bench/execute/run.ts [--rounds 3] [--in-process 200] [--cli 50] [--cli-alone 10]
 *
 * Each round spawns a fresh server per mode on core 0, in-process then the CLIs (A B C A B C …); requests
 * are sequential (concurrency 1) from this process, pinned to core 1.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { buildCli } from "../../packages/functions/scripts/build-cli";
import { cleanRun, environmentTable, pinSelf } from "../drain/machine";
import { repoRoot, spawnPinnedServer } from "../drain/pinned-server";
import { formatSummary, markdownTable, percentile, pinned, summarize } from "../lib/stats";

const SECRET = "dev-victoria-shared-secret";
const BODY = JSON.stringify({ args: ["config", "view"] });
const VICTORIA_BIN = join(repoRoot, "packages/core/bin/victoria");
const BUNDLED_BIN = await buildCli();
const WARMUP = { inProcess: 10, cli: 3 };

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    "in-process": { type: "string", default: "200" },
    cli: { type: "string", default: "50" },
    "cli-alone": { type: "string", default: "10" },
  },
});

type Mode = "in-process" | "cli" | "cli-bundled";
const BIN: Record<Mode, string | undefined> = {
  "in-process": undefined,
  cli: VICTORIA_BIN,
  "cli-bundled": BUNDLED_BIN,
};

/** One signed request; its latency in ms and the YAML it answered. */
async function execute(url: string): Promise<{ ms: number; yaml: string }> {
  const started = performance.now();
  const response = await fetch(`${url}/execute`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signServiceRequest(SECRET, BODY) },
    body: BODY,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`/execute answered ${response.status}: ${text}`);
  const yaml = JSON.parse(text) as string; // the contract: 200 + the output as a JSON string
  if (!/^storage_providers:/m.test(yaml)) throw new Error(`not the config YAML: ${yaml.slice(0, 200)}`);
  return { ms, yaml };
}

async function round(mode: Mode, requests: number): Promise<{ latencies: number[]; yaml: string }> {
  const bin = BIN[mode];
  const server = await spawnPinnedServer({ core: 0, env: bin === undefined ? {} : { VICTORIA_BIN: bin } });
  try {
    let yaml = "";
    for (let i = 0; i < (bin === undefined ? WARMUP.inProcess : WARMUP.cli); i++)
      yaml = (await execute(server.url)).yaml;
    const latencies: number[] = [];
    for (let i = 0; i < requests; i++) latencies.push((await execute(server.url)).ms);
    return { latencies, yaml };
  } finally {
    await server.stop();
  }
}

/** The CLI spawned directly on core 0, as /execute's runner does: what each CLI request pays. */
function timeAlone(command: string, args: string[], times: number): number[] {
  return Array.from({ length: times }, () => {
    const [bin, pinnedArgs] = pinned(0, command, args);
    const started = performance.now();
    const result = spawnSync(bin, pinnedArgs, {
      cwd: repoRoot,
      env: { ...process.env, VICTORIA_CONFIG: "" },
    });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.toString()}`);
    return ms;
  });
}

interface ModeRound {
  p50: number;
  p99: number;
  otherCpu: number;
  /** Other processes' CPU % in attempts thrown away and redone. */
  discarded: number[];
  latencies: number[];
}

pinSelf(1);
const rounds = Number(values.rounds);
const alone = Number(values["cli-alone"]);
const perRound: Array<Record<Mode, ModeRound>> = [];
const outputs = new Set<string>();
for (let r = 1; r <= rounds; r++) {
  const entry = {} as Record<Mode, ModeRound>;
  for (const [mode, requests] of [
    ["in-process", Number(values["in-process"])],
    ["cli", Number(values.cli)],
    ["cli-bundled", Number(values.cli)],
  ] as const) {
    const { value, otherCpu, discarded } = await cleanRun(() => round(mode, requests));
    outputs.add(value.yaml);
    const { latencies } = value;
    entry[mode] = {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      otherCpu,
      discarded,
      latencies,
    };
    process.stderr.write(
      `round ${r} ${mode}: p50 ${entry[mode].p50.toFixed(2)} ms, p99 ${entry[mode].p99.toFixed(2)} ms, ` +
        `other processes ${otherCpu.toFixed(0)} % CPU\n`,
    );
  }
  perRound.push(entry);
}
const cliAlone = await cleanRun(() => timeAlone(VICTORIA_BIN, ["config", "view"], alone));
const bundledAlone = await cleanRun(() => timeAlone(BUNDLED_BIN, ["config", "view"], alone));
// To split the CLI's cost: the engine under tsx's loader without the wrapper's extra process
// (node_modules/.bin/tsx starts a second Node to run the script), and bare Node start-up.
const loaderAlone = await cleanRun(() =>
  timeAlone(
    process.execPath,
    ["--import", "tsx", "packages/core/src/victoria/bin.ts", "config", "view"],
    alone,
  ),
);
const nodeAlone = await cleanRun(() => timeAlone(process.execPath, ["-e", ""], alone));

const stat = (mode: Mode, key: "p50" | "p99") => summarize(perRound.map((e) => e[mode][key]));
const ratio = (cli: Mode, key: "p50" | "p99") =>
  summarize(perRound.map((e) => e[cli][key] / e["in-process"][key]));
const otherCpu = (mode: Mode) => formatSummary(summarize(perRound.map((e) => e[mode].otherCpu)), 0);
/** A CLI mode's latencies, then their ratio to the in-process engine's. */
const cliRows = (mode: "cli" | "cli-bundled", label: string, ratioLabel: string) => [
  [
    label,
    values.cli as string,
    formatSummary(stat(mode, "p50")),
    formatSummary(stat(mode, "p99")),
    otherCpu(mode),
  ],
  [
    ratioLabel,
    "",
    `${formatSummary(ratio(mode, "p50"), 0)}×`,
    `${formatSummary(ratio(mode, "p99"), 0)}×`,
    "",
  ],
];
const aloneRow = (label: string, { value, otherCpu }: { value: number[]; otherCpu: number }) => [
  label,
  String(alone),
  formatSummary(summarize(value)),
  `${percentile(value, 100).toFixed(1)} (max)`,
  otherCpu.toFixed(0),
];
console.log(environmentTable());
console.log();
console.log(
  markdownTable(
    [
      "`config view`",
      "requests per round",
      `p50 ms, median (range) of ${rounds} rounds`,
      "p99 ms",
      "other processes' CPU %",
    ],
    [
      [
        "/execute, in-process engine",
        values["in-process"] as string,
        formatSummary(stat("in-process", "p50"), 2),
        formatSummary(stat("in-process", "p99"), 2),
        otherCpu("in-process"),
      ],
      ...cliRows("cli", "/execute, VICTORIA_BIN (Node CLI)", "ratio CLI / in-process"),
      ...cliRows(
        "cli-bundled",
        "/execute, VICTORIA_BIN (bundled CLI, `npm run build:cli`)",
        "ratio bundled CLI / in-process",
      ),
      aloneRow("CLI alone (`bin/victoria config view`, spawned)", cliAlone),
      aloneRow("bundled CLI alone (`packages/functions/dist/cli/victoria.mjs config view`)", bundledAlone),
      aloneRow("`node --import tsx bin.ts config view` alone", loaderAlone),
      aloneRow("`node -e ''` alone", nodeAlone),
    ],
  ),
);
const redone = perRound.reduce(
  (n, e) => n + e["in-process"].discarded.length + e.cli.discarded.length + e["cli-bundled"].discarded.length,
  0,
);
console.log(`\nrounds discarded and redone (others > 10 % CPU): ${redone}`);
console.log(`same YAML from every mode: ${outputs.size === 1 ? "yes" : `no (${outputs.size} variants)`}`);

const out = join(repoRoot, "bench/results/execute.json");
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), warmup: WARMUP, rounds: perRound, cliAlone, bundledAlone, loaderAlone, nodeAlone }, null, 2)}\n`,
);
console.log(`raw results: ${out}`);
