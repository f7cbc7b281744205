import { createServer } from "node:net";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryLogger } from "../../logging/json-logger";
import { type Chat, ChatError } from "../../ports";
import { createWebApiChat } from "./web-api-chat";

const TOKEN = "xoxb-1234-secret-bot-token";
let slack: SlackStandIn;
let chat: Chat;

/** Retries off: a 429 fails at once instead of waiting. */
const noRetries = { retries: 0 };

async function chatError(promise: Promise<unknown>): Promise<ChatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  const chatError = error as ChatError;
  expect(chatError.message).not.toContain(TOKEN);
  return chatError;
}

/** A loopback port nobody listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: TOKEN,
    channels: ["C0GENERAL"],
    users: [
      { id: "U0ALICE", email: "alice@example.com", name: "alice" },
      { id: "U0NOMAIL", name: "bob" },
      { id: "U0BOT", name: "otherbot", isBot: true },
      { id: "U0GONE", email: "gone@example.com", deleted: true },
    ],
  });
  chat = createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: noRetries });
});

afterAll(async () => {
  await slack?.close();
});

beforeEach(() => {
  slack.reset();
});

describe("userInfo", () => {
  it("maps users.info to ChatUser", async () => {
    expect(await chat.userInfo("U0ALICE")).toEqual({
      id: "U0ALICE",
      email: "alice@example.com",
      name: "alice",
      isBot: false,
      deleted: false,
    });
    expect(await chat.userInfo("U0NOMAIL")).toEqual({
      id: "U0NOMAIL",
      name: "bob",
      isBot: false,
      deleted: false,
    });
    expect(await chat.userInfo("U0BOT")).toMatchObject({ isBot: true });
    expect(await chat.userInfo("U0GONE")).toMatchObject({ deleted: true, email: "gone@example.com" });
    expect(slack.calls.map((c) => [c.method, c.body.user, c.headers.authorization])).toContainEqual([
      "users.info",
      "U0ALICE",
      `Bearer ${TOKEN}`,
    ]);
  });

  it("treats Slackbot as a bot although Slack does not flag it", async () => {
    expect(await chat.userInfo("USLACKBOT")).toMatchObject({ id: "USLACKBOT", isBot: true });
  });

  it("throws ChatError(user_not_found) for an unknown user", async () => {
    const error = await chatError(chat.userInfo("U0NOBODY"));
    expect(error.code).toBe("user_not_found");
    expect(error.message).toContain("users.info");
  });

  it("throws ChatError(invalid_auth) for a wrong token, and never says the token", async () => {
    const wrong = "xoxb-9999-wrong-token";
    const logger = createMemoryLogger();
    const other = createWebApiChat({ token: wrong, slackApiUrl: slack.url, retryConfig: noRetries, logger });
    const error = await chatError(other.userInfo("U0ALICE"));
    expect(error.code).toBe("invalid_auth");
    expect(error.message).not.toContain(wrong);
    expect(JSON.stringify(logger.lines)).not.toContain(wrong);
  });
});

describe("messages", () => {
  it("posts a message with blocks into a thread and returns its channel and ts", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "```ok```" } }];
    const parent = await chat.postMessage({ channel: "C0GENERAL", text: "parent" });
    const reply = await chat.postMessage({ channel: "C0GENERAL", text: "ok", blocks, threadTs: parent.ts });
    expect(parent.channel).toBe("C0GENERAL");
    expect(slack.messages("C0GENERAL")).toEqual([
      expect.objectContaining({ ts: parent.ts, text: "parent", ephemeral: false }),
      expect.objectContaining({ ts: reply.ts, threadTs: parent.ts, text: "ok", blocks }),
    ]);
  });

  it("posts ephemerally", async () => {
    await chat.postEphemeral({
      channel: "C0GENERAL",
      user: "U0ALICE",
      text: "only you",
      threadTs: "1.000100",
    });
    expect(slack.messages()).toEqual([
      expect.objectContaining({ ephemeral: true, user: "U0ALICE", text: "only you", threadTs: "1.000100" }),
    ]);
    expect((await chatError(chat.postEphemeral({ channel: "C0GENERAL", user: "U0X", text: "x" }))).code).toBe(
      "user_not_found",
    );
  });

  it("updates a message in place", async () => {
    const posted = await chat.postMessage({ channel: "C0GENERAL", text: "before" });
    const blocks = [{ type: "section", text: { type: "plain_text", text: "after" } }];
    await chat.updateMessage({ channel: "C0GENERAL", ts: posted.ts, text: "after", blocks });
    expect(slack.messages("C0GENERAL")).toEqual([
      expect.objectContaining({ ts: posted.ts, text: "after", blocks, updates: 1 }),
    ]);
    const missing = await chatError(chat.updateMessage({ channel: "C0GENERAL", ts: "1.000001", text: "x" }));
    expect(missing.code).toBe("message_not_found");
  });

  it("maps Slack's refusals to ChatError codes, with Slack's details", async () => {
    expect((await chatError(chat.postMessage({ channel: "C0NOPE", text: "x" }))).code).toBe(
      "channel_not_found",
    );
    expect((await chatError(chat.postMessage({ channel: "C0GENERAL", text: "x".repeat(40_001) }))).code).toBe(
      "msg_too_long",
    );
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "y".repeat(3001) } }];
    const invalid = await chatError(chat.postMessage({ channel: "C0GENERAL", text: "x", blocks }));
    expect(invalid.code).toBe("invalid_blocks");
    expect(invalid.message).toContain("/blocks/0/text/text");
    expect(slack.messages()).toEqual([]);
  });
});

describe("rate limits", () => {
  it("with retries off, fails at once with ChatError(ratelimited)", async () => {
    slack.rateLimit("chat.postMessage", 1, 30);
    const started = Date.now();
    const error = await chatError(chat.postMessage({ channel: "C0GENERAL", text: "x" }));
    expect(error.code).toBe("ratelimited");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slack.messages()).toEqual([]);
  });

  it("with retries on, waits out Retry-After and succeeds", async () => {
    const retrying = createWebApiChat({
      token: TOKEN,
      slackApiUrl: slack.url,
      retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 0 },
    });
    slack.rateLimit("chat.postMessage", 1, 1);
    const started = Date.now();
    const posted = await retrying.postMessage({ channel: "C0GENERAL", text: "eventually" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(slack.calls.map((c) => c.status)).toEqual([429, 200]);
    expect(slack.messages()).toEqual([expect.objectContaining({ ts: posted.ts, text: "eventually" })]);
  });

  it("out of retries while still limited, fails with ChatError(ratelimited)", async () => {
    const retrying = createWebApiChat({
      token: TOKEN,
      slackApiUrl: slack.url,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
    });
    slack.rateLimit("users.info", 5, 0);
    expect((await chatError(retrying.userInfo("U0ALICE"))).code).toBe("ratelimited");
    expect(slack.calls).toHaveLength(2);
  });
});

describe("transport errors", () => {
  it("reports an unreachable Web API as request_failed", async () => {
    const dead = createWebApiChat({
      token: TOKEN,
      slackApiUrl: `http://127.0.0.1:${await deadPort()}/api/`,
      retryConfig: noRetries,
    });
    expect((await chatError(dead.userInfo("U0ALICE"))).code).toBe("request_failed");
  });

  it("keeps the token out of messages even when an error carries it", async () => {
    const leaky = createWebApiChat({
      token: TOKEN,
      slackApiUrl: slack.url,
      retryConfig: noRetries,
      fetch: async (_url, init) => {
        throw new Error(`refused ${JSON.stringify(init?.headers)}`);
      },
    });
    const error = await chatError(leaky.userInfo("U0ALICE"));
    expect(error.code).toBe("request_failed");
    expect(error.message).toContain("refused");
    expect(error.message).toContain("[redacted]");
  });

  it("reports a non-200 answer that is not a rate limit as http_error", async () => {
    const wrongPath = createWebApiChat({
      token: TOKEN,
      slackApiUrl: slack.url.replace(/api\/$/, "nowhere/"),
      retryConfig: noRetries,
    });
    expect((await chatError(wrongPath.userInfo("U0ALICE"))).code).toBe("http_error");
  });
});

describe("uploadFile", () => {
  it("uploads the content through filesUploadV2 into the channel's thread", async () => {
    const content = `line one\nline two ✓\n${"z".repeat(5000)}`;
    await chat.uploadFile({
      channel: "C0GENERAL",
      threadTs: "1700000000.000100",
      filename: "output.txt",
      content,
      title: "victoria config view",
      initialComment: "Output attached",
    });
    expect(slack.uploads()).toEqual([
      expect.objectContaining({
        filename: "output.txt",
        content,
        length: Buffer.byteLength(content),
        completed: true,
        title: "victoria config view",
        channel: "C0GENERAL",
        threadTs: "1700000000.000100",
        initialComment: "Output attached",
      }),
    ]);
    expect(slack.calls.map((c) => c.method)).toEqual([
      "files.getUploadURLExternal",
      "files.completeUploadExternal",
    ]);
  });

  it("uploads outside a thread, and maps a refused channel", async () => {
    await chat.uploadFile({ channel: "C0GENERAL", filename: "a.txt", content: "a" });
    expect(slack.uploads()[0]).toMatchObject({ content: "a", title: "a.txt", threadTs: undefined });
    const error = await chatError(chat.uploadFile({ channel: "C0NOPE", filename: "b.txt", content: "b" }));
    expect(error.code).toBe("channel_not_found");
  });
});

describe("respond", () => {
  it("POSTs the message as JSON to the response_url, without the token", async () => {
    const url = slack.responseUrl();
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "done" } }];
    await chat.respond(url, { responseType: "in_channel", text: "done", blocks, replaceOriginal: true });
    await chat.respond(url, { responseType: "ephemeral", text: "second" });
    const [first, second] = slack.responses(url);
    expect(first?.body).toEqual({
      response_type: "in_channel",
      text: "done",
      blocks,
      replace_original: true,
    });
    expect(second?.body).toEqual({ response_type: "ephemeral", text: "second", replace_original: false });
    expect(first?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(first)).not.toContain(TOKEN);
    expect(slack.calls).toEqual([]);
  });

  it("throws ChatError(response_url_failed) once the URL is used up", async () => {
    const url = slack.responseUrl();
    for (let i = 0; i < 5; i++) await chat.respond(url, { responseType: "ephemeral", text: `${i}` });
    const error = await chatError(chat.respond(url, { responseType: "ephemeral", text: "sixth" }));
    expect(error.code).toBe("response_url_failed");
    expect(error.message).toContain("404");
    expect(error.message).toContain("used_url");
    expect(error.message).not.toContain(url);
  });

  it("throws ChatError(response_url_failed) for a dead URL", async () => {
    const url = `http://127.0.0.1:${await deadPort()}/response/abc`;
    const error = await chatError(chat.respond(url, { responseType: "ephemeral", text: "x" }));
    expect(error.code).toBe("response_url_failed");
  });
});
