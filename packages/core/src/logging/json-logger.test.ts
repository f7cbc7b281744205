import { describe, expect, it } from "vitest";
import { createJsonLogger, createMemoryLogger } from "./json-logger";
import { currentRequestId, isRequestId, withRequestContext } from "./request-context";

describe("the per-request log context", () => {
  it("puts the request id on every line written inside, however deep and however late", async () => {
    const logger = createMemoryLogger();
    logger.info("before");
    await withRequestContext({ requestId: "req-1" }, async () => {
      logger.info("at once");
      await new Promise((resolve) => setImmediate(resolve));
      // Deep in a callee that never heard of the id, after a timer.
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          logger.warn("later");
          resolve();
        }, 1),
      );
    });
    logger.error("after");
    expect(logger.lines.map((l) => [l.message, l.requestId])).toEqual([
      ["before", undefined],
      ["at once", "req-1"],
      ["later", "req-1"],
      ["after", undefined],
    ]);
  });

  it("keeps concurrent requests apart, and a nested context wins until it ends", async () => {
    const logger = createMemoryLogger();
    const run = (id: string) =>
      withRequestContext({ requestId: id }, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        logger.info("step", { n: 1 });
        await withRequestContext({ requestId: `${id}-inner` }, async () => logger.info("inner"));
        logger.info("step", { n: 2 });
      });
    await Promise.all([run("a"), run("b")]);
    const of = (id: string) => logger.lines.filter((l) => l.requestId === id).map((l) => l.message);
    expect(of("a")).toEqual(["step", "step"]);
    expect(of("b")).toEqual(["step", "step"]);
    expect(of("a-inner")).toEqual(["inner"]);
  });

  it("lets a field given explicitly name another id (a retry naming the request it retries)", () => {
    const lines: string[] = [];
    const logger = createJsonLogger((line) => lines.push(line));
    withRequestContext({ requestId: "tick" }, () => logger.info("retried", { requestId: "original" }));
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ requestId: "original", message: "retried" });
  });

  it("answers the current id only inside", () => {
    expect(currentRequestId()).toBeUndefined();
    expect(withRequestContext({ requestId: "x" }, () => currentRequestId())).toBe("x");
  });

  it("takes only well-formed ids from outside", () => {
    for (const ok of ["a", "6b0e4c1e-0000-4000-8000-000000000000", "job:1.2_3", "r".repeat(100)])
      expect(isRequestId(ok)).toBe(true);
    for (const bad of ["", "r".repeat(101), "../x", "a b", "a/b", "é", 42, null, undefined])
      expect(isRequestId(bad)).toBe(false);
  });
});
