import { stringify } from "yaml";
import { entityPath, type MessageBody } from "../../deadletter/dead-letter";
import type { ActionOutcome, DeadLetterActions } from "../../deadletter/dead-letter-actions-types";
import { type DeadLetterStats, deadLetterStats } from "../../deadletter/dead-letter-stats";
import { parseInstant, parseWherePair } from "../../deadletter/filter-input";
import { type PageRequest, positionOf, type RecordFilter } from "../../deadletter/record-filter";
import type { VaultRecord, VaultState } from "../../deadletter/vault";
import type { FailureClass } from "../../failure-class";
import { formatDuration } from "../../policy/duration";
import { stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure } from "../errors";
import { terminalSafeJson } from "../output";
import { type CommandContext, definePlugin, type OptionSpec } from "../plugin";
import { unavailableDeadLetters } from "../services";
import {
  bulkActionOptions,
  bulkCommands,
  bulkReplayOptions,
  isBulkRequest,
  runBulkAction,
} from "./deadletter-bulk";
import { bulkDialogCommand } from "./deadletter-bulk-dialog";
import { repairEditsOf, repairOptions } from "./deadletter-repair-options";
import { rulesCommand } from "./deadletter-rules";

/** A Record so the compiler notices a new vault state; its keys are the `--state` choices. */
const STATE_NAMES: Record<VaultState, true> = { parked: true, replayed: true, emailed: true, deleted: true };
const STATES = Object.keys(STATE_NAMES) as VaultState[];

/** Table cells and headlines stay on one line and bounded: message ids and reasons come off the bus. */
function oneLine(text: string, max = 60): string {
  // Terminal escapes, controls and bidi overrides go whole (not `[31m` residue); whitespace folds.
  const flat = stripControlCharacters(text.replace(/[\r\n\t]+/g, " "))
    .replace(/\s+/g, " ")
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function actions(ctx: CommandContext): Promise<DeadLetterActions> {
  // Hand-built services may lack the method; they get the same ConfigError as an unconfigured host.
  return ctx.services.deadLetters ? ctx.services.deadLetters() : unavailableDeadLetters();
}

/** `resolution.by` for what this command does: the engine's actor (`cli:alice`). */
const actor = (ctx: CommandContext) => ctx.actor ?? "cli:unknown";

function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.options?.[name];
  return typeof value === "string" ? value : undefined;
}

const HEADINGS = ["ID", "STATE", "CLUSTER", "ENTITY", "MESSAGE ID", "REASON", "PARKED AT"] as const;

/** Aligned columns, newest first; the full id is shown because the other commands take it. */
export function recordTable(records: readonly VaultRecord[]): string[] {
  const time = (r: VaultRecord) => Date.parse(r.parkedAt) || 0;
  const rows = [...records]
    .sort((a, b) => time(b) - time(a))
    .map((r) => [
      r.id,
      r.state,
      oneLine(r.cluster),
      oneLine(entityPath(r.entity)),
      oneLine(r.message.messageId, 40),
      oneLine(r.message.deadLetterReason ?? "-", 40),
      r.parkedAt,
    ]);
  return alignColumns([[...HEADINGS], ...rows]);
}

/** Rows as columns two spaces apart, each as wide as its widest cell; the cells must be one line. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

/** UTF-8 text without control characters (other than line breaks and tabs), or undefined. */
function readableText(bytes: Buffer): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters mean binary
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The body for a human: JSON pretty-printed, text as is, bytes as base64 (and as text when they are). */
export function renderBody(body: MessageBody): Record<string, unknown> {
  switch (body.kind) {
    case "json":
      return { kind: "json", content: JSON.stringify(body.value, null, 2) };
    case "text":
      return { kind: "text", content: body.text };
    case "bytes": {
      const bytes = Buffer.from(body.base64, "base64");
      const text = readableText(bytes);
      return {
        kind: "bytes",
        note: `binary body (${bytes.length} bytes), base64-encoded${text === undefined ? "" : "; it is valid UTF-8, also shown as text"}`,
        base64: body.base64,
        ...(text === undefined ? {} : { text }),
      };
    }
    case "empty":
      return { kind: "empty" };
  }
}

