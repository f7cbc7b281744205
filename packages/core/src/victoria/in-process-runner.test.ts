import { describe, expect, it } from "vitest";
import { EXIT_TIMEOUT } from "../ports";
import { createVictoria } from "./engine";
import { createInProcessRunner } from "./in-process-runner";
import { definePlugin } from "./plugin";
import { configPlugin } from "./plugins/config";

const slowPlugin = definePlugin({
  name: "slow",
  summary: "Never finishes unless aborted.",
  commands: [
    {
      name: "wait",
      summary: "Wait for the abort signal.",
      sensitive: false,
      args: [],
      run: (ctx) =>
        new Promise((_, reject) => {
          ctx.out.out("started");
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        }),
    },
  ],
});

const victoria = createVictoria({
  plugins: [configPlugin, slowPlugin],
  providers: { encryption: {}, storage: {} },
});

describe("in-process runner", () => {
  it("captures what the command printed and its exit status", async () => {
    const runner = createInProcessRunner({ victoria, configPath: null, timeoutMs: 5_000 });
    const ok = await runner.run(["config", "view"]);
    expect(ok.exitCode).toBe(0);
    expect(ok.output).toContain("indent: 2");
    const usage = await runner.run(["nope"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.output).toContain("No such command 'nope'.");
  });

  it("answers within the time budget and aborts the command", async () => {
    const runner = createInProcessRunner({ victoria, configPath: null, timeoutMs: 200 });
    const result = await runner.run(["slow", "wait"]);
    expect(result.exitCode).toBe(EXIT_TIMEOUT);
    expect(result.output).toBe("started\nError: command timed out after 200 ms\n");
  });
});
