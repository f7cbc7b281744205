import { describe, expect, it } from "vitest";
import { createMemoryLogger } from "../logging/json-logger";
import { createInProcessDispatcher } from "./in-process-dispatcher";
import { DispatchError, type JobHandlers } from "./job-router";

/** A promise plus its resolver, to hold a job open while the test looks at the dispatcher. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("createInProcessDispatcher", () => {
  it("returns before the job runs, then runs it with the payload", async () => {
    const events: string[] = [];
    const received: unknown[] = [];
    const dispatcher = createInProcessDispatcher(
      {
        work: async (payload) => {
          events.push("job ran");
          received.push(payload);
        },
      },
      { logger: createMemoryLogger() },
    );

    await dispatcher.dispatch({ kind: "work", payload: { args: ["config", "view"] } });
    events.push("dispatch returned");
    // Microtasks (the caller's continuation, e.g. writing the response) go before the job.
    await Promise.resolve();
    events.push("caller continued");
    expect(dispatcher.pending).toBe(1);

    await dispatcher.idle();
    expect(events).toEqual(["dispatch returned", "caller continued", "job ran"]);
    expect(received).toEqual([{ args: ["config", "view"] }]);
    expect(dispatcher.pending).toBe(0);
  });

  it("hands the handler a JSON copy, as a worker Lambda would get, not the caller's object", async () => {
    let received: unknown;
    const dispatcher = createInProcessDispatcher(
      {
        work: async (payload) => {
          received = payload;
        },
      },
      { logger: createMemoryLogger() },
    );
    const payload = { when: new Date("2026-01-01T00:00:00.000Z"), list: [1] };
    await dispatcher.dispatch({ kind: "work", payload });
    payload.list.push(2); // mutated after dispatch: must not leak into the job
    await dispatcher.idle();
    expect(received).toEqual({ when: "2026-01-01T00:00:00.000Z", list: [1] });
  });

  it("logs a failing job with its kind and the error, never the payload, and does not throw", async () => {
    const logger = createMemoryLogger();
    const dispatcher = createInProcessDispatcher(
      {
        fails: async () => {
          throw new TypeError("directory unreachable");
        },
      },
      { logger },
    );

    await expect(dispatcher.dispatch({ kind: "fails", payload: { token: "xoxb-secret-123" } })).resolves.toBe(
      undefined,
    );
    await dispatcher.idle();

    const failures = logger.lines.filter((line) => line.level === "error");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      message: "job failed",
      kind: "fails",
      errorName: "TypeError",
      errorMessage: "directory unreachable",
    });
    expect(JSON.stringify(logger.lines)).not.toContain("xoxb-secret-123");
  });

  it("refuses an unknown kind at dispatch time", async () => {
    const dispatcher = createInProcessDispatcher({}, { logger: createMemoryLogger() });
    const error = await dispatcher.dispatch({ kind: "nope", payload: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DispatchError);
    expect((error as DispatchError).reason).toBe("unknown-kind");
    expect((error as DispatchError).message).toContain('"nope"');
    expect(dispatcher.pending).toBe(0);
  });

  it("refuses a payload that is not JSON-serialisable at dispatch time", async () => {
    const dispatcher = createInProcessDispatcher({ work: async () => {} }, { logger: createMemoryLogger() });
    await expect(dispatcher.dispatch({ kind: "work", payload: { n: 1n } })).rejects.toBeInstanceOf(
      DispatchError,
    );
    expect(dispatcher.pending).toBe(0);
  });

  it("idle() waits for running jobs and for jobs those jobs dispatch", async () => {
    const held = gate();
    const finished: string[] = [];
    const handlers: JobHandlers = {
      first: async () => {
        await held.opened;
        await dispatcher.dispatch({ kind: "second", payload: null });
        finished.push("first");
      },
      second: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        finished.push("second");
      },
    };
    const dispatcher = createInProcessDispatcher(handlers, { logger: createMemoryLogger() });

    await dispatcher.dispatch({ kind: "first", payload: null });
    let idle = false;
    const waiting = dispatcher.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(idle).toBe(false);
    expect(dispatcher.pending).toBe(1);

    held.open();
    await waiting;
    expect(finished).toEqual(["first", "second"]);
    expect(dispatcher.pending).toBe(0);
  });

  it("idle() resolves at once when nothing was dispatched", async () => {
    const dispatcher = createInProcessDispatcher({}, { logger: createMemoryLogger() });
    await expect(dispatcher.idle()).resolves.toBe(undefined);
  });
});
