import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** What an invocation ended with, as Lambda reports it. */
export type InvocationOutcome =
  | { ok: true; result: unknown; durationMs: number; maxMemoryUsedMB: number }
  | {
      ok: false;
      error: { errorType: string; errorMessage: string };
      durationMs: number;
      maxMemoryUsedMB: number;
    };

export interface FunctionHostOptions {
  /** The component id (`Execute`) and the function name the twin gave it. */
  id: string;
  functionName: string;
  /** The built bundle's `index.mjs`. */
  bundle: string;
  /** Exactly the environment the deployment declares, plus what the runtime itself sets. */
  env: Record<string, string>;
  timeoutSeconds: number;
  memoryMB: number;
  /** Where the process's stdout/stderr (the function's log lines) go. */
  log: (line: string) => void;
}

export interface FunctionHost {
  readonly id: string;
  readonly functionName: string;
  /** Runs one invocation (one at a time, as one Lambda container does); never rejects. */
  invoke(event: unknown): Promise<InvocationOutcome>;
  /** The largest RSS any invocation reported, in MB (Lambda's "Max Memory Used"). */
  readonly maxMemoryUsedMB: number;
  close(): Promise<void>;
}

const PROCESS_MODULE = fileURLToPath(new URL("./function-process.ts", import.meta.url));

/**
 * One function of the twin: a child process ("container") importing its bundle, started on first
 * use and again after a timeout killed it. Invocations are serialised, as one container runs one
 * event at a time; past the declared timeout the container is killed and the invocation fails
 * with Lambda's own message.
 */
export function createFunctionHost(options: FunctionHostOptions): FunctionHost {
  let child: ChildProcess | undefined;
  let ready: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let nextId = 1;
  let maxMemoryUsedMB = 0;

  function start(): Promise<void> {
    const started = fork(PROCESS_MODULE, [options.bundle], {
      execArgv: ["--import", "tsx"],
      env: options.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child = started;
    // Whole lines only: a chunk may end mid-line (a long JSON log or EMF line), its rest in the next.
    const forward = (stream: NodeJS.ReadableStream | null) => {
      let partial = "";
      stream?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) options.log(line);
      });
      stream?.on("end", () => {
        if (partial.trim()) options.log(partial);
      });
    };
    forward(started.stdout);
    forward(started.stderr);
    started.once("exit", () => {
      if (child === started) {
        child = undefined;
        ready = undefined;
      }
    });
    return new Promise<void>((resolve, reject) => {
      started.once("message", () => resolve());
      started.once("exit", (code) =>
        reject(new Error(`${options.id} exited with ${code} before it was ready`)),
      );
    });
  }

  async function runOne(event: unknown): Promise<InvocationOutcome> {
    const began = Date.now();
    ready ??= start();
    try {
      await ready;
    } catch (error) {
      ready = undefined;
      return failed("Runtime.ExitError", (error as Error).message, began);
    }
    const running = child as ChildProcess;
    const id = nextId++;
    const deadline = began + options.timeoutSeconds * 1000;
    running.send({
      type: "invoke",
      id,
      event,
      deadline,
      functionName: options.functionName,
      memoryMB: options.memoryMB,
    });
    const reply = new Promise<InvocationOutcome>((resolve) => {
      const onMessage = (message: {
        type: string;
        id: number;
        ok: boolean;
        result?: unknown;
        error?: { errorType: string; errorMessage: string };
        rssBytes: number;
      }) => {
        if (message.type !== "result" || message.id !== id) return;
        running.off("message", onMessage);
        running.off("exit", onExit);
        const usedMB = Math.ceil(message.rssBytes / (1024 * 1024));
        maxMemoryUsedMB = Math.max(maxMemoryUsedMB, usedMB);
        const durationMs = Date.now() - began;
        resolve(
          message.ok
            ? { ok: true, result: message.result, durationMs, maxMemoryUsedMB: usedMB }
            : {
                ok: false,
                error: message.error ?? { errorType: "Error", errorMessage: "unknown" },
                durationMs,
                maxMemoryUsedMB: usedMB,
              },
        );
      };
      // Each invocation's listeners go with its reply: one container serves many invocations.
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        running.off("message", onMessage);
        resolve(
          failed("Runtime.ExitError", `RequestId: ${id} Error: Runtime exited with ${code ?? signal}`, began),
        );
      };
      running.on("message", onMessage);
      running.once("exit", onExit);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InvocationOutcome>((resolve) => {
      timer = setTimeout(() => {
        // As Lambda does: the container is gone; the next invocation is a cold start.
        running.kill("SIGKILL");
        if (child === running) {
          child = undefined;
          ready = undefined;
        }
        resolve(
          failed(
            "Sandbox.Timedout",
            `Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
            began,
          ),
        );
      }, deadline - Date.now());
    });
    const outcome = await Promise.race([reply, timedOut]);
    clearTimeout(timer);
    const report = outcome.ok ? "" : ` ${outcome.error.errorType}: ${outcome.error.errorMessage}`;
    options.log(
      `REPORT ${options.functionName} Duration: ${outcome.durationMs} ms Memory Size: ${options.memoryMB} MB Max Memory Used: ${outcome.maxMemoryUsedMB} MB${report}`,
    );
    return outcome;
  }

  function failed(errorType: string, errorMessage: string, began: number): InvocationOutcome {
    return { ok: false, error: { errorType, errorMessage }, durationMs: Date.now() - began, maxMemoryUsedMB };
  }

  return {
    id: options.id,
    functionName: options.functionName,
    get maxMemoryUsedMB() {
      return maxMemoryUsedMB;
    },
    invoke(event) {
      const run = queue.then(() => runOne(event));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      running.kill("SIGTERM");
      await once(running, "exit");
    },
  };
}
