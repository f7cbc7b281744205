import {
  cleanPlainText,
  code,
  escapeWithin,
  joinMrkdwn,
  type Mrkdwn,
  mention,
  mrkdwn,
  truncateMrkdwn,
} from "../slack/slack-text";
import { BULK_DIALOG_ACTION, bulkButtonValue } from "./bulk-dialog";
import { bodyPreview, type EntityRef, entityPath } from "./dead-letter";
import type { VaultRecord } from "./vault";

/*
 * The Slack message that announces parked dead letters, as Block Kit JSON.
 *
 * Layout (at most 50 blocks whatever the number of records):
 *   header                 ":rotating_light: 120 dead letters on prod1 / orders"
 *   section (fields)       cluster, namespace, entity, count, enqueued between
 *   context                notification id, where the copies are
 *   divider
 *   per detailed record:   section (details) + actions (Replay, Repair…, Email, Delete)
 *   when some are not detailed: section (how many more, top reasons) + actions (Replay all, Delete all)
 *
 * Every string that came from a message goes through ../slack/slack-text: escaped once for mrkdwn
 * (`&`, `<`, `>`), so a body cannot mention @channel or forge a link, cleaned of control characters
 * (plain_text too), and cut to Slack's limits.
 */

/** Slack's Block Kit limits that these messages must respect. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFieldText: 2000,
  sectionFields: 10,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Slack truncates longer `text`; 4,000 is its recommended maximum. */
  fallbackText: 4000,
} as const;

export const DEADLETTER_ACTIONS = {
  replay: "deadletter_replay",
  email: "deadletter_email",
  /** Opens the repair dialog (edit body and properties, then replay). */
  repair: "deadletter_repair",
  delete: "deadletter_delete",
  replayAll: "deadletter_replay_all",
  /** Offered privately when a subscription's replay was refused: replays to the whole topic. */
  replayTopic: "deadletter_replay_topic",
  deleteAll: "deadletter_delete_all",
} as const;

/** How many dead letters get their own section and buttons by default. */
export const DEFAULT_MAX_DETAILED = 20;

// Block Kit JSON, only the parts used here. Type aliases (not interfaces) so that a block is
// assignable to the `Record<string, unknown>` the Chat port carries.
export type PlainText = { type: "plain_text"; text: string; emoji?: boolean };
export type MrkdwnText = { type: "mrkdwn"; text: string };
export type ConfirmDialog = {
  title: PlainText;
  text: MrkdwnText;
  confirm: PlainText;
  deny: PlainText;
  style?: "primary" | "danger";
};
export type ButtonElement = {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: ConfirmDialog;
};
export type HeaderBlock = { type: "header"; block_id?: string; text: PlainText };
export type SectionBlock = {
  type: "section";
  block_id?: string;
  text?: MrkdwnText;
  fields?: MrkdwnText[];
  accessory?: ButtonElement;
};
export type ContextBlock = { type: "context"; block_id?: string; elements: MrkdwnText[] };
export type ActionsBlock = { type: "actions"; block_id?: string; elements: ButtonElement[] };
export type DividerBlock = { type: "divider"; block_id?: string };
export type Block = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock | DividerBlock;

export interface DeadLetterNotification {
  text: string;
  blocks: Block[];
}

export interface DeadLetterNotificationInput {
  cluster: string;
  namespace: string;
  entity: EntityRef;
  records: VaultRecord[];
  /** Ties the records to this message; bulk buttons carry `batch:<notificationId>`. */
  notificationId: string;
  /** Dead letters shown one by one (fewer if 50 blocks would not hold them). */
  maxDetailed?: number;
}

/** The bulk buttons' value: the resolver lists the vault records of this notification. */
export function batchValue(notificationId: string): string {
  return `batch:${notificationId}`;
}

/** The block ids of one dead letter's section and actions, which the resolver replaces. */
export function recordBlockIds(recordId: string): { section: string; actions: string } {
  return { section: `dl:${recordId}`, actions: `dl-actions:${recordId}` };
}

