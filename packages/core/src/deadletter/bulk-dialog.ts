import {
  cleanPlainText,
  code,
  joinMrkdwn,
  type Mrkdwn,
  mrkdwn,
  stripControlCharacters,
  truncateMrkdwn,
} from "../slack/slack-text";
import * as z from "../validation/zod";
import { type BulkAction, MAX_BULK_RATE, MAX_CANARY } from "./bulk-job";
import type { BulkPreview } from "./bulk-jobs";
import { entityPath } from "./dead-letter";
import { parseBulkRate, parseCanary, parseInstant, parseWherePair } from "./filter-input";

/**
 * The Slack dialog for a bulk replay or delete by filter (issue 17): filter → preview (count and
 * three samples) → confirm. The view JSON and the reading of its submissions live here; `/resolve`
 * answers the submissions with them and the worker counts (bulk-dialog-jobs.ts).
 */

/** The notification's "Bulk…" button; its value names the cluster and entity to pre-fill. */
export const BULK_DIALOG_ACTION = "deadletter_bulk_dialog";
/** The filter form. */
export const BULK_FILTER_CALLBACK_ID = "deadletter_bulk_filter";
/** "Counting…", then the preview with its "Replay N" / "Delete N" submit. */
export const BULK_CONFIRM_CALLBACK_ID = "deadletter_bulk_confirm";
/** The worker's job: count and show the preview (`views.update`), or start the job as the clicker. */
export const BULK_DIALOG_JOB = "deadletter-bulk-dialog";

/** Slack's cap on a view's private_metadata. */
export const MAX_PRIVATE_METADATA = 3000;

/** Each field's max_length: Slack refuses longer input, and the whole filter must fit the metadata. */
export const BULK_FIELD_LIMITS = {
  cluster: 200,
  entity: 400,
  reason: 500,
  since: 40,
  where: 1500,
  grep: 500,
  rate: 10,
  canary: 3,
} as const;

/** What a filled-in form asks for: the filter (`since` already an instant) and the job's pace. */
export const bulkDialogRequestSchema = z.object({
  action: z.enum(["replay", "delete"]),
  filter: z.object({
    cluster: z.optional(z.string()),
    entity: z.optional(z.string()),
    reason: z.optional(z.string()),
    since: z.optional(z.string()),
    where: z.optional(z.array(z.object({ key: z.string(), value: z.string() }))),
    grep: z.optional(z.string()),
  }),
  rate: z.optional(z.number()),
  canary: z.optional(z.number()),
});
export type BulkDialogRequest = z.infer<typeof bulkDialogRequestSchema>;

/** Carried from view to view: the request, and where the clicker is told privately. */
export const bulkDialogMetadataSchema = z.object({
  request: bulkDialogRequestSchema,
  channel: z.optional(z.string()),
});
export type BulkDialogMetadata = z.infer<typeof bulkDialogMetadataSchema>;

/** What the form is pre-filled with (the notification's cluster and entity) and where it came from. */
export interface BulkDialogPrefill {
  cluster?: string;
  entity?: string;
  channel?: string;
}

/** The "Bulk…" button's value: cluster and entity, short keys (a button value holds 2,000). */
export function bulkButtonValue(cluster: string, entity: string): string {
  // Controls never ride along in the message (the form shows the names cleaned anyway).
  const value = JSON.stringify({ c: stripControlCharacters(cluster), e: stripControlCharacters(entity) });
  // Names are bounded by Service Bus; should one not be, the form opens empty rather than broken.
  return value.length <= 2000 ? value : "{}";
}

/** The pre-fill a button value names; nothing for anything that is not one of ours. */
export function prefillOf(value: string | undefined): Pick<BulkDialogPrefill, "cluster" | "entity"> {
  try {
    const parsed = JSON.parse(value ?? "") as unknown;
    if (typeof parsed !== "object" || parsed === null) return {};
    const { c, e } = parsed as { c?: unknown; e?: unknown };
    return {
      ...(typeof c === "string" ? { cluster: c.slice(0, BULK_FIELD_LIMITS.cluster) } : {}),
      ...(typeof e === "string" ? { entity: e.slice(0, BULK_FIELD_LIMITS.entity) } : {}),
    };
  } catch {
    return {};
  }
}

const plain = (text: string, max = 150) => ({ type: "plain_text" as const, text: cleanPlainText(text, max) });

