import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SlackStandIn, startSlackStandIn } from "./slack";

const TOKEN = "xoxb-test-bot-token";
let clock = Date.parse("2024-01-01T00:00:00Z");
let slack: SlackStandIn;

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Calls a Web API method the way WebClient does: POST, form-encoded, bearer token. */
async function api(
  method: string,
  args: Record<string, unknown> = {},
  { token = TOKEN as string | null, json = false } = {},
): Promise<Reply> {
  // null: no Authorization header at all.
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  let body: string;
  if (json) {
    headers["content-type"] = "application/json; charset=utf-8";
    body = JSON.stringify(args);
  } else {
    headers["content-type"] = "application/x-www-form-urlencoded";
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(args))
      form.set(key, typeof value === "string" ? value : JSON.stringify(value));
    body = form.toString();
  }
  const response = await fetch(`${slack.url}${method}`, { method: "POST", headers, body });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

function post(url: string, body: string, contentType = "application/json") {
  return fetch(url, { method: "POST", headers: { "content-type": contentType }, body });
}

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: TOKEN,
    channels: ["C0GENERAL", "C0ALERTS"],
    users: [
      { id: "U0ALICE", email: "alice@example.com", name: "alice" },
      { id: "U0BOT", name: "otherbot", isBot: true },
    ],
    now: () => clock,
  });
});

afterAll(async () => {
  await slack?.close();
});

beforeEach(() => {
  slack.reset();
});

describe("authentication", () => {
  it("answers not_authed without a token and invalid_auth for a wrong one, both as HTTP 200", async () => {
    expect(await api("auth.test", {}, { token: null })).toMatchObject({
      status: 200,
      body: { ok: false, error: "not_authed" },
    });
    expect((await api("auth.test", {}, { token: "xoxb-wrong" })).body).toEqual({
      ok: false,
      error: "invalid_auth",
    });
    expect((await api("auth.test")).body).toMatchObject({
      ok: true,
      user_id: "U0VICTORIA",
      team_id: "T0STANDIN",
    });
  });

  it("takes a token field in a form body but not in a JSON one", async () => {
    expect((await api("auth.test", { token: TOKEN }, { token: null })).body.ok).toBe(true);
    expect((await api("auth.test", { token: TOKEN }, { token: null, json: true })).body.error).toBe(
      "not_authed",
    );
  });

  it("answers unknown methods with 404 unknown_method", async () => {
    const reply = await api("chat.nope");
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe("unknown_method");
  });
});

describe("users.info", () => {
  it("returns a seeded user with the email under profile, and Slackbot is not flagged a bot", async () => {
    const alice = await api("users.info", { user: "U0ALICE" });
    expect(alice.body).toMatchObject({
      ok: true,
      user: {
        id: "U0ALICE",
        name: "alice",
        is_bot: false,
        deleted: false,
        profile: { email: "alice@example.com" },
      },
    });
    expect((await api("users.info", { user: "U0BOT" })).body).toMatchObject({ user: { is_bot: true } });
    expect((await api("users.info", { user: "USLACKBOT" })).body).toMatchObject({ user: { is_bot: false } });
  });

  it("answers user_not_found for unknown or missing users; addUser adds one", async () => {
    expect((await api("users.info", { user: "U0NOBODY" })).body.error).toBe("user_not_found");
    expect((await api("users.info")).body.error).toBe("user_not_found");
    slack.addUser({ id: "U0NOBODY", deleted: true });
    expect((await api("users.info", { user: "U0NOBODY" })).body).toMatchObject({ user: { deleted: true } });
    slack.reset();
    expect((await api("users.info", { user: "U0NOBODY" })).body.error).toBe("user_not_found");
  });
});

