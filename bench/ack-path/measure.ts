/**
 * One sample: a fresh server on core 0, a probe, warm-up plus measured load from core 1, then the
 * server's memory and CPU from /proc, and the server stopped.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Contender } from "./contenders";
import type { LoadResult } from "./load";
import { type Child, cpuSeconds, machineBusySeconds, memoryMiB, spawnPinned, stop } from "./proc";
import { signedHeaders, slashCommandBody } from "./slack-request";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = join(HERE, "../..");
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

export interface LoadOptions {
  durationSec: number;
  warmupSec: number;
  connections: number;
}

export interface Sample {
  contender: string;
  round: number;
  load: LoadResult;
  /** RSS after start-up and one request, before load. */
  idleRssMiB: number;
  /** VmHWM after the load: the most the server ever held resident, warm-up and load included. */
  peakRssMiB: number;
  rssAfterLoadMiB: number;
  /** Server CPU over the measured window, in % of one core (≈100: the server was the bottleneck). */
  serverCpuPercent: number;
  /** CPU used by everything else on the machine (other processes, steal) meanwhile, in % of one core. */
  foreignCpuPercent: number;
}

/** One signed request before any load: a contender that does not acknowledge properly is not measured. */
async function probe(url: string, contender: Contender): Promise<void> {
  const body = slashCommandBody(`probe-${Date.now()}`);
  const response = await fetch(url, { method: "POST", headers: signedHeaders(body), body });
  const text = await response.text();
  if (response.status !== 200 || text !== contender.expectedBody) {
    throw new Error(
      `${contender.name} probe: expected 200 ${JSON.stringify(contender.expectedBody)}, got ${response.status} ${JSON.stringify(text)}`,
    );
  }
}

export async function measure(
  contender: Contender,
  bundle: string,
  round: number,
  options: LoadOptions,
): Promise<Sample> {
  const server = spawnPinned(SERVER_CORE, [bundle], REPO_ROOT, contender.env);
  let load: Child | undefined;
  try {
    const port = Number(await server.line("READY ", 15_000));
    const base = `http://127.0.0.1:${port}`;
    await probe(base + contender.path, contender);
    const idleRssMiB = memoryMiB(server.pid).rss;

    load = spawnPinned(
      LOAD_CORE,
      [
        ...["--import", "tsx", join(HERE, "load.ts")],
        ...["--url", base, "--path", contender.path, "--expect", contender.expectedBody],
        ...["--duration", String(options.durationSec), "--warmup", String(options.warmupSec)],
        ...["--connections", String(options.connections)],
      ],
      REPO_ROOT,
    );
    const startupMs = 30_000;
    await load.line("MEASURING", startupMs + options.warmupSec * 1000);
    const cpuBefore = cpuSeconds(server.pid);
    const machineBefore = machineBusySeconds();
    const startedAt = performance.now();
    const result = JSON.parse(
      await load.line("RESULT ", startupMs + options.durationSec * 1000),
    ) as LoadResult;
    const cpuUsed = cpuSeconds(server.pid) - cpuBefore;
    const machineUsed = machineBusySeconds() - machineBefore;
    const elapsedSec = (performance.now() - startedAt) / 1000;
    const loadgenUsed = (result.loadgenCpuPercent / 100) * result.durationSec;
    if (server.process.exitCode !== null)
      throw new Error(`${contender.name} died under load: ${server.stderr()}`);
    const memory = memoryMiB(server.pid);
    return {
      contender: contender.name,
      round,
      load: result,
      idleRssMiB,
      peakRssMiB: memory.peak,
      rssAfterLoadMiB: memory.rss,
      serverCpuPercent: (cpuUsed / elapsedSec) * 100,
      foreignCpuPercent: (Math.max(0, machineUsed - cpuUsed - loadgenUsed) / elapsedSec) * 100,
    };
  } finally {
    if (load) await stop(load);
    await stop(server);
  }
}
