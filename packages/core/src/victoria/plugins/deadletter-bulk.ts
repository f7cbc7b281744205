import {
  type BulkAction,
  type BulkJob,
  bulkJobSummary,
  MAX_BULK_RATE,
  MAX_CANARY,
} from "../../deadletter/bulk-job";
import type { BulkJobs } from "../../deadletter/bulk-jobs";
import { entityPath } from "../../deadletter/dead-letter";
import { parseBulkRate, parseCanary } from "../../deadletter/filter-input";
import type { RecordFilter } from "../../deadletter/record-filter";
import { parseDuration } from "../../policy/duration";
import { stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure } from "../errors";
import type { CommandContext, CommandSpec, OptionSpec } from "../plugin";
import { unavailableDeadLetters } from "../services";

// `deadletter replay|delete` by filter, `deadletter cancel` and `deadletter jobs`. Kept apart from
// deadletter.ts, which only adds these options and a branch; nothing here imports it (no cycle).

/** Options `replay` and `delete` take besides the filter flags, for a bulk action. */
export const bulkActionOptions: OptionSpec[] = [
  {
    name: "all",
    description: "With no id and no filter flag: act on every parked dead letter (refused without it).",
    takesValue: false,
  },
  {
    name: "dry-run",
    description: "With no id: print how many would be acted on and three of them; act on none.",
    takesValue: false,
  },
  {
    name: "rate",
    description: `With no id: act on at most N per second (default 10, at most ${MAX_BULK_RATE}).`,
    takesValue: true,
    metavar: "N/s",
  },
];

/** `replay` only: a canary is replayed, never deleted. */
export const bulkReplayOptions: OptionSpec[] = [
  ...bulkActionOptions,
  {
    name: "canary",
    description: `With no id: replay N first, wait, and stop if any of them is dead-lettered again (1…${MAX_CANARY}).`,
    takesValue: true,
    metavar: "N",
  },
  {
    name: "canary-wait",
    description: "How long to watch the canary before the rest (default 30s; 10s, 2m).",
    takesValue: true,
    metavar: "DURATION",
  },
];