describe("chat.postMessage", () => {
  it("posts with increasing ts, records the message and decodes blocks in the recorded call", async () => {
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }];
    const first = await api("chat.postMessage", { channel: "C0GENERAL", text: "hi", blocks });
    const second = await api("chat.postMessage", {
      channel: "C0GENERAL",
      text: "re",
      thread_ts: first.body.ts,
    });
    expect(first.body).toMatchObject({ ok: true, channel: "C0GENERAL", message: { text: "hi", blocks } });
    expect(first.body.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(second.body.ts)).toBeGreaterThan(Number(first.body.ts));
    expect(slack.messages("C0GENERAL")).toEqual([
      expect.objectContaining({ ts: first.body.ts, text: "hi", blocks, ephemeral: false }),
      expect.objectContaining({ ts: second.body.ts, threadTs: first.body.ts, text: "re" }),
    ]);
    expect(slack.messages("C0ALERTS")).toEqual([]);
    expect(slack.calls[0]).toMatchObject({
      method: "chat.postMessage",
      body: { blocks },
      status: 200,
      ok: true,
    });
    expect(slack.calls[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("accepts JSON bodies and a user id as the channel (the app's DM)", async () => {
    const reply = await api("chat.postMessage", { channel: "U0ALICE", text: "dm" }, { json: true });
    expect(reply.body).toMatchObject({ ok: true, channel: "U0ALICE" });
  });

  it("refuses a missing or unknown channel with channel_not_found", async () => {
    expect((await api("chat.postMessage", { text: "x" })).body.error).toBe("channel_not_found");
    expect((await api("chat.postMessage", { channel: "C0SECRET", text: "x" })).body.error).toBe(
      "channel_not_found",
    );
    expect(slack.messages()).toEqual([]);
  });

  it("refuses a message without text or blocks with no_text", async () => {
    expect((await api("chat.postMessage", { channel: "C0GENERAL" })).body.error).toBe("no_text");
    expect((await api("chat.postMessage", { channel: "C0GENERAL", text: "", blocks: [] })).body.error).toBe(
      "no_text",
    );
    expect(
      (await api("chat.postMessage", { channel: "C0GENERAL", blocks: [{ type: "divider" }] })).body.ok,
    ).toBe(true);
  });

  it("enforces the 40,000-character text limit with msg_too_long", async () => {
    const atLimit = await api("chat.postMessage", { channel: "C0GENERAL", text: "x".repeat(40_000) });
    expect(atLimit.body.ok).toBe(true);
    const over = await api("chat.postMessage", { channel: "C0GENERAL", text: "x".repeat(40_001) });
    expect(over.body.error).toBe("msg_too_long");
  });

  it("enforces Block Kit limits with invalid_blocks and says where", async () => {
    const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
    const fifty = Array.from({ length: 50 }, () => ({ type: "divider" }));
    expect((await api("chat.postMessage", { channel: "C0GENERAL", blocks: fifty })).body.ok).toBe(true);
    const fiftyOne = [...fifty, { type: "divider" }];
    expect((await api("chat.postMessage", { channel: "C0GENERAL", blocks: fiftyOne })).body.error).toBe(
      "invalid_blocks",
    );
    expect(
      (await api("chat.postMessage", { channel: "C0GENERAL", blocks: [section("y".repeat(3000))] })).body.ok,
    ).toBe(true);
    const long = await api("chat.postMessage", {
      channel: "C0GENERAL",
      text: "fallback",
      blocks: [{ type: "divider" }, section("y".repeat(3001))],
    });
    expect(long.body).toMatchObject({
      ok: false,
      error: "invalid_blocks",
      response_metadata: { messages: [expect.stringContaining("/blocks/1/text/text")] },
    });
    expect((await api("chat.postMessage", { channel: "C0GENERAL", blocks: [section("")] })).body.error).toBe(
      "invalid_blocks",
    );
    expect(
      (await api("chat.postMessage", { channel: "C0GENERAL", blocks: [{ text: "no type" }] })).body.error,
    ).toBe("invalid_blocks");
    expect((await api("chat.postMessage", { channel: "C0GENERAL", blocks: "[not json" })).body.error).toBe(
      "invalid_blocks_format",
    );
  });
});

describe("chat.postEphemeral and chat.update", () => {
  it("posts ephemerally to a known user only", async () => {
    const reply = await api("chat.postEphemeral", { channel: "C0GENERAL", user: "U0ALICE", text: "psst" });
    expect(reply.body).toMatchObject({ ok: true, message_ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(slack.messages()).toEqual([
      expect.objectContaining({ ephemeral: true, user: "U0ALICE", text: "psst" }),
    ]);
    expect(
      (await api("chat.postEphemeral", { channel: "C0GENERAL", user: "U0X", text: "x" })).body.error,
    ).toBe("user_not_found");
    expect((await api("chat.postEphemeral", { channel: "C0GENERAL", text: "x" })).body.error).toBe(
      "user_not_found",
    );
  });

  it("replaces a posted message's text and blocks", async () => {
    const posted = await api("chat.postMessage", { channel: "C0ALERTS", text: "dead letter" });
    const blocks = [{ type: "section", text: { type: "plain_text", text: "replayed by alice" } }];
    const updated = await api("chat.update", {
      channel: "C0ALERTS",
      ts: posted.body.ts,
      text: "replayed",
      blocks,
    });
    expect(updated.body).toMatchObject({
      ok: true,
      channel: "C0ALERTS",
      ts: posted.body.ts,
      text: "replayed",
    });
    expect(slack.messages("C0ALERTS")).toEqual([
      expect.objectContaining({ ts: posted.body.ts, text: "replayed", blocks, updates: 1 }),
    ]);
  });

  it("answers message_not_found for an unknown ts, another channel's ts or an ephemeral message", async () => {
    const posted = await api("chat.postMessage", { channel: "C0ALERTS", text: "a" });
    const ephemeral = await api("chat.postEphemeral", { channel: "C0ALERTS", user: "U0ALICE", text: "b" });
    for (const args of [
      { channel: "C0ALERTS", ts: "1700000000.999999" },
      { channel: "C0ALERTS" },
      { channel: "C0GENERAL", ts: posted.body.ts },
      { channel: "C0ALERTS", ts: ephemeral.body.message_ts },
    ]) {
      expect((await api("chat.update", { ...args, text: "new" })).body.error).toBe("message_not_found");
    }
    expect((await api("chat.update", { channel: "C0ALERTS", ts: posted.body.ts })).body.error).toBe(
      "no_text",
    );
    expect(slack.messages("C0ALERTS")[0]?.text).toBe("a");
  });
});

describe("rate limiting", () => {
  it("answers the next N calls of a method with 429, Retry-After and ratelimited, then recovers", async () => {
    slack.rateLimit("chat.postMessage", 2, 7);
    for (let i = 0; i < 2; i++) {
      const reply = await api("chat.postMessage", { channel: "C0GENERAL", text: "x" });
      expect(reply.status).toBe(429);
      expect(reply.headers.get("retry-after")).toBe("7");
      expect(reply.body).toEqual({ ok: false, error: "ratelimited" });
    }
    expect((await api("users.info", { user: "U0ALICE" })).status).toBe(200);
    expect((await api("chat.postMessage", { channel: "C0GENERAL", text: "x" })).status).toBe(200);
    expect(slack.calls.map((c) => c.status)).toEqual([429, 429, 200, 200]);
    expect(slack.messages()).toHaveLength(1);
  });

  it("checks the token before the rate limit, so bad calls do not use up the 429s", async () => {
    slack.rateLimit("auth.test", 1, 1);
    expect((await api("auth.test", {}, { token: "bad" })).body.error).toBe("invalid_auth");
    expect((await api("auth.test")).status).toBe(429);
    expect((await api("auth.test")).status).toBe(200);
  });
});

describe("file uploads", () => {
  it("hands out an upload URL on the stand-in and completes only uploads whose bytes arrived", async () => {
    expect((await api("files.getUploadURLExternal", { filename: "out.txt" })).body.error).toBe(
      "invalid_arguments",
    );
    const got = await api("files.getUploadURLExternal", { filename: "out.txt", length: 5 });
    const uploadUrl = String(got.body.upload_url);
    expect(uploadUrl.startsWith(slack.url.replace(/api\/$/, ""))).toBe(true);
    const files = [{ id: got.body.file_id, title: "Output" }];
    expect((await api("files.completeUploadExternal", { files, channel_id: "C0GENERAL" })).body.error).toBe(
      "file_not_found",
    );

    const form = new FormData();
    form.append("body", new Blob(["hello"]), "out.txt");
    const uploaded = await fetch(uploadUrl, { method: "POST", body: form });
    expect(uploaded.status).toBe(200);
    expect(await uploaded.text()).toBe("OK - 5");

    expect((await api("files.completeUploadExternal", { files, channel_id: "C0SECRET" })).body.error).toBe(
      "channel_not_found",
    );
    const done = await api("files.completeUploadExternal", {
      files,
      channel_id: "C0GENERAL",
      thread_ts: "1700000000.000100",
      initial_comment: "here",
    });
    expect(done.body).toMatchObject({
      ok: true,
      files: [{ id: got.body.file_id, title: "Output", size: 5 }],
    });
    expect(slack.uploads()).toEqual([
      expect.objectContaining({
        filename: "out.txt",
        content: "hello",
        completed: true,
        title: "Output",
        channel: "C0GENERAL",
        threadTs: "1700000000.000100",
        initialComment: "here",
      }),
    ]);
    expect((await fetch(uploadUrl, { method: "POST", body: "again" })).status).toBe(404);
  });
});

describe("views.open", () => {
  it("records a modal and requires a trigger_id and a view", async () => {
    const view = { type: "modal", title: { type: "plain_text", text: "Email" }, blocks: [] };
    expect((await api("views.open", { view })).body.error).toBe("invalid_arguments");
    expect((await api("views.open", { trigger_id: "123.456" })).body.error).toBe("invalid_arguments");
    const opened = await api("views.open", { trigger_id: "123.456", view });
    expect(opened.body).toMatchObject({ ok: true, view: { type: "modal", id: expect.any(String) } });
    expect(slack.views()).toEqual([{ id: expect.any(String), triggerId: "123.456", view }]);
  });
});

describe("views.publish", () => {
  const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
  const home = (blocks: unknown[]) => ({ type: "home", blocks });

  it("shows a user's Home tab as last published, and refuses what Slack refuses", async () => {
    expect((await api("views.publish", { view: home([]) })).body.error).toBe("invalid_arguments");
    expect((await api("views.publish", { user_id: "U0ALICE" })).body.error).toBe("invalid_arguments");
    const modal = { type: "modal", title: { type: "plain_text", text: "x" }, blocks: [] };
    expect((await api("views.publish", { user_id: "U0ALICE", view: modal })).body.error).toBe(
      "invalid_arguments",
    );
    expect((await api("views.publish", { user_id: "U0NOBODY", view: home([]) })).body.error).toBe(
      "user_not_found",
    );
    const tooMany = home(Array.from({ length: 101 }, () => section("x")));
    expect((await api("views.publish", { user_id: "U0ALICE", view: tooMany })).body.error).toBe(
      "invalid_blocks",
    );
    const tooLong = home([section("x".repeat(3001))]);
    expect((await api("views.publish", { user_id: "U0ALICE", view: tooLong })).body.error).toBe(
      "invalid_blocks",
    );
    const button = (value: string) => ({
      type: "button",
      action_id: "a",
      text: { type: "plain_text", text: "b" },
      value,
    });
    const wideRow = home([{ type: "actions", elements: Array.from({ length: 26 }, () => button("v")) }]);
    expect((await api("views.publish", { user_id: "U0ALICE", view: wideRow })).body.error).toBe(
      "invalid_blocks",
    );
    const bigValue = home([{ type: "actions", elements: [button("v".repeat(2001))] }]);
    expect((await api("views.publish", { user_id: "U0ALICE", view: bigValue })).body.error).toBe(
      "invalid_blocks",
    );
    expect(slack.homeView("U0ALICE")).toBeUndefined();

    const first = home(Array.from({ length: 100 }, () => section("x".repeat(3000))));
    const published = await api("views.publish", { user_id: "U0ALICE", view: first });
    expect(published.body).toMatchObject({ ok: true, view: { type: "home", id: expect.any(String) } });
    const again = await api(
      "views.publish",
      { user_id: "U0ALICE", view: home([section("again")]) },
      { json: true },
    );
    expect(again.body.ok).toBe(true);
    expect(slack.homeView("U0ALICE")).toEqual({
      id: (published.body.view as { id: string }).id,
      view: home([section("again")]),
      publishes: 2,
    });
  });
});

describe("response_url", () => {
  it("records JSON posts, answers ok, and refuses the sixth post with 404 used_url", async () => {
    const url = slack.responseUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\/[0-9a-f]+$/);
    for (let i = 1; i <= 5; i++) {
      const reply = await post(url, JSON.stringify({ response_type: "ephemeral", text: `answer ${i}` }));
      expect(reply.status).toBe(200);
      expect(await reply.text()).toBe("ok");
    }
    const sixth = await post(url, JSON.stringify({ text: "one too many" }));
    expect(sixth.status).toBe(404);
    expect(await sixth.text()).toBe("used_url");
    expect(slack.responses(url).map((r) => r.body.text)).toEqual([1, 2, 3, 4, 5].map((i) => `answer ${i}`));
    expect(slack.responses("someone-else")).toEqual([]);
  });

  it("refuses bad payloads without using up the URL", async () => {
    const url = slack.responseUrl();
    const bad = await post(url, "text=hi", "application/x-www-form-urlencoded");
    expect([bad.status, await bad.text()]).toEqual([400, "invalid_payload"]);
    const empty = await post(url, JSON.stringify({ response_type: "in_channel" }));
    expect([empty.status, await empty.text()]).toEqual([400, "no_text"]);
    const long = await post(url, JSON.stringify({ text: "x".repeat(40_001) }));
    expect([long.status, await long.text()]).toEqual([400, "msg_too_long"]);
    expect((await post(url, JSON.stringify({ delete_original: true }))).status).toBe(200);
    expect(slack.responses(url)).toHaveLength(1);
  });

  it("expires 30 minutes after minting and knows only URLs it minted", async () => {
    const url = slack.responseUrl();
    clock += 30 * 60 * 1000 + 1;
    const expired = await post(url, JSON.stringify({ text: "late" }));
    expect([expired.status, await expired.text()]).toEqual([404, "expired_url"]);
    const unknown = await post(url.replace(/[0-9a-f]+$/, "feedface"), JSON.stringify({ text: "x" }));
    expect([unknown.status, await unknown.text()]).toEqual([404, "no_service"]);
  });
});

describe("response_url bound to a channel and a person", () => {
  it("lands in the channel as Slack shows it: ephemeral, in_channel, replace and delete", async () => {
    const command = slack.responseUrl({ channel: "C0GENERAL", user: "U0ALICE" });
    await post(command, JSON.stringify({ text: "working on it" }));
    await post(command, JSON.stringify({ response_type: "in_channel", text: "done" }));
    const [working, done] = slack.messages("C0GENERAL");
    expect(working).toMatchObject({ text: "working on it", ephemeral: true, user: "U0ALICE" });
    expect(done).toMatchObject({ text: "done", ephemeral: false });
    expect(done?.user).toBeUndefined();
    // replace_original on a command's URL acts on the last message that URL made.
    await post(command, JSON.stringify({ replace_original: true, text: "done, again" }));
    expect(slack.messages("C0GENERAL")).toHaveLength(2);
    expect(slack.messages("C0GENERAL")[1]).toMatchObject({ ts: done?.ts, text: "done, again", updates: 1 });
    expect(slack.responses(command).map((r) => r.ts)).toEqual([working?.ts, done?.ts, done?.ts]);

    const posted = await api("chat.postMessage", { channel: "C0GENERAL", text: "click me" });
    const ts = posted.body.ts as string;
    const click = slack.responseUrl({ channel: "C0GENERAL", user: "U0ALICE", messageTs: ts });
    await post(click, JSON.stringify({ replace_original: true, blocks: [{ type: "divider" }] }));
    const clicked = slack.messages("C0GENERAL").find((m) => m.ts === ts);
    expect(clicked).toMatchObject({ blocks: [{ type: "divider" }], updates: 1 });
    expect(clicked?.text).toBeUndefined();
    await post(click, JSON.stringify({ delete_original: true }));
    expect(slack.messages("C0GENERAL").find((m) => m.ts === ts)?.deleted).toBe(true);
  });

  it("keeps people's messages in order with the bot's", async () => {
    const mine = slack.postUserMessage({ channel: "C0ALERTS", user: "U0ALICE", text: "@victoria help" });
    const reply = await api("chat.postMessage", { channel: "C0ALERTS", text: "hello", thread_ts: mine.ts });
    expect(slack.messages("C0ALERTS").map((m) => [m.author, m.text, m.threadTs])).toEqual([
      ["U0ALICE", "@victoria help", undefined],
      [undefined, "hello", mine.ts],
    ]);
    expect(Number(reply.body.ts)).toBeGreaterThan(Number(mine.ts));
  });

  it("mints a bound URL over HTTP and refuses a malformed context", async () => {
    const base = slack.url.replace(/\/api\/$/, "");
    const minted = await fetch(`${base}/_stand-in/response-url`, {
      method: "POST",
      body: JSON.stringify({ channel: "C0GENERAL", user: "U0ALICE" }),
    });
    const { response_url } = (await minted.json()) as { response_url: string };
    await post(response_url, JSON.stringify({ text: "for you" }));
    expect(slack.messages("C0GENERAL")).toMatchObject([
      { text: "for you", ephemeral: true, user: "U0ALICE" },
    ]);
    const bad = await fetch(`${base}/_stand-in/response-url`, { method: "POST", body: '{"channel": 1}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "expected {channel, user, message_ts?}" });
  });
});

describe("inspection endpoints for people driving the stand-in by hand", () => {
  it("mints a response_url over HTTP and lists what was posted", async () => {
    const standIn = await startSlackStandIn({ botToken: "xoxb-inspect" });
    try {
      const base = standIn.url.replace(/\/api\/$/, "");
      const minted = (await (await fetch(`${base}/_stand-in/response-url`, { method: "POST" })).json()) as {
        response_url: string;
      };
      expect(minted.response_url).toMatch(/\/response\/[0-9a-f]{24}$/);
      const posted = await fetch(minted.response_url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "hello" }),
      });
      expect(posted.status).toBe(200);
      const listed = (await (await fetch(`${base}/_stand-in/responses`)).json()) as {
        body: { text: string };
      }[];
      expect(listed.map((r) => r.body.text)).toEqual(["hello"]);
      expect(await (await fetch(`${base}/_stand-in/messages`)).json()).toEqual([]);
    } finally {
      await standIn.close();
    }
  });
});
