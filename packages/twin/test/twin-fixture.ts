import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { afterAll, beforeAll } from "vitest";
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
  /**
   * The JSON log lines one function wrote to stdout (`Worker`, `Execute`, …: its component id), parsed,
   * in order; the twin prefixes each with `[<id>] `. Lines that are not JSON (a stack trace) are left out.
   */
  functionLog(functionId: string): Array<Record<string, unknown>>;
  /** Polls until `check` gives a value; on timeout the error carries the twin's last log lines. */
  eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** The answer to a slash command at its response_url (not the "Running …" acknowledgement). */
  answerAt(responseUrl: string): Promise<SlackResponse>;
}

type SlackResponse = ReturnType<NonNullable<Twin["slack"]>["responses"]>[number];

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
  async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting; twin log:\n${logs.slice(-30).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    twin,
    logs,
    functionLog(functionId) {
      const prefix = `[${functionId}] `;
      return logs.flatMap((line) => {
        if (!line.startsWith(prefix)) return [];
        try {
          const parsed = JSON.parse(line.slice(prefix.length)) as unknown;
          return typeof parsed === "object" && parsed !== null ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
    },
    eventually,
    answerAt: (responseUrl) =>
      eventually(() =>
        twin.slack?.responses(responseUrl).find((r) => !String(r.body.text).startsWith("Running")),
      ),
  };
}

/**
 * A twin for the test file that calls it: started before its tests (as `startTestTwin` with
 * `options`), closed after them. Its fields are there from the first test on.
 */
export function useTestTwin(options: Partial<TwinOptions> = {}): TestTwin {
  const started = {} as TestTwin;
  beforeAll(async () => {
    Object.assign(started, await startTestTwin(options));
  }, 120_000);
  afterAll(async () => {
    await started.twin?.close();
  });
  return started;
}

/** A form body POSTed to a Function URL signed as Slack signs it (with the test secret's signing secret). */
export function signedSlackPost(url: string, body: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...signSlackRequest(TEST_SECRET.SLACK_SIGNING_SECRET, body),
    },
  });
}

/**
 * A `/victoria` slash command from `user` in `channel`, sent to the twin's authenticate Function
 * URL as Slack sends it; the response and the response_url its answer goes to.
 */
export async function sendSlash(
  twin: Twin,
  { user, text, channel = "C0OPS" }: { user: string; text: string; channel?: string },
): Promise<{ res: Response; responseUrl: string }> {
  const slack = twin.slack;
  if (!slack) throw new Error("the embedded Slack stand-in is not running");
  const responseUrl = slack.responseUrl({ channel, user });
  const body = new URLSearchParams({
    team_id: "T0TWIN",
    channel_id: channel,
    user_id: user,
    command: "/victoria",
    text,
    response_url: responseUrl,
    trigger_id: `t-${Date.now()}-${Math.random()}`,
  }).toString();
  const res = await signedSlackPost(twin.outputs.authenticateUrl as string, body);
  return { res, responseUrl };
}