/** One line, bounded: ids, entities and reasons come off the bus. */
function cell(text: string, max = 60): string {
  const flat = stripControlCharacters(text.replace(/[\r\n\t]+/g, " "))
    .replace(/\s+/g, " ")
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const usage = (message: string) => new CommandFailure(message, { failureClass: "usage" });

function text(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.options?.[name];
  return typeof value === "string" ? value : undefined;
}

const BULK_ONLY = ["all", "dry-run", "rate", "canary", "canary-wait"] as const;
const FILTER_NAMES = ["state", "cluster", "entity", "reason", "since", "until", "where", "grep"] as const;

/**
 * Whether `replay|delete` was asked for in bulk: no id. An id with filter or bulk flags is a usage
 * error (which one was meant?); an id alone is the single action.
 */
export function isBulkRequest(ctx: CommandContext): boolean {
  const flags = [...FILTER_NAMES, ...BULK_ONLY].filter((name) => {
    const value = ctx.options?.[name];
    return value !== undefined && value !== false;
  });
  if (ctx.args.id === undefined || ctx.args.id === "") return true;
  if (flags.length > 0) {
    throw usage(
      `Give a dead letter's id or filter flags, not both: '--${flags[0]}' acts on every dead letter that matches.`,
    );
  }
  return false;
}

async function bulkJobs(ctx: CommandContext): Promise<BulkJobs> {
  const actions = await (ctx.services.deadLetters ? ctx.services.deadLetters() : unavailableDeadLetters());
  if (!actions.bulk) {
    throw new CommandFailure("Bulk actions are not available here: this host keeps no job records.", {
      failureClass: "configuration",
    });
  }
  return actions.bulk;
}

function rateOption(ctx: CommandContext): number | undefined {
  const given = text(ctx, "rate");
  if (given === undefined) return undefined;
  const rate = parseBulkRate(given);
  if (rate === undefined) {
    throw usage(
      `Invalid value for '--rate': '${cell(given)}' is not a rate from 1 to ${MAX_BULK_RATE} per second (e.g. 20/s).`,
    );
  }
  return rate;
}

function canaryOptions(ctx: CommandContext): { canary?: number; canaryWaitSeconds?: number } {
  const given = text(ctx, "canary");
  const wait = text(ctx, "canary-wait");
  const out: { canary?: number; canaryWaitSeconds?: number } = {};
  if (given !== undefined) {
    const canary = parseCanary(given);
    if (canary === undefined) {
      throw usage(
        `Invalid value for '--canary': '${cell(given)}' is not a whole number from 1 to ${MAX_CANARY}.`,
      );
    }
    out.canary = canary;
  }
  if (wait !== undefined) {
    if (given === undefined) throw usage("'--canary-wait' goes with '--canary N'.");
    const ms = parseDuration(wait);
    if (ms === undefined || ms < 1000 || ms > 3_600_000) {
      throw usage(
        `Invalid value for '--canary-wait': '${cell(wait)}' is not a duration from 1s to 1h (30s, 2m).`,
      );
    }
    out.canaryWaitSeconds = ms / 1000;
  }
  return out;
}

/** The filter as flags, for a person to read back. */
function filterWords(filter: RecordFilter): string {
  const words: string[] = [];
  for (const name of ["cluster", "entity", "reason", "grep", "since", "until"] as const) {
    const value = filter[name];
    if (value !== undefined) words.push(`--${name} ${cell(value, 80)}`);
  }
  for (const { key, value } of filter.where ?? []) words.push(`--where ${cell(`${key}=${value}`, 80)}`);
  return words.length === 0 ? "every parked dead letter" : words.join(" ");
}

/**
 * `replay|delete` with no id: the records `filter` names, parked ones only. `--dry-run` counts and
 * shows three; otherwise a job is started, run here to the end where the host runs jobs in
 * process (the CLI), else handed to the worker with its id printed.
 */
export async function runBulkAction(
  ctx: CommandContext,
  action: BulkAction,
  filterOf: () => RecordFilter,
  note?: string,
): Promise<void> {
  const filter = filterOf();
  if (filter.state !== undefined && filter.state !== "parked") {
    throw usage(`A bulk ${action} acts on parked dead letters only: '--state ${filter.state}' names none.`);
  }
  const narrowed = Object.keys(filter).some((key) => key !== "state");
  if (!narrowed && ctx.options?.all !== true) {
    throw usage(
      `Give a dead letter's id, filter flags (--entity, --reason, --since, …) or '--all' to ${action} every parked dead letter.`,
    );
  }
  const rate = rateOption(ctx);
  const canary = action === "replay" ? canaryOptions(ctx) : {};
  const jobs = await bulkJobs(ctx);
  const preview = await jobs.preview(filter);
  const verb = action === "replay" ? "replay" : "delete";
  if (ctx.options?.["dry-run"] === true) {
    ctx.out.out(
      `Would ${verb} ${preview.count} dead letter${preview.count === 1 ? "" : "s"} (${filterWords(filter)}); dry run, nothing done.`,
    );
    for (const r of preview.samples) {
      ctx.out.out(`  ${r.id}  ${cell(entityPath(r.entity))}  ${cell(r.message.deadLetterReason ?? "-", 40)}`);
    }
    return;
  }
  if (preview.count === 0) {
    ctx.out.out(`No parked dead letters match (${filterWords(filter)}); nothing to ${verb}.`);
    return;
  }
  const job = await jobs.start({
    action,
    filter,
    ...(note ? { note } : {}),
    ...(rate === undefined ? {} : { rate }),
    ...canary,
    requestedBy: ctx.actor ?? "cli:unknown",
  });
  ctx.out.out(
    `Started bulk job ${job.id}: ${verb} ${preview.count} dead letter${preview.count === 1 ? "" : "s"} (${filterWords(filter)}) at ${job.rate}/s${job.canary > 0 ? `, canary ${job.canary}` : ""}.`,
  );
  if (!jobs.runHere) {
    ctx.out.out(
      `It runs in the background: follow it with 'victoria deadletter jobs', stop it with 'victoria deadletter cancel ${job.id}'.`,
    );
    return;
  }
  let last = "";
  const ended = await jobs.runHere(job.id, (current) => {
    const line = cell(bulkJobSummary(current), 300);
    if (line !== last) ctx.out.out(line);
    last = line;
  });
  if (ended && ended.state !== "done") {
    throw new CommandFailure(cell(bulkJobSummary(ended), 300), { failureClass: "conflict" });
  }
}

const jobArg = { name: "job", description: "The bulk job's id, as `deadletter jobs` lists it." };

function jobLine(job: BulkJob): string {
  const { done, skipped, failed } = job.counts;
  return [
    job.id,
    job.action,
    job.state,
    `${done}/${skipped}/${failed}`,
    cell(job.requestedBy, 40),
    job.createdAt,
    job.why ? cell(job.why, 80) : "",
  ]
    .join("  ")
    .trimEnd();
}

/** `deadletter cancel <job>` and `deadletter jobs`. */
export const bulkCommands: CommandSpec[] = [
  {
    name: "cancel",
    summary: "Stop a bulk replay or delete (within about a second).",
    sensitive: false,
    args: [jobArg],
    async run(ctx) {
      const outcome = await (await bulkJobs(ctx)).cancel(ctx.args.job ?? "", ctx.actor ?? "cli:unknown");
      if (!outcome.ok) {
        throw new CommandFailure(outcome.message, {
          failureClass: outcome.reason === "missing" ? "not_found" : "conflict",
        });
      }
      ctx.out.out(outcome.message);
    },
  },
  {
    name: "jobs",
    summary: "List recent bulk replays and deletes: state and counts (done/skipped/failed).",
    sensitive: false,
    args: [],
    options: [
      { name: "limit", description: "Print at most N (default 20).", takesValue: true, metavar: "N" },
    ],
    async run(ctx) {
      const given = text(ctx, "limit");
      const limit = given === undefined ? 20 : /^\d+$/.test(given) ? Number(given) : Number.NaN;
      if (!(limit >= 1 && limit <= 1000)) {
        throw usage(
          `Invalid value for '--limit': '${cell(given ?? "")}' is not a whole number from 1 to 1000.`,
        );
      }
      const jobs = await (await bulkJobs(ctx)).recent(limit);
      if (jobs.length === 0) {
        ctx.out.out("No bulk jobs.");
        return;
      }
      ctx.out.out("ID  ACTION  STATE  DONE/SKIPPED/FAILED  BY  CREATED  WHY");
      for (const job of jobs) ctx.out.out(jobLine(job));
    },
  },
];
