import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { createJsonlAuditLog } from "@victoria/core/adapters/local/jsonl-audit-log";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { createMemoryDedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { createPolicyGate } from "@victoria/core/policy/policy-gate";
import type { Dispatcher } from "@victoria/core/ports";
import type { AuditLog, AuditRecord } from "@victoria/core/security/audit-log";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { createStaticDirectory } from "@victoria/core/security/static-directory";
import { INLINE_OUTPUT_LIMIT } from "@victoria/core/slack/command-reply";
import {
  createSlackCommandHandler,
  SLACK_COMMAND_JOB,
  slackCommandJobSchema,
} from "@victoria/core/slack/slack-command-job";
import { defaultProviders } from "@victoria/core/victoria/default-providers";
import { createVictoria } from "@victoria/core/victoria/engine";
import { createInProcessRunner } from "@victoria/core/victoria/in-process-runner";
import { definePlugin } from "@victoria/core/victoria/plugin";
import { corePlugins } from "@victoria/core/victoria/plugins/core-plugins";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../app";
import { authenticateRoute } from "./authenticate";
import { executeRoute } from "./execute";

const SIGNING_SECRET = "slack-signing-secret-for-tests";
const BOT_TOKEN = "xoxb-test-token";
const SHARED_SECRET = "shared-secret-for-tests";
const MEMBER = { id: "U0MEMBER", email: "sre@example.com", name: "sre" };
const GUEST = { id: "U0GUEST", email: "guest@example.com", name: "guest" };

/** Prints `count` characters, to test long output. */
const floodPlugin = definePlugin({
  name: "flood",
  summary: "Print a lot.",
  commands: [
    {
      name: "chars",
      summary: "Print COUNT characters.",
      sensitive: false,
      args: [{ name: "count", description: "how many" }],
      async run(ctx) {
        ctx.out.out("y".repeat(Number(ctx.args.count)));
      },
    },
  ],
});

let slack: SlackStandIn;
let auditDir: string;
let executeCalls = 0;

interface Setup {
  allowedMembers?: Set<string>;
  audit?: AuditLog;
  sharedSecret?: string;
  dispatcher?: Dispatcher;
}

function setup(options: Setup = {}) {
  const logger = createMemoryLogger();
  const auditFile = join(auditDir, `audit-${Math.random().toString(36).slice(2)}.jsonl`);
  const victoria = createVictoria({
    plugins: [...corePlugins, floodPlugin],
    providers: defaultProviders,
    env: {},
  });
  const executeApp = createApp({
    logger,
    routes: [
      {
        path: "/execute",
        method: "POST",
        router: executeRoute({
          runner: createInProcessRunner({ victoria, configPath: null, timeoutMs: 5_000 }),
          sharedSecret: SHARED_SECRET,
          logger,
        }),
      },
    ],
  });
  const execute = createExecuteClient({
    url: "http://execute.internal/execute",
    sharedSecret: options.sharedSecret ?? SHARED_SECRET,
    timeoutMs: 5_000,
    // `/execute` over its real HTTP interface, served in-process.
    fetch: async (url, init) => {
      executeCalls++;
      return executeApp.request(String(url), init);
    },
  });
  const handler = createSlackCommandHandler({
    chat: createWebApiChat({ token: BOT_TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
    gate: createPolicyGate({
      chat: createWebApiChat({ token: BOT_TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      directory: createStaticDirectory([MEMBER.email]),
      allowedMembers: options.allowedMembers,
    }),
    audit: options.audit ?? createJsonlAuditLog(auditFile),
    execute: (args, requestId) => execute.runWithId(args, requestId),
    logger,
  });
  const dispatcher = createInProcessDispatcher(
    { [SLACK_COMMAND_JOB]: (payload) => handler(slackCommandJobSchema.parse(payload)) },
    { logger },
  );
  const router = authenticateRoute({
    signingSecret: SIGNING_SECRET,
    dispatcher: options.dispatcher ?? dispatcher,
    dedupe: createMemoryDedupeStore(),
    logger,
    botUserId: "U0BOT",
  });
  const app = createApp({ logger, routes: [{ path: "/authenticate", method: "POST", router }] });
  const readAudit = async (): Promise<AuditRecord[]> =>
    (await readFile(auditFile, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditRecord);
  return { app, dispatcher, logger, readAudit };
}

function signedPost(body: string, contentType: string, headers: Record<string, string> = {}) {
  return {
    method: "POST",
    body,
    headers: { "content-type": contentType, ...signSlackRequest(SIGNING_SECRET, body), ...headers },
  };
}

function slashCommand(text: string, user = MEMBER.id, extra: Record<string, string> = {}) {
  const responseUrl = slack.responseUrl();
  const body = new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: "T0TEAM",
    channel_id: "C0OPS",
    user_id: user,
    command: "/victoria",
    text,
    response_url: responseUrl,
    trigger_id: `trigger-${Math.random()}`,
    ...extra,
  }).toString();
  return { request: signedPost(body, "application/x-www-form-urlencoded"), responseUrl };
}

function eventCallback(event: Record<string, unknown>, eventId = `Ev${Math.random()}`) {
  return JSON.stringify({
    type: "event_callback",
    team_id: "T0TEAM",
    event_id: eventId,
    authorizations: [{ user_id: "U0BOT" }],
    event: { channel: "C0OPS", ts: "1700000000.000100", ...event },
  });
}

const responseText = (url: string) => slack.responses(url).map((r) => String(r.body.text));

beforeAll(async () => {
  auditDir = await mkdtemp(join(tmpdir(), "authenticate-audit-"));
  slack = await startSlackStandIn({ botToken: BOT_TOKEN, users: [MEMBER, GUEST], botUserId: "U0BOT" });
});

beforeEach(() => {
  slack.reset();
  slack.addUser({ id: "U0NOEMAIL", name: "private" });
  slack.addUser({ id: "U0ROBOT", email: "robot@example.com", isBot: true });
  executeCalls = 0;
});

afterAll(async () => {
  await slack.close();
});

describe("POST /authenticate: verification and Events API plumbing", () => {
  it.each([
    ["no signature", { "x-slack-signature": "" }],
    ["a signature from another secret", signSlackRequest("not-the-secret", "x")],
    ["a replayed old timestamp", signSlackRequest(SIGNING_SECRET, "{}", Math.floor(Date.now() / 1000) - 600)],
  ])("answers 401 for %s", async (_, headers) => {
    const { app, logger } = setup();
    const res = await app.request("/authenticate", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json", ...headers },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("Unauthorized");
    expect(JSON.stringify(logger.lines)).not.toContain(SIGNING_SECRET);
  });

  it("answers url_verification with the challenge", async () => {
    const { app } = setup();
    const body = JSON.stringify({
      type: "url_verification",
      token: "t",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
    const res = await app.request("/authenticate", signedPost(body, "application/json"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
  });

  it("answers Slack's ssl_check with 200", async () => {
    const { app } = setup();
    const res = await app.request(
      "/authenticate",
      signedPost("ssl_check=1&token=x", "application/x-www-form-urlencoded"),
    );
    expect(res.status).toBe(200);
  });

  it.each([
    [
      "a form without the slash-command fields",
      "text=hi",
      "application/x-www-form-urlencoded",
      400,
      /Not a Slack slash command: command: .*user_id: /,
    ],
    ["malformed JSON", "{", "application/json", 400, /Malformed JSON/],
    [
      "an event_callback without event_id",
      JSON.stringify({ type: "event_callback", event: { type: "x" } }),
      "application/json",
      400,
      /event_id/,
    ],
    ["a content type Slack never sends", "x", "text/plain", 415, /slash command/],
  ])("refuses %s", async (_, body, type, status, message) => {
    const { app } = setup();
    const res = await app.request("/authenticate", signedPost(body, type));
    expect(res.status).toBe(status);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
  });

  it("answers 413 for an oversized body", async () => {
    const { app } = setup();
    const res = await app.request(
      "/authenticate",
      signedPost(`text=${"a".repeat(300_000)}`, "application/x-www-form-urlencoded"),
    );
    expect(res.status).toBe(413);
  });

  it.each([
    [
      "a bot's message",
      { type: "message", channel_type: "im", user: "U0OTHERBOT", bot_id: "B1", text: "config view" },
    ],
    ["our own message", { type: "message", channel_type: "im", user: "U0BOT", text: "config view" }],
    [
      "an edited message",
      { type: "message", channel_type: "im", subtype: "message_changed", text: "config view" },
    ],
    [
      "channel chatter without a mention",
      { type: "message", channel_type: "channel", user: MEMBER.id, text: "config view" },
    ],
  ])("ignores %s", async (_, event) => {
    const { app, dispatcher } = setup();
    const res = await app.request("/authenticate", signedPost(eventCallback(event), "application/json"));
    expect(res.status).toBe(200);
    await dispatcher.idle();
    expect(slack.calls).toHaveLength(0);
    expect(executeCalls).toBe(0);
  });
});

describe("POST /authenticate: running commands", () => {
  it("acknowledges a slash command at once and posts the real output to its response_url", async () => {
    const { app, dispatcher, readAudit } = setup();
    const { request, responseUrl } = slashCommand("config view");
    const res = await app.request("/authenticate", request);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response_type: "ephemeral",
      text: "Running `/victoria config view`…",
    });
    await dispatcher.idle();
    const [response] = slack.responses(responseUrl);
    expect(response?.body.response_type).toBe("in_channel");
    expect(response?.body.text).toContain(":white_check_mark: `victoria config view`");
    expect(response?.body.text).toContain("```logging_config:");
    expect(response?.body.text).toContain("indent: 2");
    const audit = await readAudit();
    expect(audit.map((r) => r.phase)).toEqual(["requested", "finished"]);
    expect(audit[0]).toMatchObject({
      user: { id: MEMBER.id, email: MEMBER.email },
      team: "T0TEAM",
      channel: "C0OPS",
      command: "config view",
      source: "slash_command",
    });
    expect(audit[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(audit[1]).toMatchObject({
      exitStatus: 0,
      requestId: audit[0]?.requestId,
      durationMs: expect.any(Number),
    });
  });

  it("answers an @mention in its thread, with the mention stripped and quotes honoured", async () => {
    const { app, dispatcher } = setup();
    const event = {
      type: "app_mention",
      user: MEMBER.id,
      text: "<@U0BOT> config  nope 'two words'",
      ts: "1700000000.000200",
    };
    await app.request("/authenticate", signedPost(eventCallback(event), "application/json"));
    await dispatcher.idle();
    const [message] = slack.messages("C0OPS");
    expect(message?.threadTs).toBe("1700000000.000200");
    expect(message?.text).toContain(":x: `victoria config nope 'two words'` failed");
    expect(message?.text).toContain("No such command 'nope'.");
  });

  it("answers a direct message in the DM", async () => {
    const { app, dispatcher } = setup();
    const event = {
      type: "message",
      channel_type: "im",
      channel: "D0DM",
      user: MEMBER.id,
      text: "--version",
    };
    await app.request("/authenticate", signedPost(eventCallback(event), "application/json"));
    await dispatcher.idle();
    expect(slack.messages("D0DM")[0]?.text).toMatch(/victoria, version \d/);
  });

  it("runs a delivery once, however often Slack retries it", async () => {
    const { app, dispatcher } = setup();
    const body = eventCallback(
      { type: "app_mention", user: MEMBER.id, text: "<@U0BOT> config path" },
      "Ev-once",
    );
    for (const retry of ["", "1", "2"]) {
      const res = await app.request(
        "/authenticate",
        signedPost(
          body,
          "application/json",
          retry ? { "x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout" } : {},
        ),
      );
      expect(res.status).toBe(200);
    }
    const { request } = slashCommand("config path");
    await app.request("/authenticate", request);
    const second = await app.request("/authenticate", request);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe("");
    await dispatcher.idle();
    expect(executeCalls).toBe(2);
  });

  it("answers an unbalanced quote as the only reply, instead of a 'Running' ack for a command that never runs", async () => {
    const { app, dispatcher, readAudit } = setup();
    const { request, responseUrl } = slashCommand("encrypt data 'oops");
    const res = await app.request("/authenticate", request);
    expect(res.status).toBe(200);
    const ack = (await res.json()) as { response_type: string; text: string };
    expect(ack.response_type).toBe("ephemeral");
    expect(ack.text).toContain("unbalanced single quote");
    expect(ack.text).not.toContain("Running");
    await dispatcher.idle();
    expect(slack.responses(responseUrl)).toEqual([]);
    expect(executeCalls).toBe(0);
    expect(await readAudit()).toEqual([]);
  });

  it("answers an unbalanced quote in a mention in its thread", async () => {
    const { app, dispatcher } = setup();
    const body = eventCallback({ type: "app_mention", user: MEMBER.id, text: "<@U0BOT> encrypt data 'oops" });
    await app.request("/authenticate", signedPost(body, "application/json"));
    await dispatcher.idle();
    const [reply] = slack.messages("C0OPS");
    expect(reply?.text).toContain("unbalanced single quote");
    expect(executeCalls).toBe(0);
  });

  it("shows a non-zero exit with its output", async () => {
    const { app, dispatcher } = setup();
    const { request, responseUrl } = slashCommand("config view --bogus");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)[0]).toMatch(
      /:x: `victoria config view --bogus` failed[\s\S]*No such option: --bogus/,
    );
  });

  it("answers `/victoria help` with the command list, as `--help` does", async () => {
    const { app, dispatcher } = setup();
    const help = slashCommand("help");
    const flag = slashCommand("--help");
    await app.request("/authenticate", help.request);
    await app.request("/authenticate", flag.request);
    await dispatcher.idle();
    const [text] = responseText(help.responseUrl);
    expect(text).toMatch(/^:white_check_mark: `victoria help`\n```Usage: victoria \[OPTIONS\] COMMAND/);
    expect(text).toMatch(/\n {2}deadletter\s+/);
    const body = (answer?: string) => answer?.slice(answer.indexOf("```"));
    expect(body(text)).toBe(body(responseText(flag.responseUrl)[0]));
  });

  it("tells a typo's likely meaning, and audits the usage error with the CLI's exit status 2, not 1", async () => {
    const { app, dispatcher, readAudit } = setup();
    const { request, responseUrl } = slashCommand("confg view");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)[0]).toMatch(
      /^:x: `victoria confg view` failed[\s\S]*\nError: No such command 'confg'\. Did you mean 'config'\?```$/,
    );
    const audit = await readAudit();
    expect(audit.map((r) => [r.phase, r.exitStatus])).toEqual([
      ["requested", undefined],
      ["finished", 2],
    ]);
  });

  it("truncates long slash-command output with a note, and attaches it as a file in threads", async () => {
    const { app, dispatcher } = setup();
    const { request, responseUrl } = slashCommand("flood chars 10000");
    await app.request("/authenticate", request);
    const mention = { type: "app_mention", user: MEMBER.id, text: "<@U0BOT> flood chars 10000" };
    await app.request("/authenticate", signedPost(eventCallback(mention), "application/json"));
    await dispatcher.idle();
    const [slashText] = responseText(responseUrl);
    expect(slashText).toContain(
      `Output truncated: showing the first ${INLINE_OUTPUT_LIMIT.toLocaleString("en")} of 10,001 characters`,
    );
    expect(slashText?.length).toBeLessThan(4_000);
    const [upload] = slack.uploads();
    expect(upload).toMatchObject({ completed: true, channel: "C0OPS", filename: "victoria-output.txt" });
    expect(upload?.content).toBe(`${"y".repeat(10_000)}\n`);
  });
});

describe("POST /authenticate: authorization chain", () => {
  it.each([
    ["a non-member", GUEST.id, "guest@example.com is not a member of the SRE group", "not in the SRE group"],
    [
      "a user Slack does not know",
      "U0NOBODY",
      "could not look you up in Slack",
      "users.info failed: user_not_found",
    ],
    [
      "a user without a visible email",
      "U0NOEMAIL",
      "no email address I can see",
      "no email on Slack profile",
    ],
    ["a bot user", "U0ROBOT", "only people can run Victoria", "bot or deactivated user"],
  ])("refuses %s privately, audits it, and runs nothing", async (_, user, told, reason) => {
    const { app, dispatcher, readAudit } = setup();
    const { request, responseUrl } = slashCommand("config view", user);
    await app.request("/authenticate", request);
    await dispatcher.idle();
    const [response] = slack.responses(responseUrl);
    expect(response?.body.response_type).toBe("ephemeral");
    expect(String(response?.body.text)).toContain(told);
    expect(await readAudit()).toEqual([
      expect.objectContaining({ phase: "refused", reason, user: expect.objectContaining({ id: user }) }),
    ]);
    expect(executeCalls).toBe(0);
  });

  it("refuses a member missing from SLACK_ALLOWED_MEMBERS, with an ephemeral reply to a mention", async () => {
    const { app, dispatcher, readAudit } = setup({ allowedMembers: new Set(["U0SOMEONEELSE"]) });
    const mention = { type: "app_mention", user: MEMBER.id, text: "<@U0BOT> config view" };
    await app.request("/authenticate", signedPost(eventCallback(mention), "application/json"));
    await dispatcher.idle();
    const [message] = slack.messages("C0OPS");
    expect(message).toMatchObject({ ephemeral: true, user: MEMBER.id });
    expect(message?.text).toContain("not on the list of members allowed");
    expect((await readAudit())[0]).toMatchObject({
      phase: "refused",
      reason: "not on SLACK_ALLOWED_MEMBERS",
    });
    expect(executeCalls).toBe(0);
  });

  it("does not run the command when the audit record cannot be written", async () => {
    // A directory where the file should be: appendFile fails for real.
    const { app, dispatcher } = setup({ audit: createJsonlAuditLog(auditDir) });
    const { request, responseUrl } = slashCommand("config view");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)[0]).toContain(
      "could not write the audit record for your command, so I did not run it",
    );
    expect(executeCalls).toBe(0);
  });

  it("tells the user why /execute could not run the command", async () => {
    const { app, dispatcher, readAudit } = setup({ sharedSecret: "mismatched-secret" });
    const { request, responseUrl } = slashCommand("config view");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)[0]).toContain(
      ":warning: I could not run `config view`: the execute service refused our signature",
    );
    expect((await readAudit()).at(-1)).toMatchObject({ phase: "finished", exitStatus: "error" });
  });
});

describe("POST /authenticate: hand-off failures", () => {
  const broken: Dispatcher = {
    dispatch: async () => {
      throw new Error("queue unavailable");
    },
  };

  it("tells a slash-command user at once when the work cannot be handed off", async () => {
    const { app } = setup({ dispatcher: broken });
    const { request } = slashCommand("config view");
    const res = await app.request("/authenticate", request);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response_type: "ephemeral",
      text: "Sorry, Victoria could not start your command; please try again.",
    });
  });

  it("answers 503 to an event it could not hand off, and takes Slack's retry", async () => {
    let fail = true;
    const flaky: Dispatcher = {
      dispatch: async () => {
        if (fail) throw new Error("queue unavailable");
      },
    };
    const { app } = setup({ dispatcher: flaky });
    const body = eventCallback(
      { type: "app_mention", user: MEMBER.id, text: "<@U0BOT> config view" },
      "Ev-flaky",
    );
    expect((await app.request("/authenticate", signedPost(body, "application/json"))).status).toBe(503);
    fail = false;
    const retry = await app.request(
      "/authenticate",
      signedPost(body, "application/json", { "x-slack-retry-num": "1" }),
    );
    expect(retry.status).toBe(200);
  });
});

describe("POST /authenticate: outside text in what Slack is told", () => {
  const HOSTILE = "<!channel> <!here> <http://evil|click> a & b\u0000\u001b[31m\u202e";
  // Slack's link markup in a command is undone into its URL before the command sees it.
  const ESCAPED = "&lt;!channel&gt; &lt;!here&gt; http://evil a &amp; b";

  it("escapes the command's output and command line once, and removes control characters", async () => {
    const { app, dispatcher } = setup();
    // /execute refuses a NUL in an argument; the refusal is checked below.
    const { request, responseUrl } = slashCommand(`config '${HOSTILE.replace("\u0000", "")}'`);
    const ack = await app.request("/authenticate", request);
    expect(await ack.json()).toEqual({
      response_type: "ephemeral",
      text: `Running \`/victoria config '${ESCAPED}'\`…`,
    });
    await dispatcher.idle();
    const [response] = slack.responses(responseUrl);
    const text = String(response?.body.text);
    expect(text).toContain(`:x: \`victoria config '${ESCAPED}'\` failed`);
    expect(text).toContain(`No such command '${ESCAPED}'`);
    expect(text).not.toMatch(/<|>|&amp;amp;/);
    for (const control of ["\u001b", "\u202e"]) expect(text).not.toContain(control);
    expect(response?.body.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text } }]);
  });

  it("escapes the command in the note that /execute refused it, controls removed", async () => {
    const { app, dispatcher } = setup();
    const { request, responseUrl } = slashCommand(`config '${HOSTILE}'`);
    await app.request("/authenticate", request);
    await dispatcher.idle();
    const [note] = responseText(responseUrl);
    expect(note?.startsWith(`:warning: I could not run \`config '${ESCAPED}'\`: `)).toBe(true);
    expect(note).toContain("NUL byte");
  });

  it("keeps text that grew when escaped within Slack's 3,000-character section", async () => {
    const { app, dispatcher } = setup();
    // Run (output truncated), and refused by /execute for an over-long argument (the note cut).
    const ran = slashCommand(`config ${"<".repeat(4000)}`);
    const refused = slashCommand(`config ${"<".repeat(5000)}`);
    await app.request("/authenticate", ran.request);
    await app.request("/authenticate", refused.request);
    await dispatcher.idle();
    // The stand-in refuses a section over 3,000 characters (invalid_blocks), as Slack does.
    const [output] = slack.responses(ran.responseUrl);
    expect(output?.body.text).toContain("Output truncated: showing the first");
    expect(output?.body.text).toContain("&lt;".repeat(100));
    const [note] = responseText(refused.responseUrl);
    expect(note).toMatch(/^:warning: I could not run `config (&lt;)+…`: .*at most 4096 characters/);
  });

  it("keeps backticks in the command from breaking the note's code span", async () => {
    const { app, dispatcher } = setup({ sharedSecret: "mismatched-secret" });
    const { request, responseUrl } = slashCommand("config view 'a & b' `<!here>`");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)[0]).toContain(
      ":warning: I could not run `config view 'a &amp; b' '&lt;!here&gt;'`: the execute service refused our signature",
    );
  });

  it("escapes the email address from a Slack profile in a refusal", async () => {
    slack.addUser({ id: "U0HOSTILE", email: "<!here>&x\u202e@example.com" });
    const { app, dispatcher } = setup();
    const { request, responseUrl } = slashCommand("config view", "U0HOSTILE");
    await app.request("/authenticate", request);
    await dispatcher.idle();
    expect(responseText(responseUrl)).toEqual([
      "Sorry, &lt;!here&gt;&amp;x@example.com is not a member of the SRE group, so you cannot run Victoria.",
    ]);
  });
});