function textInput(
  blockId: keyof typeof BULK_FIELD_LIMITS,
  label: string,
  options: { hint?: string; placeholder?: string; initial?: string; multiline?: boolean } = {},
): Record<string, unknown> {
  const initial = options.initial === undefined ? undefined : cleanPlainText(options.initial);
  return {
    type: "input",
    block_id: blockId,
    optional: true,
    label: plain(label),
    element: {
      type: "plain_text_input",
      action_id: "text",
      max_length: BULK_FIELD_LIMITS[blockId],
      ...(options.multiline ? { multiline: true } : {}),
      ...(options.placeholder ? { placeholder: plain(options.placeholder) } : {}),
      ...(initial ? { initial_value: initial.slice(0, BULK_FIELD_LIMITS[blockId]) } : {}),
    },
    ...(options.hint ? { hint: plain(options.hint, 2000) } : {}),
  };
}

const ACTION_OPTIONS = [
  { text: plain("Replay: send them back"), value: "replay" },
  { text: plain("Delete: resolve without replaying"), value: "delete" },
];

/** The filter form, pre-filled with the notification's cluster and entity. */
export function bulkFilterDialog(prefill: BulkDialogPrefill): Record<string, unknown> {
  const metadata = prefill.channel ? { channel: prefill.channel } : {};
  return {
    type: "modal",
    callback_id: BULK_FILTER_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: plain("Bulk replay or delete"),
    submit: plain("Preview"),
    close: plain("Cancel"),
    blocks: [
      {
        type: "input",
        block_id: "action",
        label: plain("Action"),
        element: {
          type: "radio_buttons",
          action_id: "choice",
          options: ACTION_OPTIONS,
          initial_option: ACTION_OPTIONS[0],
        },
      },
      textInput("cluster", "Cluster", { initial: prefill.cluster }),
      textInput("entity", "Entity", {
        initial: prefill.entity,
        placeholder: "orders, or events/Subscriptions/audit",
      }),
      textInput("reason", "Reason contains", { hint: "In the dead-letter reason or description, any case." }),
      textInput("since", "Parked within", { placeholder: "30m, 2h, 1d or 2026-12-01T09:00Z" }),
      textInput("where", "Properties", {
        multiline: true,
        placeholder: "tenant=acme",
        hint: "KEY=VALUE, one a line: every one must hold.",
      }),
      textInput("grep", "Body contains", { hint: "In the body as text, any case." }),
      textInput("rate", "Rate per second", { placeholder: `10 (at most ${MAX_BULK_RATE})` }),
      textInput("canary", "Canary (replay only)", {
        placeholder: `1 to ${MAX_CANARY}`,
        hint: "Replay this many first, wait, and stop if any of them is dead-lettered again.",
      }),
    ],
  };
}

/** One field's value as Slack submits it: text inputs carry `value`, radio buttons `selected_option`. */
type SubmittedValues = Record<string, Record<string, { value?: string | null; selected_option?: unknown }>>;

