import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTwin, type Twin, type TwinOptions } from "../src/twin";

/** The secret the twin tests deploy with: the production keys, test values. */
export const TEST_SECRET = {
  SLACK_SIGNING_SECRET: "twin-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-twin",
  SLACK_ALERT_CHANNEL: "C0ALERTS",
  VICTORIA_SHARED_SECRET: "twin-shared-secret",
  LISTENER_TOKEN: "twin-listener-token",
  SRE_MEMBERS: "sre@example.com",
};

export interface TestTwin {
  twin: Twin;
  logs: string[];
  /** Polls until `check` gives a value; on timeout the error carries the twin's last log lines. */
  eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs?: number): Promise<T>;
}

/**
 * A twin in its own temp folder (bundles, outputs), embedded stand-ins only, no schedule ticking,
 * Lambda's retry waits in milliseconds.
 */
export async function startTestTwin(options: Partial<TwinOptions> = {}): Promise<TestTwin> {
  const dir = await mkdtemp(join(tmpdir(), "twin-"));
  const logs: string[] = [];
  const twin = await startTwin({
    secret: TEST_SECRET,
    scheduleTicks: false,
    retryDelaysMs: [10, 20],
    outputsFile: join(dir, "outputs.json"),
    buildDir: join(dir, "lambda"),
    log: (line) => logs.push(line),
    env: {},
    ...options,
  });
  return {
    twin,
    logs,
    async eventually(check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting; twin log:\n${logs.slice(-30).join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
