import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { SLACK_SIGNATURE_HEADER } from "@victoria/core/security/slack-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_DEMO_QUEUE, type LocalServer, startLocalServer } from "../local-server";
import type { WorkbenchState } from "./workbench-state";

const logger = createMemoryLogger();
let dir: string;
let server: LocalServer;

function api(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/workbench/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function apiJson(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await api(path, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function state(user: string): Promise<WorkbenchState> {
  const response = await fetch(`${server.url}/workbench/api/state?user=${user}`);
  expect(response.status).toBe(200);
  return (await response.json()) as WorkbenchState;
}

/** Polls the page's state until `check` holds, as the page itself does. */
async function until<T>(user: string, check: (s: WorkbenchState) => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = check(await state(user));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** fetch() will not send a Host header of our choosing; node:http will. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { host } }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
  });
}

const textOf = (message: WorkbenchState["messages"][number]) =>
  JSON.stringify(message.blocks ?? message.text);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "workbench-"));
  // An audit log a previous run left behind, longer than the tail the page reads.
  const old = Array.from({ length: 3000 }, (_, i) =>
    JSON.stringify({
      phase: "finished",
      requestId: `old-${i}`,
      time: "2026-01-01T00:00:00.000Z",
      command: "x".repeat(200),
      user: { id: "U0OLD" },
    }),
  );
  await writeFile(join(dir, "audit.jsonl"), `${old.join("\n")}\n`);
  server = await startLocalServer({
    env: {
      PORT: "0",
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
    },
    logger,
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the workbench page", () => {
  it("serves the page, its stylesheet and its compiled script", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("/workbench/workbench.js");
    const script = await fetch(`${server.url}/workbench/workbench.js`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const code = await script.text();
    expect(code).toContain("/workbench/api/state");
    expect(code).not.toMatch(/:\s*(string|number|boolean)\s*[,)=]/); // types were compiled away
    const css = await fetch(`${server.url}/workbench/workbench.css`);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("describes the people, channel and queues, and never a secret", async () => {
    const response = await fetch(`${server.url}/workbench/api/config`);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      available: true,
      channel: { id: "C0DEVALERTS", name: "sre-alerts" },
      users: [
        { id: "U0MEMBER", email: "sre@example.com", member: true },
        { id: "U0GUEST", email: "guest@example.com", member: false },
        { id: "U0LEAD", email: "lead@example.com", member: false },
      ],
      bus: { embedded: true, namespace: "victoria-local", queues: ["orders", "victoria-failed-requests"] },
    });
    for (const secret of ["dev-slack-signing-secret", "dev-listener-token", "xoxb-dev-bot-token"])
      expect(text).not.toContain(secret);
  });
});

describe("the audit panel", () => {
  it("reads only the tail of a long audit log, newest first, with no torn line", async () => {
    const { records } = (await state("U0MEMBER")).audit;
    expect(records).toHaveLength(50);
    expect(records[0]?.requestId).toBe("old-2999");
    expect(records[49]?.requestId).toBe("old-2950");
  });
});

describe("typing in the channel", () => {
  it("runs a member's slash command, signed as Slack signs it, and shows the output", async () => {
    const outcome = await apiJson("messages", { user: "U0MEMBER", text: "/victoria config view" });
    expect(outcome.sent).toMatchObject({ route: "/authenticate", kind: "slash_command", status: 200 });
    const output = await until(
      "U0MEMBER",
      (s) => s.messages.find((m) => !m.ephemeral && textOf(m).includes("storage_providers")),
      "the command's output",
    );
    expect(output.author).toBeUndefined();
    // The acknowledgement is ephemeral: the member sees it, the guest does not.
    expect((await state("U0MEMBER")).messages.some((m) => m.ephemeral && textOf(m).includes("Running"))).toBe(
      true,
    );
    expect((await state("U0GUEST")).messages.some((m) => m.ephemeral)).toBe(false);
    const audit = (await state("U0MEMBER")).audit.records;
    expect(audit[0]).toMatchObject({ phase: "finished", command: "config view", user: { id: "U0MEMBER" } });
    expect(audit[1]).toMatchObject({ phase: "requested", command: "config view" });
  });

  it("refuses a non-member and audits the refusal", async () => {
    await apiJson("messages", { user: "U0GUEST", text: "/victoria config view" });
    const refusal = await until(
      "U0GUEST",
      (s) => s.messages.find((m) => textOf(m).toLowerCase().includes("not") && m.ephemeral),
      "the refusal",
    );
    expect(textOf(refusal)).not.toContain("storage_providers");
    const audit = await until(
      "U0GUEST",
      (s) => s.audit.records.find((r) => r.phase === "refused" && r.user.id === "U0GUEST"),
      "the refused audit record",
    );
    expect(audit.command).toBe("config view");
  });

  it("sends a mention as an app_mention event and answers in its thread", async () => {
    const outcome = await apiJson("messages", { user: "U0MEMBER", text: "@victoria config view" });
    expect(outcome.sent).toMatchObject({ route: "/authenticate", kind: "app_mention", status: 200 });
    const mine = (await state("U0MEMBER")).messages.find((m) => m.author === "U0MEMBER");
    expect(mine?.text).toBe("<@U0VICTORIA> config view");
    const reply = await until(
      "U0GUEST",
      (s) => s.messages.find((m) => m.threadTs === mine?.ts && textOf(m).includes("storage_providers")),
      "the threaded reply",
    );
    expect(reply.author).toBeUndefined();
  });

  it("says what Slack would say for a command the app does not have", async () => {
    const outcome = await apiJson("messages", { user: "U0MEMBER", text: "/deploy prod" });
    expect(outcome).toEqual({ notice: "/deploy is not a valid command. The app's command is /victoria." });
  });
});

