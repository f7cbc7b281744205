import { randomUUID } from "node:crypto";
import type { Logger } from "../logging/json-logger";
import type { Chat } from "../ports";
import { type Bus, EntityNotFoundError, type LockedMessage } from "./bus";
import { type EntityRef, entityPath } from "./dead-letter";
import { buildDeadLetterNotification } from "./notification-blocks";
import { byReason, findOpenNotification, type NotificationRef } from "./notification-groups";
import { redrawNotification } from "./notification-redraw";
import type { Vault, VaultRecord } from "./vault";
import { vaultRecordId } from "./vault-record-id";

export interface DrainTarget {
  cluster: string;
  namespace: string;
  entity: EntityRef;
  connection: string;
}

export interface DrainDeps {
  bus: Bus;
  vault: Vault;
  chat: Chat;
  alertChannel: string;
  logger: Logger;
  now?: () => Date;
  /** Monotonic milliseconds, for the time budget. */
  clock?: () => number;
  /**
   * DEAD_LETTER_GROUP_WINDOW: dead letters of an entity with a reason that a notification posted
   * less than this long ago already covers join it (redrawn) instead of a new post; 0 or absent:
   * one new notification per drain.
   */
  groupWindowMs?: number;
}

export interface DrainOptions {
  /** Milliseconds this drain may take; receiving stops early enough to notify and settle. */
  budgetMs: number;
  /** Time kept back from the budget for posting to Slack and completing. */
  reserveMs?: number;
  batchSize?: number;
  /** How long one receive waits for the first message. */
  waitMs?: number;
  /**
   * Most messages held under lock at once (one notification covers them); at most
   * `MAX_HELD_MESSAGES`, whatever is asked.
   */
  maxMessages?: number;
}

export interface DrainReport {
  received: number;
  parked: number;
  /** Covered by a notification this drain posted or updated. */
  notified: number;
  /** Already notified by an earlier drain (completed without a second notification). */
  alreadyNotified: number;
  /** Of `notified`, those added to an open notification of their entity and reason (not posted anew). */
  grouped: number;
  completed: number;
  abandoned: number;
  /** The first notification this drain posted (a drain with several reasons may post one per reason). */
  notification?: { channel: string; ts: string; id: string };
  /** `entity-not-found`: the queue or subscription does not exist (nothing could be drained). */
  stoppedBy: "empty" | "budget" | "max-messages" | "error" | "entity-not-found";
}

const SETTLE_CONCURRENCY = 16;

/**
 * A receiver link keeps its unsettled deliveries in rhea's session window of 2,048 (hence the
 * SDK's peek-lock cap of 2,047 a receive): a delivery pushed out of it can no longer be settled
 * on the link, and its complete waits until the connection goes, the message locked meanwhile.
 * Holding 5,000 left 2,048 of each round locked when the job ended. A bigger backlog is drained
 * in rounds (drain-jobs.ts), grouped into one notification.
 */
export const MAX_HELD_MESSAGES = 2_000;

/** Resolves to the promise's value, or undefined once `ms` have passed (the promise runs on). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs tasks as they are added, at most `limit` at a time, in the order added; `idle()` resolves
 * once every task added so far has run.
 */
function createTaskQueue(limit: number) {
  const waiting: Array<() => Promise<void>> = [];
  const workers = new Set<Promise<void>>();
  const work = async () => {
    for (let task = waiting.shift(); task; task = waiting.shift()) await task();
  };
  return {
    add(task: () => Promise<void>) {
      waiting.push(task);
      if (workers.size >= limit) return;
      const worker = work().finally(() => workers.delete(worker));
      workers.add(worker);
    },
    async idle() {
      while (workers.size > 0) await Promise.all(workers);
    },
  };
}

interface Held {
  locked: LockedMessage;
  record: VaultRecord;
}

async function settle(
  action: () => Promise<void>,
  logger: Logger,
  what: string,
  id: string,
): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    logger.warn(`${what} failed`, {
      record: id,
      errorName: (error as Error).name,
      errorMessage: (error as Error).message,
    });
    return false;
  }
}

/**
 * Drains an entity's dead-letter subqueue so that nothing is lost: each message is parked in the
 * vault, then one Slack notification covers the drain, and only then is each message completed.
 * Any failure before that abandons the lock, so the message stays on the bus for the next drain;
 * a message whose record was already notified is completed without notifying twice.
 */
