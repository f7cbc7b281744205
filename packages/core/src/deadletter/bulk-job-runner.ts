import type { Logger } from "../logging/json-logger";
import { withRequestContext } from "../logging/request-context";
import type { AuditLog } from "../security/audit-log";
import {
  type BulkCanary,
  type BulkJob,
  type BulkJobState,
  bulkJobSummary,
  bulkNote,
  FINAL_BULK_JOB_STATES,
  resolvedByJob,
} from "./bulk-job";
import type { BulkJobStore } from "./bulk-job-store";
import type { Bus } from "./bus";
import { entityPath } from "./dead-letter";
import type { ActionOutcome, DeadLetterActions } from "./dead-letter-actions-types";
import { cursorOf } from "./record-filter";
import { connectionFor } from "./service-bus-connections";
import type { TopicRulesMemo } from "./subscription-replay-send";
import type { Vault, VaultRecord } from "./vault";

/** Shows a job's progress somewhere people look (one Slack message, updated). */
export interface BulkProgress {
  /** Called after each batch and at the end; throttling is the implementation's business. */
  show(job: BulkJob, final: boolean): Promise<BulkJob["progress"] | undefined>;
}

export interface BulkRunnerDeps {
  store: BulkJobStore;
  /** The per-record operations: each is a compare-and-set out of `parked`, hence exactly once. */
  actions: Pick<DeadLetterActions, "search" | "replay" | "delete">;
  vault: Pick<Vault, "get" | "findByMessageId">;
  /** Where the canary looks for its messages dead-lettered again; without it, only the vault. */
  bus?: Pick<Bus, "peekDeadLetters">;
  connections?: Readonly<Record<string, string>>;
  logger: Logger;
  /** The job's end is audited here, when the host keeps an audit log. */
  audit?: AuditLog;
  progress?: BulkProgress;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Records acted on between two saves of the job (default: a second's worth at its rate, at least 10). */
  batchSize?: number;
  /** How long a runner's claim lasts without a save (default 60 s); past it another may take over. */
  leaseMs?: number;
}

export interface BulkRunOptions {
  /** This runner's name in the lease. */
  runnerId: string;
  /** Milliseconds this runner may take before it hands the job over (a Lambda's remaining time). */
  budgetMs: number;
}

/**
 * finished: the job reached a final state; handed-over: out of time, the lease given up for the
 * next runner; not-ours: another runner holds it, or it was already final.
 */
export type BulkRunResult = { outcome: "finished" | "handed-over" | "not-ours"; job: BulkJob | undefined };

/** Dead-letter subqueue messages the canary check peeks per entity at most. */
const CANARY_PEEK_LIMIT = 1000;
/** Acts under way at once within a batch: one act waits on a file lock, an fsync and a send. */
const ACTS_IN_FLIGHT = 8;
/** Within a batch the job is saved (its lease renewed, a cancel seen) at most this often. */
const CHECK_EVERY_MS = 1_000;
/**
 * Slots missed (to a batch's saves and search) that may still be used late, back to back: the rate
 * is kept on average, never more than this many acts over it at any moment.
 */
const CATCH_UP_SLOTS = ACTS_IN_FLIGHT;

const defaultSleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Runs a bulk job from where it stands until it is final or `budgetMs` is spent. Exactly once per
 * record: each record moves out of `parked` by the actions' compare-and-set (a record someone else
 * resolved first is skipped); the job's saves are conditional on this runner's lease, so a second
 * runner of the same job cannot both proceed; records being acted on are written down before the
 * act, so a runner that takes over after a crash counts them and does not act on them again.
 * Within a batch up to ACTS_IN_FLIGHT records are acted on at once, each started in its turn.
 */
export async function runBulkJob(
  deps: BulkRunnerDeps,
  id: string,
  options: BulkRunOptions,
): Promise<BulkRunResult> {
  // Every run (a hand-over, a resume by the tick) works under the request that started the job, so
  // its log lines, audit and each record's resolution join that request's story.
  const requestId = (await deps.store.get(id))?.requestId;
  return requestId
    ? withRequestContext({ requestId }, () => runJob(deps, id, options))
    : runJob(deps, id, options);
}

