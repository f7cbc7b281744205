/**
 * The load generator, run pinned to its own core: autocannon at N connections, every request a
 * freshly signed slash command with a unique `trigger_id` (our route acknowledges a repeated one on
 * a cheaper duplicate path, so identical bodies would flatter it). Every response body is checked.
 *
 * Prints `MEASURING` when the warm-up is over and `RESULT <json>` at the end.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { signedHeaders, slashCommandBody } from "./slack-request";

export interface LoadResult {
  requestsPerSec: number;
  responses: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  latencyMs: { mean: number; p50: number; p97_5: number; p99: number; max: number };
  durationSec: number;
  /** CPU the generator itself used, in % of one core: near 100 means it, not the server, was the limit. */
  loadgenCpuPercent: number;
}

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string" },
    expect: { type: "string", default: "" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
  },
});
if (!values.url || !values.path) throw new Error("load.ts needs --url and --path");
const { url, path, expect } = values;

let sent = 0;
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;

function fire(durationSec: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: Number(values.connections),
    duration: durationSec,
    requests: [
      {
        method: "POST",
        path,
        // Signed per request, here on the generator's core, so no two requests share a trigger_id.
        setupRequest: (request) => {
          const body = slashCommandBody(`${runId}.${++sent}`);
          return { ...request, body, headers: { ...request.headers, ...signedHeaders(body) } };
        },
      },
    ],
    verifyBody: (body) => body === expect,
  });
}

function summarise(result: autocannon.Result, cpuMicros: number): LoadResult {
  const { latency } = result;
  // statusCodeStats is in the result but not in @types/autocannon.
  const stats = (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  return {
    requestsPerSec: result.requests.average,
    responses: result.requests.total,
    ok2xx: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    statusCodes: Object.fromEntries(Object.entries(stats).map(([code, { count }]) => [code, count])),
    latencyMs: {
      mean: latency.mean,
      p50: latency.p50,
      p97_5: latency.p97_5,
      p99: latency.p99,
      max: latency.max,
    },
    durationSec: result.duration,
    loadgenCpuPercent: (cpuMicros / 1e6 / result.duration) * 100,
  };
}

const warmup = Number(values.warmup);
if (warmup > 0) await fire(warmup);
process.stdout.write("MEASURING\n");
const cpuBefore = process.cpuUsage();
const result = await fire(Number(values.duration));
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`RESULT ${JSON.stringify(summarise(result, cpu.user + cpu.system))}\n`);