export async function drainDeadLetters(
  deps: DrainDeps,
  target: DrainTarget,
  options: DrainOptions,
): Promise<DrainReport> {
  const {
    bus,
    vault,
    chat,
    alertChannel,
    logger,
    now = () => new Date(),
    clock = () => performance.now(),
    groupWindowMs = 0,
  } = deps;
  const {
    budgetMs,
    reserveMs = Math.min(5_000, budgetMs / 3),
    batchSize = 50,
    waitMs = 1_000,
    maxMessages: askedMax = MAX_HELD_MESSAGES,
  } = options;
  const maxMessages = Math.min(askedMax, MAX_HELD_MESSAGES);
  const budgetEnd = clock() + budgetMs;
  const deadline = budgetEnd - reserveMs;
  const startedAt = now().toISOString();
  const report: DrainReport = {
    received: 0,
    parked: 0,
    notified: 0,
    alreadyNotified: 0,
    grouped: 0,
    completed: 0,
    abandoned: 0,
    stoppedBy: "empty",
  };
  // Keyed by record: a message whose lock expired mid-drain comes round again, and only its
  // newest lock can settle it (and it must be notified once, not once per delivery).
  const heldById = new Map<string, Held>();
  const path = entityPath(target.entity);
  const receiver = await bus.receiver(target.connection, target.entity, { deadLetter: true });

  const abandon = async (items: readonly Held[] | readonly LockedMessage[]) => {
    for (const item of items) {
      const locked = "locked" in item ? item.locked : item;
      if (await settle(() => locked.abandon(), logger, "abandon", locked.message.messageId))
        report.abandoned++;
    }
  };

  try {
    for (;;) {
      const left = deadline - clock();
      if (left <= 0) {
        report.stoppedBy = "budget";
        break;
      }
      if (heldById.size >= maxMessages) {
        report.stoppedBy = "max-messages";
        break;
      }
      let batch: LockedMessage[] | undefined;
      try {
        // A receive on a broken connection can retry for longer than the budget allows.
        batch = await withDeadline(
          receiver.receive(Math.min(batchSize, maxMessages - heldById.size), Math.min(waitMs, left)),
          left + waitMs,
        );
        if (batch === undefined) throw new Error("receive did not finish within the time budget");
      } catch (error) {
        logger.error("dead-letter receive failed", { entity: path, errorMessage: (error as Error).message });
        report.stoppedBy = error instanceof EntityNotFoundError ? "entity-not-found" : "error";
        break;
      }
      if (batch.length === 0) break;
      report.received += batch.length;
      for (const [index, locked] of batch.entries()) {
        try {
          const { record, created } = await vault.park({
            id: vaultRecordId(target.cluster, target.entity, locked.message),
            cluster: target.cluster,
            namespace: target.namespace,
            entity: target.entity,
            parkedAt: now().toISOString(),
            message: locked.message,
          });
          if (created) report.parked++;
          heldById.set(record.id, { locked, record });
        } catch (error) {
          // The vault is unusable: keep every message of this batch on the bus and stop.
          logger.error("vault park failed", { entity: path, errorMessage: (error as Error).message });
          await abandon(batch.slice(index));
          report.stoppedBy = "error";
          break;
        }
      }
      if (report.stoppedBy === "error") break;
    }

    const held = [...heldById.values()];
    const fresh = held.filter((h) => !h.record.notification);
    report.alreadyNotified = held.length - fresh.length;

    // Each message is settled as soon as its fate is known: completed right after its record is
    // marked notified (so completions overlap the marking instead of following all of it), or
    // abandoned. Settling may run to the end of the budget (or `reserveMs` past Slack's first
    // answer, should receiving and notifying have used the budget up), never past a message's lock:
    // once that is gone the message is back on the DLQ, its record already notified, and the next
    // drain completes it without notifying again.
    let settleEnd = Math.max(budgetEnd, clock() + reserveMs);
    let slackAnswered = false;
    /** A slow Slack (a 429's Retry-After) must not eat the time kept for settling. */
    const afterSlack = () => {
      if (slackAnswered) return;
      slackAnswered = true;
      settleEnd = Math.max(settleEnd, clock() + reserveMs);
    };
    const settling = createTaskQueue(SETTLE_CONCURRENCY);
    /**
     * Abandoned only once every completion is settled: rhea (3.0.5) merges the dispositions of
     * adjacent deliveries written together into one range with the first one's outcome, even when
     * the next one's differs, so an abandon right after a complete could complete its message.
     */
    const toAbandon: Held[] = [];
    const settleLater = (h: Held, action: "complete" | "abandon") => {
      if (action === "abandon") toAbandon.push(h);
      else settleNow(h, action);
    };
    const settleNow = (h: Held, action: "complete" | "abandon") =>
      settling.add(async () => {
        // The lock's expiry is the broker's wall-clock time (not `now`, which stamps records).
        const lockedUntil = h.locked.lockedUntil?.()?.getTime();
        const left = Math.min(
          settleEnd - clock(),
          lockedUntil === undefined ? Number.POSITIVE_INFINITY : lockedUntil - Date.now(),
        );
        if (left <= 0) return;
        // On a dead connection a settlement waits out the SDK's timeout; past the deadline it runs
        // on unawaited (a message left unsettled keeps its lock until it expires).
        const settled = await withDeadline(
          settle(
            () => (action === "complete" ? h.locked.complete() : h.locked.abandon()),
            logger,
            action,
            h.record.id,
          ),
          left,
        );
        if (settled === true) {
          if (action === "complete") report.completed++;
          else report.abandoned++;
        }
      });

    for (const h of held) if (h.record.notification) settleLater(h, "complete");

    /** Marks each member as covered by `notification`, completing its message once that stuck. */
    const markAll = async (members: readonly Held[], notification: NotificationRef) => {
      for (const h of members) {
        try {
          await vault.markNotified(h.record.id, notification);
        } catch (error) {
          // The record will be notified again by a later drain: better twice than never.
          logger.error("vault markNotified failed", {
            record: h.record.id,
            errorMessage: (error as Error).message,
          });
          settleLater(h, "abandon");
          continue;
        }
        settleLater(h, "complete");
      }
    };

    /** One new notification for `members`; false when it could not be posted. */
    const post = async (members: readonly Held[]) => {
      const notificationId = randomUUID();
      let posted: { channel: string; ts: string };
      try {
        const message = buildDeadLetterNotification({
          cluster: target.cluster,
          namespace: target.namespace,
          entity: target.entity,
          records: members.map((h) => h.record),
          notificationId,
        });
        posted = await chat.postMessage({
          channel: alertChannel,
          text: message.text,
          blocks: message.blocks,
        });
      } catch (error) {
        afterSlack();
        logger.error("dead-letter notification failed", {
          entity: path,
          errorMessage: (error as Error).message,
        });
        return false;
      }
      afterSlack();
      report.notification ??= { channel: posted.channel, ts: posted.ts, id: notificationId };
      report.notified += members.length;
      const at = now().toISOString();
      await markAll(members, { channel: posted.channel, ts: posted.ts, id: notificationId, at });
      return true;
    };

    /**
     * Adds `members` to an open notification: redrawn with them first (count, reasons, first and
     * last parked), then each marked; false when the redraw failed (nothing marked), so the caller
     * posts anew rather than leave them unannounced.
     */
    const join = async (members: readonly Held[], open: NotificationRef) => {
      try {
        const joining = members.map((h) => h.record);
        const redrawn = await redrawNotification({ vault, chat }, open.id, joining).finally(afterSlack);
        if (!redrawn) return false;
      } catch (error) {
        logger.warn("grouped notification update failed; posting anew", {
          entity: path,
          notification: open.id,
          errorMessage: (error as Error).message,
        });
        return false;
      }
      report.notified += members.length;
      report.grouped += members.length;
      await markAll(members, open);
      return true;
    };

    /** Notified by a new post, or else its messages stay on the bus for the next drain. */
    const postOrAbandon = async (members: readonly Held[]) => {
      if (!(await post(members))) for (const h of members) settleLater(h, "abandon");
    };

    if (fresh.length > 0 && !(groupWindowMs > 0)) await postOrAbandon(fresh);
    else {
      // Same entity and reason within the window: one notification, updated, not a post per drain.
      for (const [reason, members] of byReason(fresh)) {
        const open = await findOpenNotification(vault, target, reason, now(), groupWindowMs, startedAt).catch(
          (error: Error) => {
            logger.warn("open notification lookup failed; posting anew", {
              entity: path,
              errorMessage: error.message,
            });
            return undefined;
          },
        );
        if (!open || !(await join(members, open))) await postOrAbandon(members);
      }
    }
    await settling.idle();
    for (const h of toAbandon) settleNow(h, "abandon");
    await settling.idle();
  } finally {
    await receiver
      .close()
      .catch((error: Error) => logger.warn("receiver close failed", { errorMessage: error.message }));
  }
  logger.info("dead letters drained", { cluster: target.cluster, entity: path, ...report });
  return report;
}