function typed(values: SubmittedValues, blockId: string, actionId = "text"): string | undefined {
  const value = values[blockId]?.[actionId]?.value?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function chosen(values: SubmittedValues, blockId: string, actionId: string): string | undefined {
  const option = values[blockId]?.[actionId]?.selected_option;
  const value =
    typeof option === "object" && option !== null ? (option as { value?: unknown }).value : undefined;
  return typeof value === "string" ? value : undefined;
}

/** An error shown under a field: plain text, the user's words cleaned and cut. */
const shown = (text: string) => cleanPlainText(text, 60);

export type BulkFilterSubmission =
  | { ok: true; metadata: BulkDialogMetadata; privateMetadata: string }
  | { ok: false; errors: Record<string, string> };

/**
 * The form as the command reads its flags (the same rules for `since`, `where`, `rate` and
 * `canary`); a mistake is answered on its field. `now` anchors `Parked within 2h`.
 */
export function bulkFilterSubmission(
  values: SubmittedValues,
  previousMetadata: string,
  now: Date,
): BulkFilterSubmission {
  const errors: Record<string, string> = {};
  const action = chosen(values, "action", "choice");
  if (action !== "replay" && action !== "delete") errors.action = "Choose Replay or Delete.";
  const filter: BulkDialogRequest["filter"] = {};
  for (const name of ["cluster", "entity", "reason", "grep"] as const) {
    const value = typed(values, name);
    if (value !== undefined) filter[name] = value;
  }
  const since = typed(values, "since");
  if (since !== undefined) {
    const at = parseInstant(since, now);
    if (at === undefined)
      errors.since = `'${shown(since)}' is neither a duration (30m, 2h, 1d) nor an ISO-8601 time (2026-12-01T09:00Z).`;
    else filter.since = at;
  }
  const where = (values.where?.text?.value ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (where.length > 0) {
    const pairs = where.map(parseWherePair);
    const bad = where.find((_, index) => pairs[index] === undefined);
    if (bad !== undefined)
      errors.where = `'${shown(bad)}' is not KEY=VALUE (an application property and its value).`;
    else filter.where = pairs.filter((p): p is { key: string; value: string } => p !== undefined);
  }
  const rateText = typed(values, "rate");
  const rate = rateText === undefined ? undefined : parseBulkRate(rateText);
  if (rateText !== undefined && rate === undefined)
    errors.rate = `'${shown(rateText)}' is not a rate from 1 to ${MAX_BULK_RATE} per second (e.g. 20).`;
  const canaryText = typed(values, "canary");
  const canary = canaryText === undefined ? undefined : parseCanary(canaryText);
  if (canaryText !== undefined && canary === undefined)
    errors.canary = `'${shown(canaryText)}' is not a whole number from 1 to ${MAX_CANARY}.`;
  else if (canary !== undefined && action === "delete")
    errors.canary = "A canary is replayed: leave it empty for a delete.";
  if (Object.keys(filter).length === 0 && Object.keys(errors).length === 0) {
    // As the command refuses a bulk action without a filter flag unless `--all` is said.
    errors.entity =
      "Give at least one filter (cluster, entity, reason, …). Every parked dead letter: use the command with --all.";
  }
  if (Object.keys(errors).length > 0 || (action !== "replay" && action !== "delete"))
    return { ok: false, errors };
  let channel: string | undefined;
  try {
    const previous = JSON.parse(previousMetadata) as { channel?: unknown };
    if (typeof previous?.channel === "string") channel = previous.channel;
  } catch {
    // A form without metadata tells the clicker nowhere; the job still posts its progress.
  }
  const metadata: BulkDialogMetadata = {
    request: {
      action,
      filter,
      ...(rate === undefined ? {} : { rate }),
      ...(canary === undefined ? {} : { canary }),
    },
    ...(channel ? { channel } : {}),
  };
  const privateMetadata = JSON.stringify(metadata);
  if (privateMetadata.length > MAX_PRIVATE_METADATA) {
    // Slack would refuse the next view: say which field to shorten, the longest one.
    const longest = (["where", "reason", "grep", "entity", "cluster"] as const).reduce((a, b) =>
      (typed(values, b)?.length ?? 0) > (typed(values, a)?.length ?? 0) ? b : a,
    );
    return {
      ok: false,
      errors: { [longest]: "This filter is too long for a Slack dialog: shorten it, or use the command." },
    };
  }
  return { ok: true, metadata, privateMetadata };
}

/** The request carried by a view; undefined when the metadata is not ours. */
export function bulkDialogMetadataOf(privateMetadata: string): BulkDialogMetadata | undefined {
  try {
    const parsed = bulkDialogMetadataSchema.safeParse(JSON.parse(privateMetadata));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The policy's words for a request: `deadletter replay|delete` and its filter flags, as typed. */
export function bulkCommandWords(request: BulkDialogRequest): string[] {
  const f = request.filter;
  const words = ["deadletter", request.action];
  for (const name of ["cluster", "entity", "reason", "since", "grep"] as const) {
    const value = f[name];
    if (value !== undefined) words.push(`--${name}`, value);
  }
  for (const { key, value } of f.where ?? []) words.push("--where", `${key}=${value}`);
  if (request.rate !== undefined) words.push("--rate", String(request.rate));
  if (request.canary !== undefined) words.push("--canary", String(request.canary));
  return words;
}

/** A word as a shell would need it: single-quoted when it holds anything but plain characters. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line a person could type instead. */
export function bulkCommandLine(request: BulkDialogRequest): string {
  return ["victoria", ...bulkCommandWords(request)].map(shellWord).join(" ");
}

const title = (action: BulkAction) => plain(action === "replay" ? "Bulk replay" : "Bulk delete");

function filterLine(request: BulkDialogRequest): Mrkdwn {
  const f = request.filter;
  const parts: Mrkdwn[] = [];
  for (const name of ["cluster", "entity", "reason", "since", "grep"] as const) {
    const value = f[name];
    if (value !== undefined) parts.push(mrkdwn`${name} ${code(value, 200)}`);
  }
  for (const { key, value } of f.where ?? []) parts.push(mrkdwn`where ${code(`${key}=${value}`, 200)}`);
  return joinMrkdwn(parts, " · ");
}

const section = (text: Mrkdwn) => ({
  type: "section",
  text: { type: "mrkdwn", text: truncateMrkdwn(text, 3000).text },
});
const context = (text: Mrkdwn) => ({
  type: "context",
  elements: [{ type: "mrkdwn", text: truncateMrkdwn(text, 3000).text }],
});

function commandContext(request: BulkDialogRequest): Record<string, unknown> {
  return context(mrkdwn`The same by command: ${code(bulkCommandLine(request), 2500)}`);
}

/** What the filter form turns into at once: the worker replaces it with the preview. */
export function bulkCountingView(
  metadata: BulkDialogMetadata,
  privateMetadata: string,
): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: BULK_CONFIRM_CALLBACK_ID,
    private_metadata: privateMetadata,
    title: title(metadata.request.action),
    close: plain("Cancel"),
    blocks: [
      section(mrkdwn`:hourglass_flowing_sand: Counting the parked dead letters that match…`),
      context(filterLine(metadata.request)),
    ],
  };
}

/** The preview: how many, three of them, and the submit that starts the job (none when nothing matches). */
export function bulkPreviewView(metadata: BulkDialogMetadata, preview: BulkPreview): Record<string, unknown> {
  const { request } = metadata;
  const verb = request.action === "replay" ? "Replay" : "Delete";
  const base = {
    type: "modal",
    callback_id: BULK_CONFIRM_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: title(request.action),
    close: plain(preview.count === 0 ? "Close" : "Cancel"),
  };
  if (preview.count === 0) {
    return {
      ...base,
      blocks: [
        section(mrkdwn`No parked dead letters match; nothing to ${request.action}.`),
        context(filterLine(request)),
      ],
    };
  }
  const many = preview.count === 1 ? "dead letter" : "dead letters";
  const pace = `${request.rate ?? 10}/s${request.canary ? `, ${request.canary} first as a canary` : ""}`;
  const samples = preview.samples
    .slice(0, 3)
    .map((r) =>
      section(
        mrkdwn`${code(r.id)} · ${code(entityPath(r.entity), 300)} · ${code(r.message.deadLetterReason ?? "-", 300)}`,
      ),
    );
  return {
    ...base,
    submit: plain(`${verb} ${preview.count.toLocaleString("en-US")}`, 24),
    blocks: [
      section(
        mrkdwn`*${verb} ${preview.count.toLocaleString("en-US")} parked ${many}* at ${pace}. Progress is posted in the alert channel, with a Cancel button.`,
      ),
      context(filterLine(request)),
      { type: "divider" },
      ...(samples.length > 0 ? [context(mrkdwn`For example:`), ...samples] : []),
      commandContext(request),
    ],
  };
}

/** Instead of the preview when the clicker may not run the command (or only with an approval). */
export function bulkRefusedView(
  metadata: BulkDialogMetadata,
  message: string | Mrkdwn,
): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: BULK_CONFIRM_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: title(metadata.request.action),
    close: plain("Close"),
    blocks: [
      section(typeof message === "string" ? mrkdwn`:no_entry: ${message}` : mrkdwn`:no_entry: ${message}`),
      commandContext(metadata.request),
    ],
  };
}

