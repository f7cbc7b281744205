import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import type { EntityRef } from "@victoria/core/deadletter/dead-letter";
import { DEADLETTER_ACTIONS } from "@victoria/core/deadletter/notification-blocks";
import type { VaultRecord } from "@victoria/core/deadletter/vault";
import { sampleRecord } from "@victoria/core/deadletter/vault-contract";
import { mapLimit } from "@victoria/core/deadletter/vault-index";
import type { SlackHomeView } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterAndAlert, dlqDrained } from "./dead-letters-over-the-wire";
import { eventually } from "./eventually";
import { auditRecords, firstResponse, sendInteraction, sendSlash, signedJson } from "./slack-over-the-wire";
import { spawnWiredServer, stopWiredServer, WIRED, type WiredServer } from "./spawn-local-server";

/**
 * Issue 18's App Home over the wire: `npm start` with a Slack and a Service Bus stand-in. Slack's
 * `app_home_opened` event goes to /authenticate signed as Slack signs it; the worker job publishes
 * the Home with `views.publish` into the stand-in, which refuses what Slack refuses (over 100
 * blocks, a section over 3,000 characters, more than 25 buttons in a row, a value over 2,000), so
 * a Home that is shown at all is within Slack's limits. Clicks on it go to /resolve as Slack sends
 * them from a Home tab: a `view` container, no channel, no message, no response_url.
 */

const { botUserId: BOT_USER_ID, queue: QUEUE, alerts: ALERTS } = WIRED;

const MEMBER = { id: "U0MEMBER", email: "sre@example.com" };
const OUTSIDER = { id: "U0OUTSIDER", email: "eve@example.com" };

let h: WiredServer;

beforeAll(async () => {
  h = await spawnWiredServer("app-home", { users: [MEMBER, OUTSIDER], sreMember: MEMBER.email });
}, 60_000);

afterAll(() => stopWiredServer(h));

// ---------------------------------------------------------------------------------------------

let eventSeq = 0;