/** What `show` prints: the record's metadata, why it was dead-lettered, its properties and body. */
export function recordDocument(record: VaultRecord): Record<string, unknown> {
  const m = record.message;
  return {
    id: record.id,
    state: record.state,
    cluster: record.cluster,
    namespace: record.namespace,
    entity: entityPath(record.entity),
    parkedAt: record.parkedAt,
    resolution: record.resolution,
    notification: record.notification,
    deadLetter: {
      reason: m.deadLetterReason,
      description: m.deadLetterErrorDescription,
      source: m.deadLetterSource,
    },
    message: {
      messageId: m.messageId,
      sequenceNumber: m.sequenceNumber,
      enqueuedTime: m.enqueuedTime,
      deliveryCount: m.deliveryCount,
      contentType: m.contentType,
      subject: m.subject,
      correlationId: m.correlationId,
      sessionId: m.sessionId,
      partitionKey: m.partitionKey,
      replyTo: m.replyTo,
      replyToSessionId: m.replyToSessionId,
      to: m.to,
      timeToLive: m.timeToLive,
    },
    applicationProperties: m.applicationProperties,
    body: renderBody(m.body),
    // The original above stays as it was dead-lettered; what was sent instead, and who changed what.
    ...(record.repair
      ? {
          repair: {
            by: record.repair.by,
            at: record.repair.at,
            changes: record.repair.changes,
            ...(record.repair.bodyDigest ? { bodyDigest: record.repair.bodyDigest } : {}),
            applicationProperties: record.repair.message.applicationProperties,
            body: renderBody(record.repair.message.body),
          },
        }
      : {}),
  };
}

/** Which failures a retry could fix: only an effect that failed (Service Bus, SMTP down). */
const FAILURE_CLASS_OF: Record<Extract<ActionOutcome, { ok: false }>["reason"], FailureClass> = {
  missing: "not_found",
  // The user named several records: the command line is what needs changing (exit 2).
  ambiguous: "usage",
  already: "conflict",
  limit: "conflict",
  invalid: "invalid",
  unconfigured: "configuration",
  failed: "transient",
  // The topic lacks the rules for a replay to one subscription: install them, or say --to-topic.
  "unsafe-topic": "configuration",
};

/** Prints a successful outcome; a refused or failed one is the command's failure (exit 1, or 75 when transient). */
function report(ctx: CommandContext, outcome: ActionOutcome, done: string): void {
  if (!outcome.ok)
    throw new CommandFailure(outcome.message, { failureClass: FAILURE_CLASS_OF[outcome.reason] });
  const r = outcome.record;
  ctx.out.out(`${done} dead letter ${r.id} (${r.cluster}/${entityPath(r.entity)}) as ${actor(ctx)}.`);
  if (outcome.detail) ctx.out.out(outcome.detail);
}

/** `ls`, `stats` and the bulk actions narrow the records alike. */
export const filterOptions: OptionSpec[] = [
  { name: "state", description: "Only dead letters in this state.", takesValue: true, choices: STATES },
  { name: "cluster", description: "Only dead letters from this cluster.", takesValue: true },
  {
    name: "entity",
    description: "Only this entity: a queue, or TOPIC/Subscriptions/SUBSCRIPTION.",
    takesValue: true,
  },
  {
    name: "reason",
    description: "Only those whose dead-letter reason or description contains TEXT (any case).",
    takesValue: true,
    metavar: "TEXT",
  },
  {
    name: "since",
    description: "Only those parked within this long (30m, 2h, 1d) or since an ISO-8601 time.",
    takesValue: true,
    metavar: "WHEN",
  },
  {
    name: "until",
    description: "Only those parked before this long ago (30m, 2h, 1d) or an ISO-8601 time.",
    takesValue: true,
    metavar: "WHEN",
  },
  {
    name: "where",
    description: "Only those whose application property KEY has this value (repeatable: all must hold).",
    takesValue: true,
    metavar: "KEY=VALUE",
    repeatable: true,
  },
  {
    name: "grep",
    description: "Only those whose body contains TEXT (any case).",
    takesValue: true,
    metavar: "TEXT",
  },
];