/** What `victoria deadletter bulk` prints where there is no Slack dialog. */
export const BULK_DIALOG_CLI_HINT = [
  "'deadletter bulk' is a Slack dialog: type /victoria deadletter bulk in Slack, or click Bulk… on a dead-letter notification.",
  "The same by command (--dry-run first to see the count and three of them):",
  "  victoria deadletter replay|delete [--cluster C] [--entity E] [--reason TEXT] [--since 2h] [--where KEY=VALUE]… [--grep TEXT] [--rate N/s] [--canary N] [--dry-run]",
];

/**
 * `/victoria deadletter bulk [--cluster C] [--entity E]`: the form it opens, or undefined when the
 * words are not that (help, another command) and the command runs as any other.
 */
export function bulkDialogForCommand(
  args: readonly string[],
  channel: string,
): Record<string, unknown> | undefined {
  if (args[0] !== "deadletter" || args[1] !== "bulk") return undefined;
  const prefill: BulkDialogPrefill = { channel };
  for (let i = 2; i < args.length; i++) {
    const match = /^--(cluster|entity)(?:=(.*))?$/.exec(args[i] ?? "");
    if (!match) return undefined;
    const value = match[2] ?? args[++i];
    if (value === undefined) return undefined;
    prefill[match[1] as "cluster" | "entity"] = value;
  }
  return bulkFilterDialog(prefill);
}
