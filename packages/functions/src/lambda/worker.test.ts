import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** The JSON lines the entry writes to stdout (CloudWatch's view) while `fn` runs. */
async function stdoutLines(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const written: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await fn();
  } catch {
    // The caller asserts on the rejection separately.
  }
  vi.mocked(process.stdout.write).mockRestore();
  return written
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("worker Lambda entry", () => {
  it("rethrows a failed job, so Lambda delivers the event to its on-failure destination (WorkerFailures)", async () => {
    vi.resetModules();
    const { handler } = await import("./worker");
    await expect(handler({ kind: "no-such-job", payload: {} })).rejects.toThrow(/no-such-job/);
  });

  it("logs under the job's request id, and a job without one (a schedule's tick) under a fresh one", async () => {
    vi.resetModules();
    const { handler } = await import("./worker");
    const stamped = await stdoutLines(() =>
      handler({ kind: "no-such-job", payload: {}, requestId: "front-door-7" }),
    );
    expect(stamped.find((l) => l.message === "worker job failed")).toMatchObject({
      requestId: "front-door-7",
      kind: "no-such-job",
    });
    const tick = await stdoutLines(() => handler({ kind: "no-such-job", payload: {} }));
    expect(tick.find((l) => l.message === "worker job failed")?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