describe("making trouble and resolving it", () => {
  it("dead-letters a message, fires an alert, and Replay puts it back on its queue", async () => {
    const made = await apiJson("dead-letters", {
      queue: LOCAL_DEMO_QUEUE,
      body: '{"orderId": 7}',
      reason: "MaxDeliveryCountExceeded",
      description: "Processing failed 10 times",
    });
    expect(made.notice).toMatch(/^Dead-lettered message [0-9a-f-]{36} on orders$/);
    const before = await state("U0MEMBER");
    expect(before.bus.queues.find((q) => q.name === "orders")).toMatchObject({ active: 0, deadLetter: 1 });

    const fired = await apiJson("alerts", { queue: LOCAL_DEMO_QUEUE, kind: "azure-monitor" });
    expect(fired.sent).toMatchObject({ route: "/listener", status: 202 });
    const notification = await until(
      "U0MEMBER",
      (s) => s.messages.find((m) => textOf(m).includes("deadletter_replay")),
      "the dead-letter notification",
    );
    const parked = await until(
      "U0MEMBER",
      (s) => s.bus.queues.find((q) => q.name === "orders" && q.deadLetter === 0) && s.vault.records[0],
      "the drain to complete the message",
    );
    expect(parked).toMatchObject({ state: "parked", entity: "orders", reason: "MaxDeliveryCountExceeded" });

    const clicked = await apiJson("actions", {
      user: "U0MEMBER",
      messageTs: notification.ts,
      actionId: "deadletter_replay",
      value: parked.id,
    });
    expect(clicked.sent).toMatchObject({ route: "/resolve", kind: "block_actions", status: 200 });
    const after = await until(
      "U0MEMBER",
      (s) =>
        s.vault.records.find((r) => r.id === parked.id && r.state === "replayed") &&
        s.bus.queues.find((q) => q.name === "orders" && q.active === 1) &&
        s.messages.find((m) => m.ts === notification.ts && m.edited) &&
        s,
      "the replay",
    );
    expect(after.bus.queues.find((q) => q.name === "orders")).toMatchObject({ active: 1, deadLetter: 0 });
    expect(after.vault.records[0]?.resolution?.by).toBe("U0MEMBER");
    const redrawn = after.messages.find((m) => m.ts === notification.ts);
    expect(redrawn?.edited).toBe(true);
    expect(textOf(redrawn as WorkbenchState["messages"][number])).toContain("<@U0MEMBER>");
  });

  it("fires an Event Grid event too", async () => {
    await apiJson("dead-letters", { queue: "orders", body: "plain text", reason: "Poison" });
    const fired = await apiJson("alerts", { queue: "orders", kind: "event-grid" });
    expect(fired.sent).toMatchObject({ route: "/listener", kind: "event-grid", status: 202 });
    const record = await until(
      "U0MEMBER",
      (s) => s.vault.records.find((r) => r.body === "plain text"),
      "the second record",
    );
    await until("U0MEMBER", (s) => s.messages.find((m) => textOf(m).includes(record.id)), "its notification");
  });

  it("opens the email dialog for the person who clicked, keeps it open on a bad address, and closes it", async () => {
    const { messages, vault } = await state("U0MEMBER");
    const record = vault.records.find((r) => r.state === "parked");
    const notification = messages.findLast((m) => textOf(m).includes(record?.id ?? "none"));
    expect(record && notification).toBeTruthy();
    await apiJson("actions", {
      user: "U0MEMBER",
      messageTs: notification?.ts,
      actionId: "deadletter_email",
      value: record?.id,
    });
    const view = await until("U0MEMBER", (s) => s.view, "the email dialog");
    expect(view.view).toMatchObject({ type: "modal", callback_id: "deadletter_email" });
    expect((await state("U0GUEST")).view).toBeUndefined();

    const refused = await apiJson(`views/${view.id}/submit`, {
      user: "U0MEMBER",
      values: { recipient: { address: "not-an-address" } },
    });
    expect(refused.sent).toMatchObject({
      status: 200,
      response: {
        response_action: "errors",
        errors: { recipient: "'not-an-address' is not an email address" },
      },
    });
    expect((await state("U0MEMBER")).view?.id).toBe(view.id);
    await apiJson(`views/${view.id}/close`, { user: "U0MEMBER" });
    expect((await state("U0MEMBER")).view).toBeUndefined();
  });

  it("opens the repair dialog pre-filled, and replays the edited body when it is submitted", async () => {
    const { messages, vault } = await state("U0MEMBER");
    const record = vault.records.find((r) => r.state === "parked" && r.body === "plain text");
    const notification = messages.findLast((m) => textOf(m).includes(record?.id ?? "none"));
    expect(record && notification).toBeTruthy();
    await apiJson("actions", {
      user: "U0MEMBER",
      messageTs: notification?.ts,
      actionId: "deadletter_repair",
      value: record?.id,
    });
    const view = await until("U0MEMBER", (s) => s.view, "the repair dialog");
    expect(view.view).toMatchObject({ type: "modal", callback_id: "deadletter_repair" });
    const inputs = view.view.blocks as { block_id?: string; element?: { initial_value?: string } }[];
    expect(inputs.find((b) => b.block_id === "body")?.element?.initial_value).toBe("plain text");
    const lines = inputs.find((b) => b.block_id === "properties")?.element?.initial_value ?? "";
    const sent = await apiJson(`views/${view.id}/submit`, {
      user: "U0MEMBER",
      values: { body: { text: "fixed text" }, properties: { lines } },
    });
    expect(sent.sent).toMatchObject({ status: 200 });
    const after = await until(
      "U0MEMBER",
      (s) =>
        s.vault.records.find((r) => r.id === record?.id && r.state === "replayed") &&
        s.messages.find(
          (m) => m.ts === notification?.ts && textOf(m).includes("Replayed with edits by <@U0MEMBER>"),
        ) &&
        s,
      "the repaired replay, redrawn",
    );
    expect(after.view).toBeUndefined();
  });
});

