/** Turns the samples into the Markdown report: medians, ranges, ratios to Bolt, and the goals. */
import { formatSummary, markdownTable, median, type Summary, summarize } from "../lib/stats";
import { BASELINE, type Contender, OURS } from "./contenders";
import type { Sample } from "./measure";

/** The goals for our route. */
export const GOALS = { minRatioToBolt: 2.5, maxP99Ms: 10 };

export interface ContenderSummary {
  contender: string;
  requestsPerSec: Summary;
  /** Median req/s over Bolt's median, and the range of per-round ratios (same round, back to back). */
  ratioToBolt: { ofMedians: number; perRound: Summary };
  p50Ms: Summary;
  p99Ms: Summary;
  peakRssMiB: Summary;
  idleRssMiB: Summary;
  serverCpuPercent: Summary;
  /** Requests per CPU-second of the server: less sensitive than req/s to CPU stolen by neighbours. */
  requestsPerCpuSecond: Summary;
  loadgenCpuPercent: Summary;
  foreignCpuPercent: Summary;
  /** Samples in which the load generator, not the server, was the limit (≥ 90% of its core). */
  loadgenSaturated: number;
  /** Non-2xx, connection errors, timeouts and wrong bodies, over all rounds. */
  badResponses: number;
}

const bad = ({ load }: Sample) => load.non2xx + load.errors + load.timeouts + load.mismatches;

export function summarizeAll(
  contenders: readonly Contender[],
  samples: readonly Sample[],
): ContenderSummary[] {
  const of = (name: string) => samples.filter((s) => s.contender === name);
  const bolt = of(BASELINE);
  const boltByRound = new Map(bolt.map((s) => [s.round, s.load.requestsPerSec]));
  const boltMedian = median(bolt.map((s) => s.load.requestsPerSec));
  return contenders.map(({ name }) => {
    const mine = of(name);
    const pick = (value: (s: Sample) => number) => summarize(mine.map(value));
    const perRound = mine.flatMap((s) => {
      const b = boltByRound.get(s.round);
      return b ? [s.load.requestsPerSec / b] : [];
    });
    return {
      contender: name,
      requestsPerSec: pick((s) => s.load.requestsPerSec),
      ratioToBolt: {
        ofMedians: median(mine.map((s) => s.load.requestsPerSec)) / boltMedian,
        perRound: summarize(perRound),
      },
      p50Ms: pick((s) => s.load.latencyMs.p50),
      p99Ms: pick((s) => s.load.latencyMs.p99),
      peakRssMiB: pick((s) => s.peakRssMiB),
      idleRssMiB: pick((s) => s.idleRssMiB),
      serverCpuPercent: pick((s) => s.serverCpuPercent),
      requestsPerCpuSecond: pick((s) => s.load.requestsPerSec / (s.serverCpuPercent / 100)),
      loadgenCpuPercent: pick((s) => s.load.loadgenCpuPercent),
      foreignCpuPercent: pick((s) => s.foreignCpuPercent),
      loadgenSaturated: mine.filter((s) => s.load.loadgenCpuPercent >= 90).length,
      badResponses: mine.reduce((sum, s) => sum + bad(s), 0),
    };
  });
}

export function resultsTable(summaries: readonly ContenderSummary[]): string {
  return markdownTable(
    [
      "contender",
      "req/s median (range)",
      "× Bolt (per-round range)",
      "p50 ms",
      "p99 ms median (range)",
      "peak RSS MiB (VmHWM)",
      "idle RSS MiB",
      "server CPU %",
      "req per server CPU-s",
      "load-gen CPU %",
      "other CPU % (range)",
      "bad responses",
    ],
    summaries.map((s) => [
      s.contender,
      formatSummary(s.requestsPerSec, 0),
      `${s.ratioToBolt.ofMedians.toFixed(2)}× (${s.ratioToBolt.perRound.min.toFixed(2)}–${s.ratioToBolt.perRound.max.toFixed(2)})`,
      s.p50Ms.median.toFixed(0),
      formatSummary(s.p99Ms, 0),
      formatSummary(s.peakRssMiB, 0),
      s.idleRssMiB.median.toFixed(0),
      s.serverCpuPercent.median.toFixed(0),
      s.requestsPerCpuSecond.median.toFixed(0),
      s.loadgenCpuPercent.median.toFixed(0),
      formatSummary(s.foreignCpuPercent, 0),
      String(s.badResponses),
    ]),
  );
}

/** The goals, stated as met or missed (a benchmark reports; it does not fail). */
export function verdict(summaries: readonly ContenderSummary[]): string[] {
  const ours = summaries.find((s) => s.contender === OURS);
  const bolt = summaries.find((s) => s.contender === BASELINE);
  if (!ours || !bolt) return ["Goals: not judged (victoria or bolt was not measured)."];
  const met = (ok: boolean) => (ok ? "**met**" : "**missed**");
  const ratio = ours.ratioToBolt;
  const lines = [
    `- Goal ≥ ${GOALS.minRatioToBolt}× Bolt's req/s: ${met(ratio.ofMedians >= GOALS.minRatioToBolt)} — ${ours.requestsPerSec.median.toFixed(0)} vs ${bolt.requestsPerSec.median.toFixed(0)} req/s = ${ratio.ofMedians.toFixed(2)}× (per-round ${ratio.perRound.min.toFixed(2)}–${ratio.perRound.max.toFixed(2)}×).`,
    `- Goal p99 ≤ ${GOALS.maxP99Ms} ms: ${met(ours.p99Ms.median <= GOALS.maxP99Ms)} — median p99 ${ours.p99Ms.median.toFixed(0)} ms (range ${ours.p99Ms.min.toFixed(0)}–${ours.p99Ms.max.toFixed(0)}); Bolt ${bolt.p99Ms.median.toFixed(0)} ms.`,
    `- RSS under load (VmHWM): victoria ${ours.peakRssMiB.median.toFixed(0)} MiB (range ${ours.peakRssMiB.min.toFixed(0)}–${ours.peakRssMiB.max.toFixed(0)}), Bolt ${bolt.peakRssMiB.median.toFixed(0)} MiB.`,
  ];
  const noisy = summaries.filter((s) => s.foreignCpuPercent.max >= 20).map((s) => s.contender);
  if (noisy.length > 0)
    lines.push(
      `- ⚠ Other work used ≥ 20% of a core during some samples of ${noisy.join(", ")} ("other CPU"): those samples were disturbed; rely on medians and per-round ratios.`,
    );
  for (const s of summaries) {
    if (s.badResponses > 0)
      lines.push(
        `- ⚠ ${s.contender}: ${s.badResponses} bad responses (non-2xx, errors or wrong body): its figures are not valid.`,
      );
    if (s.loadgenSaturated > 0)
      lines.push(
        `- ⚠ ${s.contender}: the load generator used ≥ 90% of its core in ${s.loadgenSaturated}/${s.requestsPerSec.n} samples; there its req/s is a lower bound (the generator, not the server, was the limit).`,
      );
  }
  return lines;
}
