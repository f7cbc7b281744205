/**
 * Spawns the real local server (`npm start`'s entry) pinned to one core, so the orchestrator's
 * own work (stand-ins, load) does not compete with it. Shared by the drain and execute benches.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { spawnLocalServer } from "../../packages/functions/test/spawn-local-server";
import { pinned } from "../lib/stats";

export { repoRoot } from "../../packages/functions/test/spawn-local-server";

export interface PinnedServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** stdout and stderr, as they arrived. */
  logs: string[];
  /** Peak resident set (VmHWM) in MiB so far; read it before stop(). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

export interface PinnedServerOptions {
  core: number;
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
}

export async function spawnPinnedServer({
  core,
  env,
  nodeArgs = [],
}: PinnedServerOptions): Promise<PinnedServer> {
  const server = await spawnLocalServer(env, {
    nodeArgs,
    wrap: (command, args) => pinned(core, command, args),
    startTimeoutMs: 30_000,
  });
  const pid = server.child.pid as number; // taskset execs, so this is node's pid
  return {
    ...server,
    pid,
    peakRssMiB() {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return match ? Number(match[1]) / 1024 : Number.NaN;
    },
  };
}

/** Log lines the server wrote as JSON, for counting warnings and errors. */
export function jsonLogLines(logs: readonly string[]): Array<Record<string, unknown>> {
  return logs
    .join("")
    .split("\n")
    .flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