const HEADER_BLOCKS = 4; // header, summary, context, divider
const REST_BLOCKS = 2; // summary of the rest, bulk actions

export function buildDeadLetterNotification(input: DeadLetterNotificationInput): DeadLetterNotification {
  const { cluster, namespace, entity, notificationId } = input;
  // One record id, one pair of block ids: Slack refuses a message with duplicate block ids.
  const records = uniqueById(input.records);
  if (records.length === 0) throw new RangeError("a dead-letter notification needs at least one record");
  checkId("notificationId", notificationId);
  for (const record of records) checkId("record id", record.id);

  const room = SLACK_LIMITS.blocksPerMessage - HEADER_BLOCKS;
  const wanted = Math.max(0, Math.floor(input.maxDetailed ?? DEFAULT_MAX_DETAILED));
  const detailedCount =
    records.length <= wanted && records.length * 2 <= room
      ? records.length
      : Math.min(wanted, Math.floor((room - REST_BLOCKS) / 2), records.length);
  const detailed = records.slice(0, detailedCount);
  const rest = records.slice(detailedCount);

  const summary = { cluster, namespace, entity, count: records.length };
  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: cleanPlainText(headline(summary), SLACK_LIMITS.headerText),
        emoji: true,
      },
    },
    {
      type: "section",
      fields: summaryFields(summary, records),
      // Bulk replay or delete by filter (a dialog), pre-filled with this cluster and entity; no block of its own.
      ...(records.some((r) => r.state === "parked")
        ? {
            accessory: button(BULK_DIALOG_ACTION, "Bulk…", bulkButtonValue(cluster, entityPath(entity))),
          }
        : {}),
    },
    {
      type: "context",
      elements: [
        mrkdwnText(
          mrkdwn`Notification ${code(notificationId, 200)} · each message is parked in the vault and was completed on the bus only after this was posted`,
        ),
      ],
    },
    { type: "divider" },
  ];
  // Rebuilt after every action: a record someone resolved shows the outcome instead of buttons.
  for (const record of detailed) {
    if (record.state === "parked") blocks.push(recordSection(record), recordActions(record));
    else blocks.push(...resolvedRecordBlocks(record));
  }
  if (rest.length > 0) {
    const parkedRest = rest.filter((r) => r.state === "parked").length;
    blocks.push(restSection(rest, detailed.length));
    if (parkedRest > 0) blocks.push(bulkActions(notificationId, records.length));
  }
  return { text: notificationText(summary), blocks };
}

/** The notification's fallback text (what notifications and screen readers show). */
export function notificationText(input: {
  cluster: string;
  namespace: string;
  entity: EntityRef;
  count: number;
}): string {
  return escapeWithin(`${headline(input)} (namespace ${input.namespace})`, SLACK_LIMITS.fallbackText).text;
}

/**
 * What replaces one dead letter's section and actions once someone acted on it: the same details,
 * then who did what and when instead of the buttons. Same block ids, same block count.
 */
export function resolvedRecordBlocks(record: VaultRecord): [SectionBlock, ContextBlock] {
  const ids = recordBlockIds(record.id);
  const { resolution } = record;
  const outcome = OUTCOMES[record.state];
  // The edit (never the new body itself): which fields changed.
  const repair = record.state === "replayed" ? record.repair : undefined;
  const parts = [repair ? mrkdwn`${outcome} with edits` : outcome];
  if (resolution) {
    parts.push(mrkdwn`by ${mention(resolution.by)}`);
    // A command leaves no click in the channel: say where it came from.
    if (resolution.via === "command") parts.push(mrkdwn`via command`);
    parts.push(mrkdwn`at ${escapeWithin(resolution.at, 64)}`);
    if (repair) parts.push(mrkdwn`— changed ${escapeWithin(repair.changes.join(", "), 600)}`);
    if (resolution.note) parts.push(mrkdwn`— ${escapeWithin(resolution.note, 1000)}`);
  }
  return [
    recordSection(record),
    {
      type: "context",
      block_id: ids.actions,
      elements: [mrkdwnText(truncateMrkdwn(joinMrkdwn(parts, " "), 2000))],
    },
  ];
}

