import { describe, expect, it } from "vitest";
import type { DeadLetter, EntityRef } from "./dead-letter";
import {
  type ActionsBlock,
  type Block,
  type ButtonElement,
  buildDeadLetterNotification,
  type ConfirmDialog,
  notificationText,
  recordBlockIds,
  resolvedRecordBlocks,
  type SectionBlock,
  SLACK_LIMITS,
} from "./notification-blocks";
import type { VaultRecord } from "./vault";
import { vaultRecordId } from "./vault-record-id";

const queue: EntityRef = { kind: "queue", queue: "orders" };
const REASONS = ["MaxDeliveryCountExceededExceptionMessage", "TTLExpiredException", "ProcessingFailed"];

function record(n: number, message: Partial<DeadLetter> = {}, entity: EntityRef = queue): VaultRecord {
  const dead: DeadLetter = {
    messageId: `msg-${n}`,
    sequenceNumber: String(1000 + n),
    enqueuedTime: new Date(Date.UTC(2024, 0, 1, 12, 0, n % 60)).toISOString(),
    deliveryCount: 10,
    deadLetterReason: REASONS[n % REASONS.length],
    deadLetterErrorDescription: "Message could not be consumed after 10 delivery attempts.",
    body: { kind: "json", value: { orderId: n, amount: 12.5 } },
    subject: "order.created",
    applicationProperties: {},
    ...message,
  };
  return {
    id: vaultRecordId("prod1", entity, dead),
    cluster: "prod1",
    namespace: "gw-icap-sb-prod1",
    entity,
    parkedAt: "2024-01-01T12:05:00.000Z",
    state: "parked",
    version: 1,
    message: dead,
  };
}

const records = (count: number) => Array.from({ length: count }, (_, n) => record(n));

function build(count: number | VaultRecord[], maxDetailed?: number) {
  return buildDeadLetterNotification({
    cluster: "prod1",
    namespace: "gw-icap-sb-prod1",
    entity: queue,
    records: typeof count === "number" ? records(count) : count,
    notificationId: "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    ...(maxDetailed === undefined ? {} : { maxDetailed }),
  });
}

/** Asserts every Slack limit these messages can run into. */
function expectWithinSlackLimits(message: { text: string; blocks: Block[] }): void {
  const { blocks, text } = message;
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  const blockIds = blocks.flatMap((b) => (b.block_id === undefined ? [] : [b.block_id]));
  expect(new Set(blockIds).size).toBe(blockIds.length);
  for (const id of blockIds) expect(id.length).toBeLessThanOrEqual(SLACK_LIMITS.blockId);
  for (const block of blocks) {
    switch (block.type) {
      case "header":
        expect(block.text.type).toBe("plain_text");
        expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
        break;
      case "section":
        expect(block.text ?? block.fields).toBeDefined();
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect((block.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.sectionFields);
        for (const field of block.fields ?? []) {
          expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionFieldText);
        }
        break;
      case "context":
        expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
        for (const element of block.elements)
          expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        break;
      case "actions":
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.actionsElements);
        for (const button of block.elements) expectButtonWithinLimits(button);
        expect(new Set(block.elements.map((b) => b.action_id)).size).toBe(block.elements.length);
        break;
      case "divider":
        break;
    }
  }
}