/** `2h` → two hours before `now`; an ISO-8601 time as itself; anything else is a usage error. */
function instantOption(ctx: CommandContext, name: string, now: Date): string | undefined {
  const value = stringOption(ctx, name);
  if (value === undefined) return undefined;
  const at = parseInstant(value, now);
  if (at === undefined) {
    throw new CommandFailure(
      `Invalid value for '--${name}': '${oneLine(value)}' is neither a duration (30m, 2h, 1d) nor an ISO-8601 time (2026-12-01T09:00Z).`,
      { failureClass: "usage" },
    );
  }
  return at;
}

/** `--where KEY=VALUE` pairs; the first `=` splits (values may hold more). */
function whereOption(ctx: CommandContext): { key: string; value: string }[] | undefined {
  const given = ctx.lists?.where ?? (typeof ctx.options?.where === "string" ? [ctx.options.where] : []);
  if (given.length === 0) return undefined;
  return given.map((pair) => {
    const parsed = parseWherePair(pair);
    if (parsed === undefined) {
      throw new CommandFailure(
        `Invalid value for '--where': '${oneLine(pair)}' is not KEY=VALUE (an application property and its value).`,
        { failureClass: "usage" },
      );
    }
    return parsed;
  });
}

/** The filter `filterOptions` asked for; `now` anchors `--since 2h`. */
export function listFilter(ctx: CommandContext, now: Date = new Date()): RecordFilter {
  const filter: RecordFilter = {};
  const state = stringOption(ctx, "state");
  // The engine checked the choices; a hand-built context gets no such guarantee, hence the cast.
  if (state !== undefined) filter.state = state as VaultState;
  for (const name of ["cluster", "entity", "reason", "grep"] as const) {
    const value = stringOption(ctx, name);
    if (value !== undefined) filter[name] = value;
  }
  const since = instantOption(ctx, "since", now);
  const until = instantOption(ctx, "until", now);
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  const where = whereOption(ctx);
  if (where !== undefined) filter.where = where;
  return filter;
}

/** Records `ls` prints when `--limit` is not given. */
export const LS_PAGE = 50;
/** The most `--limit` may ask for in one page. */
export const LS_MAX_PAGE = 1000;

/** `--limit N` (1…LS_MAX_PAGE) and `--next CURSOR` (as a previous page printed it). */
function pageOption(ctx: CommandContext): PageRequest {
  const text = stringOption(ctx, "limit");
  const limit = text === undefined ? LS_PAGE : Number(text);
  if (!/^\d+$/.test(text ?? "1") || !Number.isInteger(limit) || limit < 1 || limit > LS_MAX_PAGE) {
    throw new CommandFailure(
      `Invalid value for '--limit': '${oneLine(text ?? "")}' is not a whole number from 1 to ${LS_MAX_PAGE}.`,
      { failureClass: "usage" },
    );
  }
  const after = stringOption(ctx, "next");
  if (after !== undefined && positionOf(after) === undefined) {
    throw new CommandFailure(
      "Invalid value for '--next': not a cursor printed by 'deadletter ls' (copy it whole from the last line).",
      { failureClass: "usage" },
    );
  }
  return after === undefined ? { limit } : { limit, after };
}

/** What `ls --json` prints for one record: the table's fields, in full, for scripts. */
function listedRecord(r: VaultRecord): Record<string, unknown> {
  return {
    id: r.id,
    state: r.state,
    cluster: r.cluster,
    entity: entityPath(r.entity),
    messageId: r.message.messageId,
    reason: r.message.deadLetterReason ?? null,
    description: r.message.deadLetterErrorDescription ?? null,
    parkedAt: r.parkedAt,
    applicationProperties: r.message.applicationProperties,
    resolution: r.resolution ?? null,
  };
}

