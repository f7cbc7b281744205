import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  /** stdout and stderr as they arrived. */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts `npm start`'s entry point as its own process on a free port and reads the URL it prints.
 * Development overrides a caller's shell might carry are cleared so the embedded defaults apply.
 */
export interface SpawnOptions {
  /** A bundle from build-local.ts (as `npm start` runs); by default the sources through tsx. */
  bundle?: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  /** Rewrites the command line, e.g. to pin it to a core with `taskset` (benchmarks). */
  wrap?: (command: string, args: string[]) => [string, string[]];
  startTimeoutMs?: number;
  /** Where it runs, i.e. where its `.victoria/` goes (a fresh folder is a fresh clone); the repository by default. */
  cwd?: string;
}

export async function spawnLocalServer(
  env: Record<string, string>,
  {
    bundle,
    nodeArgs = [],
    wrap = (command, args) => [command, args],
    startTimeoutMs = 15_000,
    cwd = repoRoot,
  }: SpawnOptions = {},
): Promise<SpawnedServer> {
  // Absolute paths: `cwd` may be anywhere (tsx itself is resolved from the repository's modules).
  const entry =
    bundle === undefined
      ? [
          "--import",
          pathToFileURL(require.resolve("tsx")).href,
          join(repoRoot, "packages/functions/src/local.ts"),
        ]
      : [bundle];
  const [command, args] = wrap(process.execPath, [...nodeArgs, ...entry]);
  const child = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      PORT: "0",
      VICTORIA_SHARED_SECRET: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG: "",
      VICTORIA_CONFIG_YAML: "",
      VICTORIA_LOCAL_PROVIDERS: "",
      SMTP_URL: "",
      MAIL_FROM: "",
      SLACK_API_URL: "",
      SERVICE_BUS_CONNECTIONS: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start: ${logs.join("")}`)),
      startTimeoutMs,
    );
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
  return {
    url,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
