/**
 * Spawns the real local server (`npm start`'s entry) pinned to one core, so the orchestrator's
 * own work (stand-ins, load) does not compete with it. Shared by the drain and execute benches.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pinned } from "../lib/stats";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

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
  const [command, args] = pinned(core, process.execPath, [
    ...nodeArgs,
    "--import",
    "tsx",
    "packages/functions/src/local.ts",
  ]);
  const child = spawn(command, args, {
    cwd: repoRoot,
    // Overrides a developer's shell may carry are cleared so each run sees only what we pass.
    env: {
      ...process.env,
      PORT: "0",
      VICTORIA_SHARED_SECRET: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG: "",
      SLACK_API_URL: "",
      SERVICE_BUS_CONNECTIONS: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${logs.join("")}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      logs.push(chunk.toString());
      const match = /listening on (http:\/\/\S+)/.exec(logs.join(""));
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${logs.join("")}`)));
  });
  const pid = child.pid as number; // taskset execs, so this is node's pid
  return {
    url,
    pid,
    child,
    logs,
    peakRssMiB() {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return match ? Number(match[1]) / 1024 : Number.NaN;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
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
