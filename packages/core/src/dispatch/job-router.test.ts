import { describe, expect, it } from "vitest";
import { createMemoryLogger } from "../logging/json-logger";
import { currentRequestId, withRequestContext } from "../logging/request-context";
import { createInProcessDispatcher } from "./in-process-dispatcher";
import { createJobRouter, DispatchError, encodeJob, type JobHandlers, parseJobEvent } from "./job-router";

function recordingHandlers() {
  const seen: Array<{ kind: string; payload: unknown }> = [];
  const handlers: JobHandlers = {
    "slack.command": async (payload) => {
      seen.push({ kind: "slack.command", payload });
    },
    "slack.reply": async (payload) => {
      seen.push({ kind: "slack.reply", payload });
    },
  };
  return { seen, handlers };
}

async function rejection(promise: Promise<unknown>): Promise<DispatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DispatchError);
  return error as DispatchError;
}

describe("createJobRouter", () => {
  it("routes an event to the handler of its kind with its payload", async () => {
    const { seen, handlers } = recordingHandlers();
    const router = createJobRouter(handlers);
    await router.run({
      kind: "slack.reply",
      payload: { text: "hi" },
      dispatchedAt: "2026-01-02T03:04:05.678Z",
    });
    expect(seen).toEqual([{ kind: "slack.reply", payload: { text: "hi" } }]);
  });

  it("runs what encodeJob produced, after a JSON round trip, unchanged", async () => {
    const { seen, handlers } = recordingHandlers();
    const payload = {
      user: "U1",
      args: ["config", "view"],
      note: "ünïcødé ✓",
      nested: { n: 1, empty: null },
    };
    await createJobRouter(handlers).run(JSON.parse(encodeJob({ kind: "slack.command", payload })));
    expect(seen).toEqual([{ kind: "slack.command", payload }]);
  });

  it("delivers an undefined payload as null (JSON has no undefined)", async () => {
    const { seen, handlers } = recordingHandlers();
    await createJobRouter(handlers).run(JSON.parse(encodeJob({ kind: "slack.reply", payload: undefined })));
    expect(seen).toEqual([{ kind: "slack.reply", payload: null }]);
  });

  it.each([
    ["null", null, "(top level)"],
    ["a string", "slack.reply", "(top level)"],
    ["an array", [{ kind: "slack.reply" }], "(top level)"],
    ["no kind", { payload: {} }, "kind"],
    ["no payload", { kind: "slack.reply" }, "payload: payload is required"],
    ["a numeric kind", { kind: 7, payload: {} }, "kind must be a string"],
    ["an empty kind", { kind: "", payload: {} }, "kind must not be empty"],
    ["a bad dispatchedAt", { kind: "slack.reply", payload: {}, dispatchedAt: "yesterday" }, "dispatchedAt"],
  ])("refuses %s with a message naming the problem", async (_label, event, expected) => {
    const { seen, handlers } = recordingHandlers();
    const error = await rejection(createJobRouter(handlers).run(event));
    expect(error.reason).toBe("invalid-job");
    expect(error.message).toMatch(/^Invalid job event: /);
    expect(error.message).toContain(expected);
    expect(seen).toEqual([]);
  });

  it("refuses an unknown kind, naming it, without running anything", async () => {
    const { seen, handlers } = recordingHandlers();
    const error = await rejection(createJobRouter(handlers).run({ kind: "slack.nope", payload: {} }));
    expect(error.reason).toBe("unknown-kind");
    expect(error.message).toBe('No handler for job kind "slack.nope"');
    expect(seen).toEqual([]);
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "does not route kind %s to Object.prototype",
    async (kind) => {
      const { handlers } = recordingHandlers();
      const error = await rejection(
        createJobRouter(handlers).run(JSON.parse(encodeJob({ kind, payload: {} }))),
      );
      expect(error.reason).toBe("unknown-kind");
    },
  );

  it("propagates a handler's failure to the caller (the worker Lambda then reports it)", async () => {
    const router = createJobRouter({
      boom: async () => {
        throw new Error("directory unreachable");
      },
    });
    await expect(router.run({ kind: "boom", payload: null })).rejects.toThrow("directory unreachable");
  });
});

describe("encodeJob / parseJobEvent", () => {
  it("stamps the job with dispatchedAt and keeps kind and payload", () => {
    const text = encodeJob({ kind: "k", payload: [1, "two"] }, new Date("2026-03-04T05:06:07.000Z"));
    expect(JSON.parse(text)).toEqual({
      kind: "k",
      payload: [1, "two"],
      dispatchedAt: "2026-03-04T05:06:07.000Z",
    });
    expect(parseJobEvent(JSON.parse(text))).toEqual({
      kind: "k",
      payload: [1, "two"],
      dispatchedAt: "2026-03-04T05:06:07.000Z",
    });
  });

  it("refuses a payload that cannot be JSON, without quoting it", () => {
    const circular: Record<string, unknown> = { secret: "xoxb-do-not-log" };
    circular.self = circular;
    let caught: unknown;
    try {
      encodeJob({ kind: "k", payload: circular });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DispatchError);
    expect((caught as DispatchError).reason).toBe("invalid-job");
    expect((caught as DispatchError).message).not.toContain("xoxb-do-not-log");
    expect(() => encodeJob({ kind: "k", payload: { n: 1n } })).toThrow(/not JSON-serialisable/);
  });
});

describe("the request id across the hand-off", () => {
  it("is stamped from the current request by the dispatcher, so callers need not pass it", () => {
    const text = withRequestContext({ requestId: "front-door-1" }, () =>
      encodeJob({ kind: "k", payload: null }),
    );
    expect(JSON.parse(text)).toMatchObject({ requestId: "front-door-1" });
    expect(JSON.parse(encodeJob({ kind: "k", payload: null }))).not.toHaveProperty("requestId");
  });

  it("runs the job, and every line it logs, under that id; a job without one (a tick) gets a fresh one", async () => {
    const logger = createMemoryLogger();
    const router = createJobRouter({
      job: async () => logger.info("deep in the job"),
    });
    await router.run({ kind: "job", payload: null, requestId: "front-door-2" });
    await router.run({ kind: "job", payload: null });
    await router.run({ kind: "job", payload: null, requestId: "../not an id" });
    const [first, second, third] = logger.lines.map((l) => l.requestId);
    expect(first).toBe("front-door-2");
    expect(second).toMatch(/^[0-9a-f-]{36}$/);
    expect(third).toMatch(/^[0-9a-f-]{36}$/);
    expect(third).not.toBe(second);
  });

  it("crosses the in-process dispatcher (the local server's) for every job kind, its own lines too", async () => {
    const logger = createMemoryLogger();
    const seen: Array<string | undefined> = [];
    const dispatcher = createInProcessDispatcher(
      {
        first: async () => {
          seen.push(currentRequestId());
          // A job that dispatches another (a drain's notification, a bulk job's batch) keeps the id.
          await dispatcher.dispatch({ kind: "second", payload: null });
        },
        second: async () => {
          seen.push(currentRequestId());
        },
      },
      { logger },
    );
    await withRequestContext({ requestId: "front-door-3" }, () =>
      dispatcher.dispatch({ kind: "first", payload: null }),
    );
    await dispatcher.idle();
    expect(seen).toEqual(["front-door-3", "front-door-3"]);
    expect(logger.lines.filter((l) => l.message === "job finished").map((l) => l.requestId)).toEqual([
      "front-door-3",
      "front-door-3",
    ]);
  });
});
