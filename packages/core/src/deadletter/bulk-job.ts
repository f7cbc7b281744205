import { randomBytes } from "node:crypto";
import * as z from "../validation/zod";
import type { RecordFilter } from "./record-filter";

/**
 * A bulk replay or delete by filter (`victoria deadletter replay|delete <filter flags>`): the
 * record that lets any runner pick the job up where the last one stopped, and that tells who
 * asked for what and how far it got.
 *
 * running → (canary-wait → running) → done; or cancelled (someone asked), stopped (a canary
 * dead-lettered again), failed (the runner could not go on). The last four are final.
 */
export const BULK_JOB_STATES = ["running", "canary-wait", "cancelled", "done", "failed", "stopped"] as const;
export type BulkJobState = (typeof BULK_JOB_STATES)[number];
export const FINAL_BULK_JOB_STATES: ReadonlySet<BulkJobState> = new Set([
  "cancelled",
  "done",
  "failed",
  "stopped",
]);

export type BulkAction = "replay" | "delete";

/** Records per second when `--rate` is not given, and the most it may ask for. */
export const DEFAULT_BULK_RATE = 10;
export const MAX_BULK_RATE = 100;
/** Seconds between the canary's replays and the look at whether any dead-lettered again. */
export const DEFAULT_CANARY_WAIT_SECONDS = 30;
/** The most `--canary` may ask for: each one is looked up on the bus afterwards. */
export const MAX_CANARY = 100;

/** A replayed canary, enough to find it again on the bus and in the vault. */
const canarySchema = z.object({
  recordId: z.string(),
  messageId: z.string(),
  cluster: z.string(),
  entity: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("queue"), queue: z.string() }),
    z.object({ kind: z.literal("subscription"), topic: z.string(), subscription: z.string() }),
  ]),
});
export type BulkCanary = z.infer<typeof canarySchema>;

const filterSchema = z.object({
  state: z.optional(z.enum(["parked", "replayed", "emailed", "deleted"])),
  cluster: z.optional(z.string()),
  entity: z.optional(z.string()),
  notificationId: z.optional(z.string()),
  reason: z.optional(z.string()),
  since: z.optional(z.string()),
  until: z.optional(z.string()),
  where: z.optional(z.array(z.object({ key: z.string(), value: z.string() }))),
  grep: z.optional(z.string()),
});

const countsSchema = z.object({ done: z.number(), skipped: z.number(), failed: z.number() });
export type BulkCounts = z.infer<typeof countsSchema>;

export const bulkJobSchema = z.object({
  id: z.string(),
  /** Bumped by every write; what the stores compare. */
  version: z.number(),
  action: z.enum(["replay", "delete"]),
  /** What the job walks: the user's filter, `state: parked` and `until` the job's start added. */
  filter: filterSchema,
  /** The delete's note, kept with every record's resolution. */
  note: z.optional(z.string()),
  /** Records per second. */
  rate: z.number(),
  /** Records replayed first, then watched, before the rest. 0: no canary. */
  canary: z.number(),
  canaryWaitSeconds: z.number(),
  requestedBy: z.string(),
  /** The request that started it: its runs log under it, its audit and every record's resolution name it. */
  requestId: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  state: z.enum(BULK_JOB_STATES),
  /** Why it was stopped, failed or cancelled. */
  why: z.optional(z.string()),
  counts: countsSchema,
  /** The position of the last record acted on (a `RecordFilter` page cursor); absent before the first. */
  cursor: z.optional(z.string()),
  /**
   * Ids of the records the current runner is acting on and has not counted yet: written before it
   * acts, so a runner that takes over after a crash counts them once (done if they carry this
   * job's note, skipped if someone else resolved them) and never acts on them again.
   */
  inFlight: z.array(z.string()),
  canaries: z.array(canarySchema),
  /** When the canaries were found not to have dead-lettered again; the rest follows. */
  canaryPassedAt: z.optional(z.string()),
  /** When the canary wait ends (state canary-wait). */
  canaryUntil: z.optional(z.string()),
  /** Who is running it and until when; another runner may take over only after `until`. */
  lease: z.optional(z.object({ runner: z.string(), until: z.string() })),
  /** The Slack message that shows progress, once posted. */
  progress: z.optional(z.object({ channel: z.string(), ts: z.string() })),
  /** Set by `deadletter cancel` (or the Cancel button); the runner starts no more acts within about a second. */
  cancelRequested: z.optional(z.object({ by: z.string(), at: z.string() })),
  finishedAt: z.optional(z.string()),
});
export type BulkJob = z.infer<typeof bulkJobSchema>;

/** `20260101-093000-1a2b3c4d`: sortable by creation, safe as a file name and an S3 key. */
const BULK_JOB_ID = /^\d{8}-\d{6}-[0-9a-f]{8}$/;

export function isBulkJobId(id: string): boolean {
  return BULK_JOB_ID.test(id);
}

export function newBulkJobId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

/** What a runner writes into each record's resolution note, so the record names its job. */
export function bulkNote(job: Pick<BulkJob, "id" | "note">): string {
  return job.note ? `bulk job ${job.id}: ${job.note}` : `bulk job ${job.id}`;
}

/** Whether a record's resolution note says this job resolved it. */
export function resolvedByJob(note: string | undefined, jobId: string): boolean {
  return note === `bulk job ${jobId}` || (note ?? "").startsWith(`bulk job ${jobId}: `);
}

export interface BulkJobRequest {
  action: BulkAction;
  filter: RecordFilter;
  note?: string;
  rate?: number;
  canary?: number;
  canaryWaitSeconds?: number;
  requestedBy: string;
  requestId?: string;
}

/** A new job at version 1: the filter pinned to what is parked now, so it never chases new arrivals. */
export function newBulkJob(request: BulkJobRequest, now: Date): BulkJob {
  const at = now.toISOString();
  const until =
    request.filter.until !== undefined && Date.parse(request.filter.until) < now.getTime()
      ? request.filter.until
      : at;
  return {
    id: newBulkJobId(now),
    version: 1,
    action: request.action,
    filter: { ...stripUndefined(request.filter), state: "parked", until } as BulkJob["filter"],
    ...(request.note ? { note: request.note } : {}),
    rate: request.rate ?? DEFAULT_BULK_RATE,
    canary: request.action === "replay" ? (request.canary ?? 0) : 0,
    canaryWaitSeconds: request.canaryWaitSeconds ?? DEFAULT_CANARY_WAIT_SECONDS,
    requestedBy: request.requestedBy,
    ...(request.requestId ? { requestId: request.requestId } : {}),
    createdAt: at,
    updatedAt: at,
    state: "running",
    counts: { done: 0, skipped: 0, failed: 0 },
    inFlight: [],
    canaries: [],
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Parses a stored job; the message names where it came from. */
export function parseBulkJob(text: string, where: string): BulkJob {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Bulk job is not JSON (${where})`);
  }
  const parsed = bulkJobSchema.safeParse(value);
  if (!parsed.success) throw new Error(`Bulk job is malformed (${where})`);
  return parsed.data;
}

/** One line a person reads: what, how far, and why it ended. */
export function bulkJobSummary(job: BulkJob): string {
  const { done, skipped, failed } = job.counts;
  const verb = job.action === "replay" ? "replayed" : "deleted";
  const why = job.why ? ` (${job.why})` : "";
  return `${job.id} ${job.action} ${job.state}${why}: ${done} ${verb}, ${skipped} skipped, ${failed} failed`;
}
