import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("worker Lambda entry", () => {
  it("rethrows a failed job, so Lambda delivers the event to its on-failure destination (WorkerFailures)", async () => {
    vi.resetModules();
    const { handler } = await import("./worker");
    await expect(handler({ kind: "no-such-job", payload: {} })).rejects.toThrow(/no-such-job/);
  });
});