const OUTCOMES: Record<VaultRecord["state"], Mrkdwn> = {
  parked: mrkdwn`:hourglass_flowing_sand: Still parked`,
  replayed: mrkdwn`:repeat: Replayed`,
  emailed: mrkdwn`:email: Emailed`,
  deleted: mrkdwn`:wastebasket: Deleted`,
};

// ---------------------------------------------------------------------------------------------
// Pieces

type Summary = { cluster: string; namespace: string; entity: EntityRef; count: number };

function headline({ cluster, entity, count }: Summary): string {
  return `:rotating_light: ${count.toLocaleString("en-US")} dead ${count === 1 ? "letter" : "letters"} on ${cluster} / ${entityPath(entity)}`;
}

/** `first – last` of the instants (one when they are equal), or `unknown`. */
function timeRange(texts: readonly string[]): string {
  const times = texts
    .map((text) => Date.parse(text))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const first = times[0];
  const last = times[times.length - 1];
  return first === undefined || last === undefined
    ? "unknown"
    : first === last
      ? new Date(first).toISOString()
      : `${new Date(first).toISOString()} – ${new Date(last).toISOString()}`;
}

function summaryFields(summary: Summary, records: VaultRecord[]): MrkdwnText[] {
  const field = (label: string, value: Mrkdwn | string) => mrkdwnText(mrkdwn`*${label}*\n${value}`);
  return [
    field("Cluster", code(summary.cluster, 200)),
    field("Namespace", code(summary.namespace, 200)),
    field(
      summary.entity.kind === "queue" ? "Queue" : "Topic subscription",
      code(entityPath(summary.entity), 600),
    ),
    field("Dead letters", summary.count.toLocaleString("en-US")),
    field("Enqueued", timeRange(records.map((r) => r.message.enqueuedTime))),
    // First and last seen: a grouped notification gathers the drains of its window.
    field("Parked", timeRange(records.map((r) => r.parkedAt))),
  ];
}

/** One parked dead letter's details (also the App Home's, so both show the same). */
export function recordSection(record: VaultRecord): SectionBlock {
  const m = record.message;
  const lines = [
    mrkdwn`*${escapeWithin(m.messageId, 200)}* · seq ${escapeWithin(m.sequenceNumber, 30)}`,
    mrkdwn`*Enqueued:* ${escapeWithin(m.enqueuedTime, 64)} · *Deliveries:* ${m.deliveryCount}`,
    mrkdwn`*Reason:* ${m.deadLetterReason ? escapeWithin(m.deadLetterReason, 300) : mrkdwn`_none given_`}`,
  ];
  if (m.deadLetterErrorDescription)
    lines.push(mrkdwn`*Description:* ${escapeWithin(m.deadLetterErrorDescription, 1000)}`);
  if (m.subject) lines.push(mrkdwn`*Subject:* ${escapeWithin(m.subject, 300)}`);
  const preview = bodyPreview(m.body, 200);
  lines.push(mrkdwn`*Body:* ${preview ? code(preview, 600) : mrkdwn`_empty_`}`);
  return {
    type: "section",
    block_id: recordBlockIds(record.id).section,
    text: mrkdwnText(truncateMrkdwn(joinMrkdwn(lines, "\n"), SLACK_LIMITS.sectionText)),
  };
}

