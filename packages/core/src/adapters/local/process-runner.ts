import { spawn } from "node:child_process";
import { failureClassOfExit } from "../../failure-class";
import { type CommandResult, type CommandRunner, EXIT_TIMEOUT } from "../../ports";

export interface ProcessRunnerOptions {
  /** The external `victoria` executable (e.g. the Python CLI in a Lambda layer). */
  bin: string;
  /** Arguments placed before the user's (e.g. a script path when `bin` is `node`). */
  prefixArgs?: readonly string[];
  timeoutMs: number;
  maxOutputBytes?: number;
  /** The child's whole environment (pass an allow-listed one: the child must not see our secrets). */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the child as this user and group (needs root): a different uid cannot read this process's
   * `/proc/<pid>/environ`, which holds its secrets whatever environment the child was given.
   */
  user?: { uid: number; gid: number };
  /** Whether a command line prints secrets; unknown commands count as sensitive (we cannot tell). */
  isSensitive?: (args: readonly string[]) => boolean | undefined;
}

/** Thrown when the executable cannot be started at all: an uncaught failure, not a non-zero exit. */
export class CommandSpawnError extends Error {
  override readonly name = "CommandSpawnError";
}

/**
 * Runs an external executable with an argument array — never through a shell, so user text cannot
 * become shell syntax — killing it when the time budget runs out.
 */
export function createProcessRunner({
  bin,
  prefixArgs = [],
  timeoutMs,
  maxOutputBytes = 1024 * 1024,
  env = process.env,
  user,
  isSensitive = () => undefined,
}: ProcessRunnerOptions): CommandRunner {
  return {
    run(args, { actor } = {}): Promise<CommandResult> {
      const sensitive = isSensitive(args) ?? true;
      return new Promise((resolve, reject) => {
        const child = spawn(bin, [...prefixArgs, ...args], {
          shell: false,
          env: actor ? { ...env, VICTORIA_ACTOR: actor } : env,
          stdio: ["ignore", "pipe", "pipe"],
          ...(user ? { uid: user.uid, gid: user.gid } : {}),
        });
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        let timedOut = false;
        const collect = (chunk: Buffer) => {
          if (size + chunk.length > maxOutputBytes) {
            if (!truncated) chunks.push(chunk.subarray(0, maxOutputBytes - size));
            truncated = true;
            size = maxOutputBytes;
            return;
          }
          size += chunk.length;
          chunks.push(chunk);
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, timeoutMs);
        child.on("error", (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            new CommandSpawnError(`could not start the victoria executable: ${error.code ?? error.message}`),
          );
        });
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          let output = Buffer.concat(chunks).toString("utf8");
          if (truncated) output += "\n[output truncated]\n";
          const result = (exitCode: number, text: string): CommandResult => {
            const failureClass = failureClassOfExit(exitCode);
            return { exitCode, output: text, sensitive, ...(failureClass ? { failureClass } : {}) };
          };
          if (timedOut) {
            resolve(result(EXIT_TIMEOUT, `${output}Error: command timed out after ${timeoutMs} ms\n`));
          } else if (code === null) {
            resolve(result(128, `${output}Error: killed by ${signal}\n`));
          } else {
            resolve(result(code, output));
          }
        });
      });
    },
  };
}