function expectButtonWithinLimits(button: ButtonElement): void {
  expect(button.text.type).toBe("plain_text");
  expect(button.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
  expect(button.value.length).toBeGreaterThan(0);
  expect(button.value.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonValue);
  expect(button.action_id.length).toBeLessThanOrEqual(SLACK_LIMITS.actionId);
  if (button.confirm) expectConfirmWithinLimits(button.confirm);
}

function expectConfirmWithinLimits(confirm: ConfirmDialog): void {
  expect(confirm.title.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmTitle);
  expect(confirm.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmText);
  expect(confirm.confirm.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
  expect(confirm.deny.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
}

const actionsBlocks = (blocks: Block[]) => blocks.filter((b): b is ActionsBlock => b.type === "actions");
const isBulk = (block: ActionsBlock) => block.elements.some((e) => e.action_id === "deadletter_replay_all");
const recordActionBlocks = (blocks: Block[]) => actionsBlocks(blocks).filter((b) => !isBulk(b));
const bulkBlocks = (blocks: Block[]) => actionsBlocks(blocks).filter(isBulk);

describe("buildDeadLetterNotification", () => {
  it.each([
    // records, blocks, detailed, bulk
    [1, 6, 1, false],
    [20, 44, 20, false],
    [21, 46, 20, true],
    [1000, 46, 20, true],
  ])(
    "%i record(s): %i blocks, %i detailed, bulk buttons %s, all within Slack's limits",
    (count, blockCount, detailed, bulk) => {
      const message = build(count);
      expectWithinSlackLimits(message);
      expect(message.blocks).toHaveLength(blockCount);
      expect(recordActionBlocks(message.blocks)).toHaveLength(detailed);
      expect(bulkBlocks(message.blocks)).toHaveLength(bulk ? 1 : 0);
    },
  );

  it("starts with a header, a summary, a context and a divider", () => {
    const { blocks, text } = build(120);
    expect(blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: ":rotating_light: 120 dead letters on prod1 / orders", emoji: true },
    });
    const summary = blocks[1] as SectionBlock;
    expect(summary.type).toBe("section");
    expect(summary.fields?.map((f) => f.text)).toEqual([
      "*Cluster*\n`prod1`",
      "*Namespace*\n`gw-icap-sb-prod1`",
      "*Queue*\n`orders`",
      "*Dead letters*\n120",
      "*Enqueued*\n2024-01-01T12:00:00.000Z – 2024-01-01T12:00:59.000Z",
      "*Parked*\n2024-01-01T12:05:00.000Z",
    ]);
    expect(blocks[2]?.type).toBe("context");
    expect(JSON.stringify(blocks[2])).toContain("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f");
    expect(blocks[3]).toEqual({ type: "divider" });
    expect(text).toBe(":rotating_light: 120 dead letters on prod1 / orders (namespace gw-icap-sb-prod1)");
  });

  it("says 'letter' for one, and names a topic subscription by its path", () => {
    const entity: EntityRef = { kind: "subscription", topic: "transactions", subscription: "audit" };
    const one = record(0, {}, entity);
    const { blocks } = buildDeadLetterNotification({
      cluster: "prod1",
      namespace: "ns",
      entity,
      records: [one],
      notificationId: "n1",
    });
    expect((blocks[0] as { text: { text: string } }).text.text).toBe(
      ":rotating_light: 1 dead letter on prod1 / transactions/Subscriptions/audit",
    );
    expect((blocks[1] as SectionBlock).fields?.[2]?.text).toBe(
      "*Topic subscription*\n`transactions/Subscriptions/audit`",
    );
    expect((blocks[1] as SectionBlock).fields?.[4]?.text).toBe("*Enqueued*\n2024-01-01T12:00:00.000Z");
  });

  it("gives each dead letter a section and Replay / Repair… / Email / Delete buttons carrying its vault id", () => {
    const one = record(7, { body: { kind: "text", text: "hello\n  world" } });
    const { blocks } = build([one]);
    const ids = recordBlockIds(one.id);
    expect(blocks[4]).toEqual({
      type: "section",
      block_id: ids.section,
      text: {
        type: "mrkdwn",
        text: [
          "*msg-7* · seq 1007",
          "*Enqueued:* 2024-01-01T12:00:07.000Z · *Deliveries:* 10",
          "*Reason:* TTLExpiredException",
          "*Description:* Message could not be consumed after 10 delivery attempts.",
          "*Subject:* order.created",
          "*Body:* `hello world`",
        ].join("\n"),
      },
    });
    const actions = blocks[5] as ActionsBlock;
    expect(actions.block_id).toBe(ids.actions);
    expect(actions.elements.map((e) => [e.action_id, e.text.text, e.value, e.style])).toEqual([
      ["deadletter_replay", "Replay", one.id, "primary"],
      ["deadletter_repair", "Repair…", one.id, undefined],
      ["deadletter_email", "Email", one.id, undefined],
      ["deadletter_delete", "Delete", one.id, "danger"],
    ]);
    expect(actions.elements[0]?.confirm).toBeUndefined();
    expect(actions.elements[3]?.confirm).toMatchObject({
      title: { type: "plain_text", text: "Delete this dead letter?" },
      confirm: { type: "plain_text", text: "Delete" },
      deny: { type: "plain_text", text: "Cancel" },
      style: "danger",
    });
  });

  it("derives unique block ids from the record ids", () => {
    const many = records(20);
    const { blocks } = build(many);
    const ids = blocks.flatMap((b) => (b.block_id === undefined ? [] : [b.block_id]));
    expect(ids).toEqual(many.flatMap((r) => [recordBlockIds(r.id).section, recordBlockIds(r.id).actions]));
  });

  it("shows a record given twice once", () => {
    const one = record(1);
    const { blocks, text } = build([one, { ...one }]);
    expect(blocks).toHaveLength(6);
    expect(text).toContain(" 1 dead letter ");
  });

  it("summarises the rest by reason and offers Replay all / Delete all with confirmations", () => {
    const { blocks } = build(1000);
    const rest = blocks[blocks.length - 2] as SectionBlock;
    expect(rest.text?.text).toBe(
      [
        "*…and 980 more* not listed one by one. By reason:",
        "• MaxDeliveryCountExceededExceptionMessage × 327",
        "• ProcessingFailed × 327",
        "• TTLExpiredException × 326",
      ].join("\n"),
    );
    const bulk = blocks[blocks.length - 1] as ActionsBlock;
    expect(bulk.elements.map((e) => [e.action_id, e.text.text, e.value, e.style])).toEqual([
      ["deadletter_replay_all", "Replay all", "batch:6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "primary"],
      ["deadletter_delete_all", "Delete all", "batch:6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "danger"],
    ]);
    for (const button of bulk.elements) {
      expect(button.confirm).toBeDefined();
      expect(button.confirm?.text.text).toContain("all 1,000 dead letters of this notification");
    }
  });

  it("lists at most five reasons and counts the others", () => {
    const many = Array.from({ length: 40 }, (_, n) => record(n, { deadLetterReason: `reason-${n % 8}` }));
    const rest = build(many, 0).blocks[4] as SectionBlock;
    expect(rest.text?.text.split("\n")).toHaveLength(7);
    expect(rest.text?.text).toMatch(/^\*40 dead letters\*, not listed one by one\. By reason:\n/);
    expect(rest.text?.text).toContain("• 3 other reasons");
  });

  it("never passes 50 blocks whatever maxDetailed asks for", () => {
    const fifty = build(30, 30);
    expectWithinSlackLimits(fifty);
    expect(fifty.blocks).toHaveLength(50);
    expect(recordActionBlocks(fifty.blocks)).toHaveLength(22);
    expect(bulkBlocks(fifty.blocks)).toHaveLength(1);

    const allFit = build(23, 23);
    expect(allFit.blocks).toHaveLength(50);
    expect(bulkBlocks(allFit.blocks)).toHaveLength(0);

    const noneDetailed = build(3, 0);
    expect(recordActionBlocks(noneDetailed.blocks)).toHaveLength(0);
    expect(bulkBlocks(noneDetailed.blocks)).toHaveLength(1);
  });

  it("escapes Slack's control characters in everything taken from a message", () => {
    const evil = record(1, {
      messageId: "<!channel> & <https://evil.example|click>",
      deadLetterReason: "a > b",
      deadLetterErrorDescription: "<@U0ADMIN> said so",
      subject: "<!here>",
      body: { kind: "text", text: "`rm -rf` <b>&amp;</b>\u0000" },
    });
    const { blocks } = build([evil]);
    const text = (blocks[4] as SectionBlock).text?.text ?? "";
    expect(text).toContain("*&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;*");
    expect(text).toContain("*Reason:* a &gt; b");
    expect(text).toContain("*Description:* &lt;@U0ADMIN&gt; said so");
    expect(text).toContain("*Subject:* &lt;!here&gt;");
    // The body's NUL is removed; its "&amp;" is text, escaped once like any other.
    expect(text).toContain("*Body:* `'rm -rf' &lt;b&gt;&amp;amp;&lt;/b&gt;`");
    expect(text).not.toMatch(/<|>/);
  });

  it("removes control characters from everything taken from a message, plain_text header included", () => {
    const evil = record(1, {
      messageId: "id\u0000",
      deadLetterReason: "\u001b[31mred\u001b[0m",
      deadLetterErrorDescription: "NUL\u0000 ESC\u001b RLO\u202e gnp.exe",
      subject: "\u202eevil",
      body: { kind: "text", text: "body\u0000\u202e" },
    });
    const { blocks, text } = buildDeadLetterNotification({
      cluster: "prod\u202e1",
      namespace: "ns\u0000",
      entity: { kind: "queue", queue: "<!here>\u001b[31m & orders" },
      records: [evil],
      notificationId: "n1",
    });
    const all = JSON.stringify({ blocks, text });
    // JSON.stringify writes C0 controls as \u00XX escapes.
    for (const control of ["\\u0000", "\\u001b", "\u202e"]) expect(all).not.toContain(control);
    expect((blocks[0] as { text: { text: string } }).text.text).toBe(
      ":rotating_light: 1 dead letter on prod1 / <!here> & orders",
    );
    const section = (blocks[4] as SectionBlock).text?.text ?? "";
    expect(section).toContain("*Reason:* red\n");
    expect(section).toContain("*Description:* NUL ESC RLO gnp.exe\n");
    expect(section).toContain("*Subject:* evil\n");
    expect(section).toContain("*Body:* `body`");
    expect(text).toBe(":rotating_light: 1 dead letter on prod1 / &lt;!here&gt; &amp; orders (namespace ns)");
  });

  it("escapes once: an ampersand becomes &amp;, never &amp;amp;", () => {
    const amp = record(1, { deadLetterReason: "a & b", subject: "x & y" });
    const { blocks, text } = buildDeadLetterNotification({
      cluster: "c&1",
      namespace: "n&s",
      entity: { kind: "queue", queue: "q&q" },
      records: [amp],
      notificationId: "n1",
    });
    const all = JSON.stringify({ blocks, text });
    expect(all).toContain("a &amp; b");
    expect(all).toContain("`c&amp;1`");
    expect(all).not.toContain("&amp;amp;");
  });

  it("keeps long names and huge fields within the limits, never cutting an entity", () => {
    const huge = record(1, {
      messageId: "&".repeat(5000),
      deadLetterReason: "<".repeat(5000),
      deadLetterErrorDescription: "x&".repeat(10_000),
      subject: ">".repeat(5000),
      body: { kind: "text", text: "&".repeat(100_000) },
    });
    const message = buildDeadLetterNotification({
      cluster: "c".repeat(500),
      namespace: "n".repeat(500),
      entity: { kind: "subscription", topic: "t".repeat(260), subscription: "s".repeat(260) },
      records: [huge],
      notificationId: "n1",
    });
    expectWithinSlackLimits(message);
    const text = (message.blocks[4] as SectionBlock).text?.text ?? "";
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect((message.blocks[0] as { text: { text: string } }).text.text).toHaveLength(150);
  });

  it("refuses no records and ids that cannot fit a block id", () => {
    expect(() => build([])).toThrow("a dead-letter notification needs at least one record");
    expect(() =>
      buildDeadLetterNotification({
        cluster: "c",
        namespace: "n",
        entity: queue,
        records: [record(1)],
        notificationId: "x".repeat(201),
      }),
    ).toThrow("notificationId must be 1 to 200 characters, got 201");
  });
});

describe("resolvedRecordBlocks", () => {
  it("replaces the buttons with who did what and when, under the same block ids", () => {
    const replayed: VaultRecord = {
      ...record(3),
      state: "replayed",
      version: 2,
      resolution: { by: "U0MEMBER", at: "2024-01-01T13:00:00.000Z", note: "replay #1 <to> orders" },
    };
    const [section, context] = resolvedRecordBlocks(replayed);
    const ids = recordBlockIds(replayed.id);
    expect(section).toEqual(build([replayed]).blocks[4] as SectionBlock);
    expect(section.block_id).toBe(ids.section);
    expect(context).toEqual({
      type: "context",
      block_id: ids.actions,
      elements: [
        {
          type: "mrkdwn",
          text: ":repeat: Replayed by <@U0MEMBER> at 2024-01-01T13:00:00.000Z — replay #1 &lt;to&gt; orders",
        },
      ],
    });
  });

  it.each([
    ["emailed", ":email: Emailed by sre@example.com at 2024-01-01T13:00:00.000Z"],
    ["deleted", ":wastebasket: Deleted by sre@example.com at 2024-01-01T13:00:00.000Z"],
  ] as const)("shows %s, and a non-Slack actor as escaped text", (state, text) => {
    const done: VaultRecord = {
      ...record(4),
      state,
      resolution: { by: "sre@example.com", at: "2024-01-01T13:00:00.000Z" },
    };
    expect(resolvedRecordBlocks(done)[1].elements[0]?.text).toBe(text);
  });

  it("says a command did it (no click in the channel shows who), and nothing more for a button", () => {
    const at = "2024-01-01T13:00:00.000Z";
    const byCommand: VaultRecord = {
      ...record(4),
      state: "replayed",
      resolution: { by: "cli:alice", at, via: "command" },
    };
    expect(resolvedRecordBlocks(byCommand)[1].elements[0]?.text).toBe(
      `:repeat: Replayed by cli:alice via command at ${at}`,
    );
    const byButton: VaultRecord = { ...byCommand, resolution: { by: "U0MEMBER", at, via: "button" } };
    expect(resolvedRecordBlocks(byButton)[1].elements[0]?.text).toBe(
      `:repeat: Replayed by <@U0MEMBER> at ${at}`,
    );
  });

  it("says a replay was edited and which fields changed, escaped, never the new body", () => {
    const at = "2024-01-01T13:00:00.000Z";
    const original = record(4);
    const repaired: VaultRecord = {
      ...original,
      state: "replayed",
      resolution: { by: "U0MEMBER", at, via: "button" },
      repair: {
        by: "U0MEMBER",
        at,
        message: { ...original.message, body: { kind: "text", text: "SECRET-NEW-BODY" } },
        changes: ["body", "set <!here>"],
      },
    };
    const [section, context] = resolvedRecordBlocks(repaired);
    expect(context.elements[0]?.text).toBe(
      `:repeat: Replayed with edits by <@U0MEMBER> at ${at} — changed body, set &lt;!here&gt;`,
    );
    expect(JSON.stringify([section, context])).not.toContain("SECRET-NEW-BODY");
  });

  it("escapes an actor that is not a Slack id", () => {
    const done: VaultRecord = { ...record(4), state: "deleted", resolution: { by: "<!channel>", at: "t" } };
    expect(resolvedRecordBlocks(done)[1].elements[0]?.text).toBe(
      ":wastebasket: Deleted by &lt;!channel&gt; at t",
    );
  });
});

describe("notificationText", () => {
  it("escapes and stays short", () => {
    expect(notificationText({ cluster: "a<b", namespace: "n&s", entity: queue, count: 2 })).toBe(
      ":rotating_light: 2 dead letters on a&lt;b / orders (namespace n&amp;s)",
    );
    expect(
      notificationText({ cluster: "&".repeat(5000), namespace: "n", entity: queue, count: 2 }).length,
    ).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });
});