/** Replay, Repair…, Email, Delete for one record: the App Home shows the same buttons, same ids and values. */
export function recordActions(record: VaultRecord): ActionsBlock {
  return {
    type: "actions",
    block_id: recordBlockIds(record.id).actions,
    elements: [
      button(DEADLETTER_ACTIONS.replay, "Replay", record.id, "primary"),
      button(DEADLETTER_ACTIONS.repair, "Repair…", record.id),
      button(DEADLETTER_ACTIONS.email, "Email", record.id),
      button(
        DEADLETTER_ACTIONS.delete,
        "Delete",
        record.id,
        "danger",
        confirmDialog(
          "Delete this dead letter?",
          "It will not be replayed. Its copy stays in the vault for the retention period.",
          "Delete",
        ),
      ),
    ],
  };
}

function restSection(rest: VaultRecord[], shown: number): SectionBlock {
  const counts = new Map<string, number>();
  for (const record of rest) {
    const reason = record.message.deadLetterReason || "(no reason)";
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const listed = top
    .slice(0, 5)
    .map(([reason, n]) => mrkdwn`• ${escapeWithin(reason, 200)} × ${n.toLocaleString("en-US")}`);
  if (top.length > 5) listed.push(mrkdwn`• ${top.length - 5} other reasons`);
  const count = rest.length.toLocaleString("en-US");
  const head =
    shown === 0
      ? mrkdwn`*${count} dead letters*, not listed one by one.`
      : mrkdwn`*…and ${count} more* not listed one by one.`;
  return {
    type: "section",
    text: mrkdwnText(
      truncateMrkdwn(mrkdwn`${head} By reason:\n${joinMrkdwn(listed, "\n")}`, SLACK_LIMITS.sectionText),
    ),
  };
}

function bulkActions(notificationId: string, total: number): ActionsBlock {
  const all = `all ${total.toLocaleString("en-US")} dead letters of this notification that are still parked`;
  return {
    type: "actions",
    block_id: `dl-bulk:${notificationId}`,
    elements: [
      button(
        DEADLETTER_ACTIONS.replayAll,
        "Replay all",
        batchValue(notificationId),
        "primary",
        confirmDialog("Replay all?", `This sends ${all} back to their entity.`, "Replay all", "primary"),
      ),
      button(
        DEADLETTER_ACTIONS.deleteAll,
        "Delete all",
        batchValue(notificationId),
        "danger",
        confirmDialog(
          "Delete all?",
          `This marks ${all} as deleted; none will be replayed. The vault keeps their copies.`,
          "Delete all",
        ),
      ),
    ],
  };
}

function button(
  actionId: string,
  text: string,
  value: string,
  style?: "primary" | "danger",
  confirm?: ConfirmDialog,
): ButtonElement {
  return {
    type: "button",
    action_id: actionId,
    text: { type: "plain_text", text: cleanPlainText(text, SLACK_LIMITS.buttonText) },
    value,
    ...(style ? { style } : {}),
    ...(confirm ? { confirm } : {}),
  };
}

function confirmDialog(
  title: string,
  text: string,
  confirm: string,
  style: "primary" | "danger" = "danger",
): ConfirmDialog {
  return {
    title: { type: "plain_text", text: cleanPlainText(title, SLACK_LIMITS.confirmTitle) },
    text: mrkdwnText(truncateMrkdwn(mrkdwn`${text}`, SLACK_LIMITS.confirmText)),
    confirm: { type: "plain_text", text: cleanPlainText(confirm, SLACK_LIMITS.confirmButton) },
    deny: { type: "plain_text", text: "Cancel" },
    style,
  };
}

function mrkdwnText(text: Mrkdwn): MrkdwnText {
  return { type: "mrkdwn", text: text.text };
}

function uniqueById(records: VaultRecord[]): VaultRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.id)) return false;
    seen.add(record.id);
    return true;
  });
}

/** Ids end up in block ids (≤ 255) and button values: refuse any that would break the message. */
function checkId(what: string, id: string): void {
  if (id === "" || id.length > 200)
    throw new RangeError(`${what} must be 1 to 200 characters, got ${id.length}`);
}
