import { describe, expect, it } from "vitest";
import { createMemoryLogger } from "./json-logger";
import { currentRequestId, useOneRequestAtATime, withRequestContext } from "./request-context";

// Its own file: the mode is module-wide, as in a Lambda container (vitest isolates files).
useOneRequestAtATime();

describe("the request context of a Lambda container (one invocation at a time)", () => {
  it("puts the id on every line inside, across awaits, and restores the outer one when it settles", async () => {
    const logger = createMemoryLogger();
    await withRequestContext({ requestId: "invocation" }, async () => {
      logger.info("outer");
      await withRequestContext({ requestId: "job" }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.info("inner, after a timer");
      });
      logger.info("outer again");
    });
    logger.info("between invocations");
    expect(logger.lines.map((l) => [l.message, l.requestId])).toEqual([
      ["outer", "invocation"],
      ["inner, after a timer", "job"],
      ["outer again", "invocation"],
      ["between invocations", undefined],
    ]);
  });

  it("restores the outer id when the inner work throws or rejects", async () => {
    await withRequestContext({ requestId: "outer" }, async () => {
      expect(() =>
        withRequestContext({ requestId: "sync" }, () => {
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(currentRequestId()).toBe("outer");
      await expect(
        withRequestContext({ requestId: "async" }, async () => {
          throw new Error("late boom");
        }),
      ).rejects.toThrow("late boom");
      expect(currentRequestId()).toBe("outer");
    });
    expect(currentRequestId()).toBeUndefined();
  });
});
