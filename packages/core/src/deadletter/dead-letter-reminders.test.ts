import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFileVault } from "../adapters/local/file-vault";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createMemoryLogger } from "../logging/json-logger";
import type { EntityRef } from "./dead-letter";
import { remindParkedDeadLetters } from "./dead-letter-reminders";
import type { Vault } from "./vault";

const TOKEN = "xoxb-remind";
const CHANNEL = "C0ALERTS";
const HOUR = 3_600_000;
const NOW = new Date("2026-12-06T12:00:00.000Z");

let slack: SlackStandIn;
let dir: string;
let vault: Vault;

beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [CHANNEL] });
});
afterAll(() => slack.close());
beforeEach(async () => {
  slack.reset();
  dir = await mkdtemp(join(tmpdir(), "victoria-remind-"));
  vault = createFileVault(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const chat = () => createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } });

/** A notification really posted in the channel (so a thread reply to it is accepted). */
async function notification(channel = CHANNEL) {
  const posted = await chat().postMessage({ channel: CHANNEL, text: "dead letters" });
  return { channel, ts: posted.ts, id: `n-${posted.ts}`, at: NOW.toISOString() };
}

let n = 0;
async function park(
  hoursAgo: number,
  notified: Awaited<ReturnType<typeof notification>> | undefined,
  entity: EntityRef = { kind: "queue", queue: "orders" },
) {
  n += 1;
  const id = n.toString(16).padStart(8, "0");
  await vault.park({
    id,
    cluster: "east",
    namespace: "ns",
    entity,
    parkedAt: new Date(NOW.getTime() - hoursAgo * HOUR).toISOString(),
    message: {
      messageId: `m-${id}`,
      sequenceNumber: String(n),
      enqueuedTime: NOW.toISOString(),
      deliveryCount: 10,
      body: { kind: "empty" },
      applicationProperties: {},
    },
  });
  if (notified) await vault.markNotified(id, notified);
  return id;
}

const remind = (remindAfterMs = 24 * HOUR) =>
  remindParkedDeadLetters({
    vault,
    chat: chat(),
    logger: createMemoryLogger(),
    remindAfterMs,
    now: () => NOW,
  });
const replies = () => slack.messages().filter((m) => m.threadTs !== undefined);

describe("remindParkedDeadLetters", () => {
  it("one reply per notification, in its thread, naming its records parked too long; never twice", async () => {
    const a = await notification();
    const b = await notification();
    const a1 = await park(30, a);
    const a2 = await park(50, a);
    await park(2, a); // not yet due
    const b1 = await park(25, b);
    await park(40, undefined); // never notified: nothing to reply to
    const resolved = await park(40, b);
    await vault.transition(resolved, "parked", "deleted", { by: "U0ME", at: NOW.toISOString() });

    expect(await remind()).toEqual({ reminded: 3, posted: 2, failed: 0 });
    const [first, second] = replies();
    const threadOf = new Map(replies().map((r) => [r.threadTs, r.text ?? ""]));
    expect(new Set([first?.threadTs, second?.threadTs])).toEqual(new Set([a.ts, b.ts]));
    const aText = threadOf.get(a.ts) ?? "";
    expect(aText).toContain(
      "*2 dead letters* of this notification are still parked after 1d (the oldest for 2d2h)",
    );
    expect(aText).toContain(`\`${a1}\``);
    expect(aText).toContain(`\`${a2}\``);
    expect(threadOf.get(b.ts)).toContain(`*1 dead letter* of this notification is still parked after 1d`);
    expect(threadOf.get(b.ts)).toContain(`\`${b1}\``);
    expect(threadOf.get(b.ts)).toContain("`/victoria deadletter ls --state parked --entity orders`");

    expect(await remind()).toEqual({ reminded: 0, posted: 0, failed: 0 });
    expect(replies()).toHaveLength(2);
  });

  it("overlapping runs name each record once", async () => {
    const a = await notification();
    for (let i = 0; i < 6; i++) await park(30, a);
    const runs = await Promise.all([remind(), remind(), remind()]);
    expect(runs.reduce((sum, r) => sum + r.reminded, 0)).toBe(6);
    const named = replies().flatMap((r) => (r.text ?? "").match(/`[0-9a-f]{8}`/g) ?? []);
    expect(named).toHaveLength(6);
    expect(new Set(named).size).toBe(6);
  });

  it("gives its claims back when the reply cannot be posted, so the next run reminds", async () => {
    const gone = await notification("C0GONE"); // Slack answers channel_not_found
    const id = await park(30, gone);
    expect(await remind()).toEqual({ reminded: 0, posted: 0, failed: 1 });
    expect((await vault.get(id))?.remindedAt).toBeUndefined();
    await vault.markNotified(id, { ...gone, channel: CHANNEL });
    expect(await remind()).toMatchObject({ reminded: 1, posted: 1 });
    expect((await vault.get(id))?.remindedAt).toBe(NOW.toISOString());
  });

  it("escapes an entity name that carries Slack markup", async () => {
    const a = await notification();
    await park(30, a, { kind: "queue", queue: "<!channel> & <https://evil|x>" });
    await remind();
    const text = replies()[0]?.text ?? "";
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt; &amp; &lt;https://evil|x&gt;");
  });

  it("does nothing when turned off (0)", async () => {
    await park(300, await notification());
    expect(await remind(0)).toEqual({ reminded: 0, posted: 0, failed: 0 });
    expect(replies()).toHaveLength(0);
  });
});