/** Slack's `app_home_opened` for `tab`, signed; answers the HTTP status. */
async function homeOpened(
  user: string,
  tab: "home" | "messages" = "home",
  eventId?: string,
): Promise<number> {
  eventSeq += 1;
  const body = JSON.stringify({
    type: "event_callback",
    team_id: "T0E2E",
    api_app_id: "A0VICTORIA",
    event_id: eventId ?? `Ev0HOME${eventSeq}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0E2E", user_id: BOT_USER_ID, is_bot: true }],
    event: {
      type: "app_home_opened",
      user,
      channel: `D0${user.slice(2)}`,
      tab,
      event_ts: `${Date.now() / 1000}`,
    },
  });
  const res = await fetch(`${h.server.url}/authenticate`, signedJson(h.signingSecret, body));
  return res.status;
}

/** Opens the Home tab as `user` and waits for the Home the worker publishes. */
async function openHome(user: string): Promise<SlackHomeView> {
  const before = h.slack.homeView(user)?.publishes ?? 0;
  expect(await homeOpened(user)).toBe(200);
  return eventually(() => {
    const home = h.slack.homeView(user);
    return home && home.publishes > before ? home : undefined;
  }, 15_000);
}

type Block = Record<string, unknown>;
const blocksOf = (home: SlackHomeView) => (home.view.blocks ?? []) as Block[];
/** Every text of the Home (sections, fields, contexts, headers), as Slack would render its source. */
const textOf = (home: SlackHomeView) =>
  blocksOf(home)
    .flatMap((b) => [
      (b.text as { text?: string } | undefined)?.text ?? "",
      ...((b.elements as { text?: unknown }[] | undefined) ?? []).map((e) =>
        typeof e.text === "string" ? e.text : "",
      ),
    ])
    .join("\n");
const buttonsOf = (home: SlackHomeView) =>
  blocksOf(home)
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements as { action_id: string; value: string }[]);

/** Checks Slack's limits for a Home tab on what was published (the stand-in refused anything over). */
function expectWithinLimits(home: SlackHomeView) {
  const blocks = blocksOf(home);
  expect(blocks.length).toBeLessThanOrEqual(100);
  for (const block of blocks) {
    const text = (block.text as { text?: string } | undefined)?.text;
    if (block.type === "section") expect((text ?? "").length).toBeLessThanOrEqual(3000);
    if (block.type === "actions") expect((block.elements as unknown[]).length).toBeLessThanOrEqual(25);
  }
  for (const button of buttonsOf(home)) expect(button.value.length).toBeLessThanOrEqual(2000);
}

/** A slash command in the alert channel, and its answer. */
async function slashAnswered(user: string, text: string): Promise<void> {
  const { responseUrl } = await sendSlash(h, { user, channel: ALERTS, text });
  await firstResponse(h, responseUrl);
}

/** A click on a Home tab button, as Slack sends it: a `view` container, no channel or response_url. */
async function clickOnHome(user: string, home: SlackHomeView, actionId: string, value: string) {
  await sendInteraction(h, {
    type: "block_actions",
    user: { id: user, username: user.toLowerCase(), team_id: "T0E2E" },
    api_app_id: "A0VICTORIA",
    container: { type: "view", view_id: home.id },
    trigger_id: `trigger-${Math.random()}`,
    team: { id: "T0E2E", domain: "e2e" },
    view: { id: home.id, type: "home", blocks: home.view.blocks, hash: "h" },
    actions: [
      { action_id: actionId, block_id: `dl-actions:${value}`, value, type: "button", action_ts: "1" },
    ],
  });
}

function vaultRecord(id: string): VaultRecord {
  return JSON.parse(readFileSync(join(h.vaultDir, "records", `${id}.json`), "utf8")) as VaultRecord;
}

/** Dead-letters `count` messages, fires the alert at /listener, waits until they are parked and notified. */
async function deadLetters(tag: string, count: number): Promise<void> {
  await deadLetterAndAlert(h, QUEUE, tag, count);
  await dlqDrained(h, QUEUE);
  await eventually(
    () =>
      h.slack.messages(ALERTS).some((m) => (m.text ?? "").startsWith(":rotating_light:")) ? true : undefined,
    15_000,
  );
}

// ---------------------------------------------------------------------------------------------

describe("the App Home (app_home_opened → views.publish) on npm start", () => {
  it("shows a member an empty vault, no recent commands, and what they can type", async () => {
    const home = await openHome(MEMBER.id);
    expect(home.view.type).toBe("home");
    const text = textOf(home);
    expect(text).toContain("No dead letters are parked.");
    expect(text).toContain("_None yet._");
    // The engine's top-level commands, as `/victoria help` lists them.
    for (const plugin of ["config", "encrypt", "store", "deadletter", "policy"])
      expect(text).toContain(`\`/victoria ${plugin}\``);
    expect(buttonsOf(home)).toEqual([]);
    expectWithinLimits(home);
  });

  it("publishes only for the Home tab, and once per delivery (Slack's retries are deduplicated)", async () => {
    const calls = () => h.slack.calls.filter((c) => c.method === "views.publish").length;
    const before = calls();
    expect(await homeOpened(MEMBER.id, "messages")).toBe(200);
    expect(await homeOpened(MEMBER.id, "home", "Ev0HOMEDUP")).toBe(200);
    expect(await homeOpened(MEMBER.id, "home", "Ev0HOMEDUP")).toBe(200);
    await eventually(() => (calls() > before ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(calls()).toBe(before + 1);
  });

  it("shows someone outside the SRE group why not, and nothing of the vault", async () => {
    await deadLetters("outsider", 2);
    const home = await openHome(OUTSIDER.id);
    const text = textOf(home);
    // The words a refused command gets (authorize-slack-user.ts).
    expect(text).toContain(
      "Sorry, eve@example.com is not a member of the SRE group, so you cannot run Victoria.",
    );
    expect(text).not.toMatch(/dead letters? parked|orders|Boom/);
    expect(buttonsOf(home)).toEqual([]);
  });

  it("lists a member's parked dead letters with the notification's buttons; a click goes through /resolve once", async () => {
    await deadLetters("few", 3);
    const home = await openHome(MEMBER.id);
    const text = textOf(home);
    expect(text).toMatch(/5 dead letters parked\* in 1 entity/);
    expect(text).toMatch(/`local \/ orders` — 5 · oldest \d+s/);
    const replays = buttonsOf(home).filter((b) => b.action_id === DEADLETTER_ACTIONS.replay);
    expect(replays).toHaveLength(5);
    // The same four buttons as the notification, in the same order, with the record id as value.
    expect(
      buttonsOf(home)
        .slice(0, 4)
        .map((b) => b.action_id),
    ).toEqual([
      DEADLETTER_ACTIONS.replay,
      DEADLETTER_ACTIONS.repair,
      DEADLETTER_ACTIONS.email,
      DEADLETTER_ACTIONS.delete,
    ]);
    const target = replays[0]?.value as string;
    expect(vaultRecord(target).state).toBe("parked");

    const auditBefore = auditRecords(h).length;
    await clickOnHome(MEMBER.id, home, DEADLETTER_ACTIONS.replay, target);
    // Replayed exactly once, audited as a button, and the Home is published again without it.
    await eventually(() => (vaultRecord(target).state === "replayed" ? true : undefined));
    const again = await eventually(() => {
      const latest = h.slack.homeView(MEMBER.id);
      return latest && latest.publishes > home.publishes ? latest : undefined;
    });
    expect(buttonsOf(again).map((b) => b.value)).not.toContain(target);
    expect(textOf(again)).toMatch(/4 dead letters parked/);
    expect(vaultRecord(target).resolution).toMatchObject({ by: MEMBER.id, via: "button" });
    const audit = auditRecords(h).slice(auditBefore);
    expect(
      audit.filter((r) => r.phase === "finished" && r.command === `deadletter replay ${target}`),
    ).toHaveLength(1);
    // The notification in the channel shows the outcome too, as after a click there.
    const notification = h.slack
      .messages(ALERTS)
      .find((m) => (m.blocks ?? []).some((b) => b.block_id === `dl-actions:${target}`));
    const row = notification?.blocks?.find((b) => b.block_id === `dl-actions:${target}`);
    expect(row?.type).toBe("context");

    // The stale Home's button again: nothing is sent twice; the clicker is told in their DM.
    const onQueue = () =>
      h.broker.peekAll(QUEUE).filter((m) => m.messageId === vaultRecord(target).message.messageId);
    await eventually(() => (onQueue().length === 1 ? true : undefined));
    await clickOnHome(MEMBER.id, home, DEADLETTER_ACTIONS.replay, target);
    const told = await eventually(() =>
      h.slack.messages(MEMBER.id).find((m) => (m.text ?? "").includes("already replayed")),
    );
    expect(told.text).toContain(`<@${MEMBER.id}>`);
    expect(onQueue()).toHaveLength(1);
  });

  it("refuses a click on the Home by someone outside the SRE group, as in the channel", async () => {
    const home = h.slack.homeView(MEMBER.id) as SlackHomeView;
    const target = buttonsOf(home).find((b) => b.action_id === DEADLETTER_ACTIONS.delete)?.value as string;
    await clickOnHome(OUTSIDER.id, home, DEADLETTER_ACTIONS.delete, target);
    const told = await eventually(() =>
      h.slack.messages(OUTSIDER.id).find((m) => (m.text ?? "").includes("not a member of the SRE group")),
    );
    expect(told.ephemeral).toBe(false);
    expect(vaultRecord(target).state).toBe("parked");
  });

  it("lists the viewer's own recent commands and their outcomes, escaped", async () => {
    await slashAnswered(MEMBER.id, "config view");
    await slashAnswered(MEMBER.id, "nosuchplugin <b> & <!here>");
    await slashAnswered(OUTSIDER.id, "config view");

    const text = textOf(await openHome(MEMBER.id));
    const recent = text.slice(text.indexOf("*Your recent commands*"));
    expect(recent).toMatch(/`config view` — :white_check_mark: exit 0/);
    expect(recent).toMatch(/`nosuchplugin &lt;b&gt; &amp; [^`]*` — :x: exit 2/);
    expect(recent).not.toContain("<!here>");
    // The Home button click counts too; another person's commands do not show.
    expect(recent).toContain("`deadletter replay ");
    expect(recent.indexOf("nosuchplugin")).toBeLessThan(recent.indexOf("`config view`"));

    const outsider = textOf(await openHome(OUTSIDER.id));
    expect(outsider).not.toContain("Your recent commands");
  });

  it("stays within Slack's limits for 10,000 dead letters in 60 entities, summarising what does not fit", async () => {
    // Seeded straight into the server's file vault (as 10,000 parks), and searched once here so
    // the index is compacted before the server reads it.
    const vault = createFileVault(h.vaultDir);
    const long = "x".repeat(180);
    const entity = (i: number): EntityRef => ({
      kind: "queue",
      queue: `bulk-${String(i % 60).padStart(2, "0")}-${long}`,
    });
    await mapLimit(
      Array.from({ length: 10_000 }, (_, i) => i),
      16,
      (i) =>
        vault.park(
          sampleRecord(i, {
            cluster: "seeded",
            entity: entity(i),
            parkedAt: new Date(Date.now() - (i + 1) * 60_000).toISOString(),
          }),
        ),
    );
    expect((await vault.search({ state: "parked" }, { limit: 1 })).records).toHaveLength(1);

    const home = await openHome(MEMBER.id);
    expectWithinLimits(home);
    const text = textOf(home);
    expect(text).toMatch(/10,004 dead letters parked\* in 61 entities; the oldest has waited 6d22h4\dm/);
    expect(text).toMatch(/…and \d+ more entities \([\d,]+ dead letters\); `deadletter stats` lists them all/);
    expect(buttonsOf(home).filter((b) => b.action_id === DEADLETTER_ACTIONS.replay)).toHaveLength(5);
  }, 60_000);
});