/** Rows of the entity and reason tables shown; the rest are summed up in one line. */
export const STATS_ROWS = 20;

/** A heading and `[…cells, count]` rows, the first `STATS_ROWS` of them, then what was left out. */
function countTable(
  headings: readonly string[],
  rows: readonly (readonly [...string[], number])[],
): string[] {
  const shown = rows.slice(0, STATS_ROWS);
  const lines = alignColumns([
    [...headings],
    ...shown.map((row) => row.map((cell) => (typeof cell === "number" ? String(cell) : cell))),
  ]);
  const rest = rows.slice(STATS_ROWS);
  if (rest.length > 0) {
    const count = rest.reduce((sum, row) => sum + (row[row.length - 1] as number), 0);
    lines.push(
      `… ${rest.length} more (${count} dead letter${count === 1 ? "" : "s"}); --json lists them all`,
    );
  }
  return lines;
}

/** What `stats` prints: a table per grouping, then the ages; outside text through `oneLine` as in `ls`. */
export function statsText(stats: DeadLetterStats): string[] {
  const states = Object.entries(stats.byState).map(([state, count]) => [state, count] as const);
  const oldest = stats.oldestParked;
  const { resolved, medianMs } = stats.timeToResolve;
  return [
    `Dead letters: ${stats.total}`,
    "",
    ...countTable(["STATE", "COUNT"], states),
    "",
    ...countTable(
      ["CLUSTER", "ENTITY", "COUNT"],
      stats.byEntity.map((e) => [oneLine(e.cluster), oneLine(e.entity), e.count] as const),
    ),
    "",
    ...countTable(
      ["REASON", "COUNT"],
      stats.byReason.map((r) => [oneLine(r.reason ?? "-", 40), r.count] as const),
    ),
    "",
    ...alignColumns([
      [
        "Oldest parked:",
        oldest
          ? `${formatDuration(oldest.ageMs)} (${oldest.id}, parked ${oneLine(oldest.parkedAt)})`
          : "- (none parked)",
      ],
      [
        "Median time to resolve:",
        medianMs === null ? "- (none resolved)" : `${formatDuration(medianMs)} (over ${resolved} resolved)`,
      ],
    ]),
  ];
}

const noteOption: OptionSpec = {
  name: "note",
  description: "A note kept with the record's resolution.",
  takesValue: true,
};
const idArg = {
  name: "id",
  description:
    "The dead letter: its id, the start of it (4 or more characters, as the workbench shows it), or its message id.",
};
/** Kept in the record's resolution, so its notification says the command did it. */
const VIA_COMMAND = { via: "command" } as const;

/** A subscription's dead letter to its whole topic: every subscription gets it again. */
const toTopicOption: OptionSpec = {
  name: "to-topic",
  description:
    "A topic subscription's dead letter: send it to the whole topic (every subscription receives it) instead of to its subscription alone.",
  takesValue: false,
};

