import { type CommandResult, type CommandRunner, EXIT_TIMEOUT } from "../ports";
import type { LoadedConfig } from "./config";
import type { Victoria } from "./engine";
import { BufferedOutput } from "./output";

const TIMED_OUT = Symbol("timed out");

export interface InProcessRunnerOptions {
  victoria: Victoria;
  /** Config file when the command line has no `-c`; null = bundled default. */
  configPath: string | null;
  /** Where the config comes from when it is not a file (see RunOptions.loadDefaultConfig). */
  loadDefaultConfig?: () => Promise<LoadedConfig>;
  timeoutMs: number;
  maxOutputBytes?: number;
}

/** Runs commands with the TypeScript engine in this process, capturing what they print. */
export function createInProcessRunner({
  victoria,
  configPath,
  loadDefaultConfig,
  timeoutMs,
  maxOutputBytes,
}: InProcessRunnerOptions): CommandRunner {
  return {
    async run(args, { actor } = {}): Promise<CommandResult> {
      const out = new BufferedOutput(maxOutputBytes);
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      // The engine is asked to stop through the signal; the race makes sure the caller is answered on time.
      const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => {
          controller.abort(new Error("time budget exceeded"));
          resolve(TIMED_OUT);
        }, timeoutMs);
      });
      try {
        const sensitive = victoria.isSensitive(args) ?? false;
        const outcome = await Promise.race([
          victoria.execute(args, {
            out,
            configPath,
            ...(loadDefaultConfig ? { loadDefaultConfig } : {}),
            signal: controller.signal,
            ...(actor ? { actor } : {}),
          }),
          timedOut,
        ]);
        if (outcome === TIMED_OUT) {
          out.err(`Error: command timed out after ${timeoutMs} ms`);
          return { exitCode: EXIT_TIMEOUT, output: out.text(), failureClass: "transient", sensitive };
        }
        return { ...outcome, output: out.text(), sensitive };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