describe("what the workbench refuses", () => {
  it("names bad input with a 400", async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["messages", { user: "U0NOBODY", text: "/victoria help" }, /Unknown user U0NOBODY/],
      ["messages", { text: "/victoria help" }, /user/],
      ["messages", { user: "U0MEMBER", text: "   " }, /Type a message first/],
      ["dead-letters", { queue: "payments", body: "x", reason: "r" }, /Unknown queue 'payments'/],
      ["dead-letters", { queue: "orders", body: "x" }, /reason/],
      ["alerts", { queue: "orders", kind: "pagerduty" }, /kind/],
      ["actions", { user: "U0MEMBER", messageTs: "1.000001", actionId: "x" }, /No message 1.000001/],
      ["views/V0NONE/submit", { user: "U0MEMBER", values: {} }, /No open dialog V0NONE/],
    ];
    for (const [path, body, message] of cases) {
      const response = await api(path, body);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }
    const unknownUser = await fetch(`${server.url}/workbench/api/state?user=U0NOBODY`);
    expect(unknownUser.status).toBe(400);
  });

  it("takes JSON only, from its own origin, addressed to a loopback name", async () => {
    const form = await fetch(`${server.url}/workbench/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "user=U0MEMBER&text=/victoria+help",
    });
    expect(form.status).toBe(415);
    const crossSite = await api(
      "messages",
      { user: "U0MEMBER", text: "hi" },
      { origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toEqual({
      error: "Forbidden",
      message: "Cross-origin requests are refused (Origin https://evil.example)",
    });
    // A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own Host.
    const rebound = await getWithHost(`${server.url}/`, "evil.example:3000");
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain("localhost only");
    const sameOrigin = await api("messages", { user: "U0MEMBER", text: "hello" }, { origin: server.url });
    expect(sameOrigin.status).toBe(200);
  });

  it("keeps the signing secret to itself: the page sees the outcome, not the signature inputs", async () => {
    const outcome = await (await api("messages", { user: "U0MEMBER", text: "/victoria help" })).text();
    expect(outcome).not.toContain("dev-slack-signing-secret");
    expect(outcome.toLowerCase()).not.toContain(SLACK_SIGNATURE_HEADER);
  });
});

describe("without the embedded Slack stand-in", () => {
  it("explains what it needs instead of failing", async () => {
    const slack = server.slack;
    const other = await startLocalServer({
      env: {
        PORT: "0",
        SLACK_API_URL: slack?.url,
        SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: server.serviceBus?.connectionString }),
        VAULT_DIR: join(dir, "vault-2"),
        AUDIT_LOG_FILE: join(dir, "audit-2.jsonl"),
      },
      logger,
    });
    try {
      const config = (await (await fetch(`${other.url}/workbench/api/config`)).json()) as Record<
        string,
        unknown
      >;
      expect(config).toMatchObject({ available: false, bus: { embedded: false } });
      expect(config.reason).toMatch(/SLACK_API_URL/);
      const post = await fetch(`${other.url}/workbench/api/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user: "U0MEMBER", text: "/victoria help" }),
      });
      expect(post.status).toBe(503);
      const trouble = await fetch(`${other.url}/workbench/api/dead-letters`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queue: "orders", body: "x", reason: "r" }),
      });
      expect(trouble.status).toBe(400);
      expect(((await trouble.json()) as { message: string }).message).toMatch(/embedded broker/);
    } finally {
      await other.close();
    }
  });
});