/** `deadletter ls|stats|show|replay|delete|email`: by hand, what the Slack buttons of /resolve do. */
export const deadletterPlugin = definePlugin({
  name: "deadletter",
  summary: "Inspect and resolve dead letters parked by the watcher.",
  commands: [
    {
      name: "ls",
      summary: "List parked and resolved dead letters, newest first.",
      sensitive: false,
      args: [],
      options: [
        ...filterOptions,
        {
          name: "limit",
          description: `Print at most N (default ${LS_PAGE}, at most ${LS_MAX_PAGE}).`,
          takesValue: true,
          metavar: "N",
        },
        {
          name: "next",
          description: "Print the page after the one that ended with this cursor.",
          takesValue: true,
          metavar: "CURSOR",
        },
        { name: "json", description: "Print the page as JSON, for scripts.", takesValue: false },
      ],
      async run(ctx) {
        const filter = listFilter(ctx);
        const page = await (await actions(ctx)).search(filter, pageOption(ctx));
        if (ctx.options?.json === true) {
          const next = page.next ?? null;
          ctx.out.out(terminalSafeJson({ records: page.records.map(listedRecord), next }));
          return;
        }
        if (page.records.length === 0) ctx.out.out("No dead letters.");
        else for (const line of recordTable(page.records)) ctx.out.out(line);
        if (page.next !== undefined) ctx.out.out(`More: add --next ${page.next}`);
      },
    },
    {
      name: "stats",
      summary: "Count dead letters by state, entity and reason; how long they wait and take to resolve.",
      sensitive: false,
      args: [],
      options: [
        ...filterOptions,
        { name: "json", description: "Print the figures as JSON, for scripts.", takesValue: false },
      ],
      async run(ctx) {
        // The same listing as `ls`, so the same records: every one the vault holds that matches.
        const records = await (await actions(ctx)).list(listFilter(ctx));
        const stats = deadLetterStats(records, new Date());
        if (ctx.options?.json === true) ctx.out.out(terminalSafeJson(stats));
        else if (records.length === 0) ctx.out.out("No dead letters.");
        else for (const line of statsText(stats)) ctx.out.out(line);
      },
    },
    {
      name: "show",
      summary: "Print one dead letter: metadata, reason, properties and body.",
      sensitive: false,
      args: [idArg],
      async run(ctx) {
        const found = await (await actions(ctx)).show(ctx.args.id ?? "");
        if (!found.ok)
          throw new CommandFailure(found.message, { failureClass: FAILURE_CLASS_OF[found.reason] });
        ctx.out.out(stringify(recordDocument(found.record), { lineWidth: 0 }).trimEnd());
      },
    },
    {
      name: "replay",
      summary:
        "Send a parked dead letter back to its queue or topic (with no id: every one the filter flags name).",
      sensitive: false,
      args: [{ ...idArg, optional: true }],
      options: [...filterOptions, ...bulkReplayOptions, ...repairOptions, toTopicOption],
      async run(ctx) {
        // Edits name one dead letter: refused (a usage error) with no id, before any bulk run.
        const edits = repairEditsOf(ctx);
        if (isBulkRequest(ctx)) return runBulkAction(ctx, "replay", () => listFilter(ctx));
        report(
          ctx,
          await (await actions(ctx)).replay(ctx.args.id ?? "", actor(ctx), {
            ...VIA_COMMAND,
            edits,
            ...(ctx.options?.["to-topic"] === true ? { toTopic: true } : {}),
          }),
          "Replayed",
        );
      },
    },
    {
      name: "delete",
      summary:
        "Resolve a parked dead letter without replaying it, the vault keeping its copy (with no id: every one the filter flags name).",
      sensitive: false,
      args: [{ ...idArg, optional: true }],
      options: [noteOption, ...filterOptions, ...bulkActionOptions],
      async run(ctx) {
        if (isBulkRequest(ctx))
          return runBulkAction(ctx, "delete", () => listFilter(ctx), stringOption(ctx, "note"));
        const outcome = await (await actions(ctx)).delete(
          ctx.args.id ?? "",
          actor(ctx),
          stringOption(ctx, "note"),
          VIA_COMMAND,
        );
        report(ctx, outcome, "Deleted");
      },
    },
    {
      name: "email",
      summary: "Email a parked dead letter's details and body to ADDRESS.",
      sensitive: false,
      args: [idArg, { name: "address", description: "Where to send it." }],
      options: [noteOption],
      async run(ctx) {
        const outcome = await (await actions(ctx)).email(
          ctx.args.id ?? "",
          ctx.args.address ?? "",
          actor(ctx),
          stringOption(ctx, "note"),
          VIA_COMMAND,
        );
        report(ctx, outcome, "Emailed");
      },
    },
    ...bulkCommands,
    bulkDialogCommand,
    rulesCommand,
  ],
});