async function runJob(
  deps: BulkRunnerDeps,
  id: string,
  { runnerId, budgetMs }: BulkRunOptions,
): Promise<BulkRunResult> {
  const { store, actions, vault, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const leaseMs = deps.leaseMs ?? 60_000;
  const deadline = now().getTime() + budgetMs;
  const lease = () => ({ runner: runnerId, until: new Date(now().getTime() + leaseMs).toISOString() });

  const claimed = await store.update(id, (job) => {
    if (FINAL_BULK_JOB_STATES.has(job.state)) return undefined;
    const held = job.lease && job.lease.runner !== runnerId && Date.parse(job.lease.until) > now().getTime();
    return held ? undefined : { ...job, lease: lease(), updatedAt: now().toISOString() };
  });
  if (!claimed.ok) return { outcome: "not-ours", job: claimed.job };
  let job = claimed.job;

  /** A conditional write as the lease holder; undefined when the lease was lost. */
  async function save(patch: (current: BulkJob) => Partial<BulkJob>): Promise<BulkJob | undefined> {
    const written = await store.update(id, (current) => {
      if (current.lease?.runner !== runnerId || FINAL_BULK_JOB_STATES.has(current.state)) return undefined;
      return { ...current, ...patch(current), lease: lease(), updatedAt: now().toISOString() };
    });
    return written.ok ? written.job : undefined;
  }

  async function show(final: boolean): Promise<void> {
    if (!deps.progress) return;
    try {
      const ref = await deps.progress.show(job, final);
      if (ref && !job.progress) {
        const saved = final
          ? (await store.update(id, (current) => ({ ...current, progress: ref }))).job
          : await save(() => ({ progress: ref }));
        if (saved) job = saved;
      }
    } catch (error) {
      logger.error("bulk job progress could not be shown", {
        job: id,
        errorMessage: (error as Error).message,
      });
    }
  }

  async function finish(state: BulkJobState, why?: string): Promise<BulkRunResult> {
    const ended = await save(() => ({
      state,
      ...(why ? { why } : {}),
      inFlight: [],
      finishedAt: now().toISOString(),
    }));
    if (!ended) return { outcome: "not-ours", job: await store.get(id) };
    job =
      (
        await store.update(id, (current) =>
          current.lease?.runner === runnerId ? { ...current, lease: undefined } : undefined,
        )
      ).job ?? ended;
    logger.info("bulk job ended", { job: id, state, counts: job.counts, ...(why ? { why } : {}) });
    await deps.audit
      ?.write({
        phase: "finished",
        requestId: job.requestId ?? `bulk-job:${id}`,
        time: now().toISOString(),
        source: "interaction",
        user: { id: job.requestedBy },
        command: `deadletter ${job.action} --job ${id}`,
        exitStatus: state === "done" ? 0 : "error",
        durationMs: Math.max(0, Date.parse(job.finishedAt ?? "") - Date.parse(job.createdAt)) || 0,
        output: bulkJobSummary(job),
      })
      .catch((error: Error) => logger.error("audit write failed", { job: id, errorMessage: error.message }));
    await show(true);
    return { outcome: "finished", job };
  }

  async function handOver(): Promise<BulkRunResult> {
    // The lease ends now, so the next runner (a re-dispatch, or the schedule's tick) starts at once.
    const given = await store.update(id, (current) =>
      current.lease?.runner === runnerId
        ? {
            ...current,
            lease: { runner: runnerId, until: now().toISOString() },
            updatedAt: now().toISOString(),
          }
        : undefined,
    );
    logger.info("bulk job handed over", { job: id, counts: job.counts });
    return { outcome: "handed-over", job: given.job ?? job };
  }

  // Paced to `rate` per second: each act waits for its slot, so acts ≤ rate × elapsed + 1 (slots
  // are never earlier than start + n × interval; late ones are caught up, CATCH_UP_SLOTS at most).
  const interval = 1000 / Math.max(job.rate, 0.001);
  let nextSlot = now().getTime();
  const checkEveryMs = Math.min(CHECK_EVERY_MS, leaseMs / 3);
  const canaryPhase = () => job.action === "replay" && job.canary > 0 && job.canaryPassedAt === undefined;
  const notOurs = async (): Promise<BulkRunResult> => ({ outcome: "not-ours", job: await store.get(id) });

  // A runner that crashed, or stalled past its lease, left the batch it was acting on: each record
  // it resolved is counted once here, never acted on again; the rest are acted on as this batch.
  if (job.inFlight.length > 0) {
    const counts = { ...job.counts };
    const parked: VaultRecord[] = [];
    for (const record of await Promise.all(job.inFlight.map((recordId) => vault.get(recordId)))) {
      if (record?.state === "parked") parked.push(record);
      else if (record && resolvedByJob(record.resolution?.note, id)) counts.done += 1;
      else if (record) counts.skipped += 1;
    }
    if (!(await actAndSave(parked, counts))) return notOurs();
  }

  for (;;) {
    if (job.cancelRequested) return finish("cancelled", `cancelled by ${job.cancelRequested.by}`);
    if (now().getTime() >= deadline) return handOver();

    if (job.state === "canary-wait") {
      const until = Date.parse(job.canaryUntil ?? "") || 0;
      const left = until - now().getTime();
      if (left > 0) {
        // In slices, renewing the lease and noticing a cancel; out of budget, the next runner waits on.
        const slice = Math.min(left, leaseMs / 3, Math.max(0, deadline - now().getTime()));
        if (slice <= 0) return handOver();
        await sleep(slice);
        const renewed = await save(() => ({}));
        if (!renewed) return notOurs();
        job = renewed;
        continue;
      }
      const again = await deadLetteredAgain(deps, job.canaries);
      if (again.length > 0) {
        return finish(
          "stopped",
          `canary dead-lettered again: ${again.map((c) => c.messageId).join(", ")} on ${again.map((c) => entityPath(c.entity)).join(", ")}`,
        );
      }
      const passed = await save(() => ({ state: "running", canaryPassedAt: now().toISOString() }));
      if (!passed) return notOurs();
      job = passed;
      logger.info("bulk job canary passed", { job: id, canaries: job.canaries.length });
      await show(false);
      continue;
    }

    // No more than fit in the time left at this rate: the runner hands over in time.
    const fits = Math.floor(((deadline - now().getTime()) / 1000) * job.rate);
    const batchSize = Math.max(1, Math.min(deps.batchSize ?? Math.max(10, Math.ceil(job.rate)), fits));
    const limit = canaryPhase() ? Math.min(batchSize, job.canary - job.canaries.length) : batchSize;
    const page =
      limit > 0
        ? await actions.search(
            job.filter,
            job.cursor === undefined ? { limit } : { limit, after: job.cursor },
          )
        : { records: [] as VaultRecord[] };
    if (limit <= 0 || page.records.length === 0) {
      if (canaryPhase() && job.canaries.length > 0) {
        const waiting = await startCanaryWait();
        if (!waiting) return notOurs();
        continue;
      }
      return finish("done");
    }

    // Written down before acting: a runner taking over after a crash counts these, never redoes them.
    const noted = await save(() => ({ inFlight: page.records.map((r) => r.id) }));
    if (!noted) return notOurs();
    job = noted;
    if (job.cancelRequested) continue;

    if (!(await actAndSave(page.records, { ...job.counts }))) return notOurs();
    if (canaryPhase() && job.canaries.length >= job.canary) {
      const waiting = await startCanaryWait();
      if (!waiting) return notOurs();
    }
    await show(false);
  }

  /**
   * Acts on a batch already written down in `inFlight`, then saves the counts (added to `counts`)
   * and the cursor, emptying `inFlight`. False: the lease was lost meanwhile.
   */
  async function actAndSave(records: readonly VaultRecord[], counts: BulkJob["counts"]): Promise<boolean> {
    const outcomes = await actOn(records);
    if (outcomes === "lost") return false;
    const canaries: BulkCanary[] = [...job.canaries];
    outcomes.forEach((outcome, index) => {
      const record = records[index] as VaultRecord;
      if (outcome.ok) {
        counts.done += 1;
        if (canaryPhase()) {
          canaries.push({
            recordId: record.id,
            messageId: record.message.messageId,
            cluster: record.cluster,
            entity: record.entity,
          });
        }
      } else if (outcome.reason === "already" && resolvedByJob(outcome.record?.resolution?.note, id)) {
        counts.done += 1; // a stalled runner of this job got there first: its act is counted here
      } else if (outcome.reason === "already" || outcome.reason === "missing") counts.skipped += 1;
      else {
        counts.failed += 1;
        logger.error("bulk job could not act on a record", {
          job: id,
          record: record.id,
          reason: outcome.reason,
        });
      }
    });
    // Stopped early (a cancel), the cursor stays at the last record acted on: the rest are untouched.
    const last = records[outcomes.length - 1];
    const saved = await save(() => ({
      counts,
      canaries,
      inFlight: [],
      ...(last ? { cursor: cursorOf(last) } : {}),
    }));
    if (!saved) return false;
    job = saved;
    return true;
  }

  async function startCanaryWait(): Promise<boolean> {
    const until = new Date(now().getTime() + job.canaryWaitSeconds * 1000).toISOString();
    const waiting = await save(() => ({ state: "canary-wait", canaryUntil: until }));
    if (!waiting) return false;
    job = waiting;
    logger.info("bulk job canary sent; waiting", { job: id, canaries: job.canaries.length, until });
    await show(false);
    return true;
  }

  /**
   * Acts on a batch's records in order, each started in its paced slot, up to ACTS_IN_FLIGHT under
   * way at once. Between starts, at most every `checkEveryMs`, the job is saved: the lease renewed,
   * a cancel seen (no more starts) or the lease found lost ("lost"). Every act started is waited
   * for, so the outcomes answered are those of the batch's first records, in order. An act that
   * throws stops the starts, and is thrown once the others have settled.
   */
  async function actOn(records: readonly VaultRecord[]): Promise<ActionOutcome[] | "lost"> {
    const outcomes: ActionOutcome[] = [];
    const running = new Set<Promise<void>>();
    const topicRules: TopicRulesMemo = new Map(); // a topic's rules are read once a batch
    let thrown: { error: unknown } | undefined;
    let lost = false;
    let checked: number | undefined;
    for (const [index, record] of records.entries()) {
      while (running.size >= ACTS_IN_FLIGHT) await Promise.race(running);
      const wait = nextSlot - now().getTime();
      if (wait > 0) await sleep(wait);
      // Counted from the first start: a batch of a second's worth is not saved in its middle too.
      checked ??= now().getTime();
      if (now().getTime() - checked >= checkEveryMs) {
        checked = now().getTime();
        const renewed = await save(() => ({}));
        if (!renewed) lost = true;
        else job = renewed;
      }
      if (thrown || lost || job.cancelRequested) break;
      nextSlot = Math.max(nextSlot, now().getTime() - CATCH_UP_SLOTS * interval) + interval;
      const acting: Promise<void> = act(record, topicRules)
        .then(
          (outcome) => {
            outcomes[index] = outcome;
          },
          (error: unknown) => {
            thrown ??= { error };
          },
        )
        .finally(() => running.delete(acting));
      running.add(acting);
    }
    await Promise.all(running);
    if (thrown) throw thrown.error;
    return lost ? "lost" : outcomes;
  }

  function act(record: VaultRecord, topicRules: TopicRulesMemo): Promise<ActionOutcome> {
    const via = { via: "command" } as const;
    return job.action === "replay"
      ? actions.replay(record.id, job.requestedBy, { ...via, note: bulkNote(job), topicRules })
      : actions.delete(record.id, job.requestedBy, bulkNote(job), via);
  }
}

/** The canaries that dead-lettered again: a newer vault record of the message, or it on the subqueue. */
async function deadLetteredAgain(
  deps: BulkRunnerDeps,
  canaries: readonly BulkCanary[],
): Promise<BulkCanary[]> {
  const again = new Set<BulkCanary>();
  for (const canary of canaries) {
    const records = await deps.vault.findByMessageId(canary.messageId, 10);
    if (records.some((r) => r.id !== canary.recordId)) again.add(canary);
  }
  if (deps.bus) {
    const byEntity = new Map<string, BulkCanary[]>();
    for (const canary of canaries) {
      const key = `${canary.cluster}\u0000${entityPath(canary.entity)}`;
      byEntity.set(key, [...(byEntity.get(key) ?? []), canary]);
    }
    for (const group of byEntity.values()) {
      const first = group[0] as BulkCanary;
      const connection = connectionFor(deps.connections ?? {}, first.cluster);
      if (connection === undefined) continue;
      const peeked = await deps.bus.peekDeadLetters(connection, first.entity, CANARY_PEEK_LIMIT);
      const ids = new Set(peeked.map((m) => m.messageId));
      for (const canary of group) if (ids.has(canary.messageId)) again.add(canary);
    }
  }
  return canaries.filter((c) => again.has(c));
}
