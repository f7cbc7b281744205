import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

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
export async function spawnLocalServer(
  env: Record<string, string>,
  { bundle }: { bundle?: string } = {},
): Promise<SpawnedServer> {
  // The sources through tsx (as tests run them), or a bundle from build-local.ts (as `npm start` runs).
  const args = bundle === undefined ? ["--import", "tsx", "packages/functions/src/local.ts"] : [bundle];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: "0",
      VICTORIA_SHARED_SECRET: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${logs.join("")}`)), 15_000);
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
