import type { Logger } from "../logging/json-logger";
import type { Dispatcher, Job } from "../ports";
import { createJobRouter, encodeJob, findHandler, type JobHandlers, unknownKindError } from "./job-router";

export interface InProcessDispatcher extends Dispatcher {
  /** Resolves once every job started so far (and any job those jobs dispatched) has finished. */
  idle(): Promise<void>;
  /** Jobs dispatched and not yet finished. */
  readonly pending: number;
}

/**
 * Runs jobs in this process, after the caller has carried on (and so after the HTTP answer that
 * dispatched them has gone out). For local use and tests: on Lambda the process is frozen after the
 * response, so there jobs go through the Lambda dispatcher instead.
 */
export function createInProcessDispatcher(
  handlers: JobHandlers,
  { logger }: { logger: Logger },
): InProcessDispatcher {
  // Same router as the worker Lambda, fed the same JSON, so local runs see what AWS runs would.
  const router = createJobRouter(handlers);
  const running = new Set<Promise<void>>();

  async function runJob(kind: string, encoded: string): Promise<void> {
    // setImmediate, not a microtask: the caller's continuation (writing the response) goes first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const started = Date.now();
    try {
      await router.run(JSON.parse(encoded));
      logger.info("job finished", { kind, durationMs: Date.now() - started });
    } catch (error) {
      // Never the payload: it may hold user text. The error's own message is the handler's to keep clean.
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      logger.error("job failed", {
        kind,
        durationMs: Date.now() - started,
        errorName: name,
        errorMessage: message,
      });
    }
  }

  return {
    async dispatch(job: Job) {
      if (!findHandler(handlers, job.kind)) throw unknownKindError(job.kind);
      const encoded = encodeJob(job);
      const run = runJob(job.kind, encoded);
      running.add(run);
      void run.finally(() => running.delete(run));
    },

    async idle() {
      // Loop: a job may dispatch further jobs while we wait.
      while (running.size > 0) await Promise.allSettled([...running]);
    },

    get pending() {
      return running.size;
    },
  };
}
