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
  /** Most messages held under lock at once (one notification covers them). */
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

/** Resolves to the promise's value, or undefined once `ms` have passed (the promise runs on). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++] as T);
  });
  await Promise.all(workers);
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
    maxMessages = 5_000,
  } = options;
  const deadline = clock() + budgetMs - reserveMs;
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
    const notifiedIds = new Set(held.filter((h) => h.record.notification).map((h) => h.record.id));

    /** Marks `members` as covered by `notification`; the ids that stuck are completed later. */
    const markAll = async (members: readonly Held[], notification: NotificationRef) => {
      for (const h of members) {
        try {
          await vault.markNotified(h.record.id, notification);
          notifiedIds.add(h.record.id);
        } catch (error) {
          // The record will be notified again by a later drain: better twice than never.
          logger.error("vault markNotified failed", {
            record: h.record.id,
            errorMessage: (error as Error).message,
          });
        }
      }
    };

    /** One new notification for `members`. */
    const post = async (members: readonly Held[]) => {
      const notificationId = randomUUID();
      try {
        const message = buildDeadLetterNotification({
          cluster: target.cluster,
          namespace: target.namespace,
          entity: target.entity,
          records: members.map((h) => h.record),
          notificationId,
        });
        const posted = await chat.postMessage({
          channel: alertChannel,
          text: message.text,
          blocks: message.blocks,
        });
        report.notification ??= { channel: posted.channel, ts: posted.ts, id: notificationId };
        report.notified += members.length;
        const at = now().toISOString();
        await markAll(members, { channel: posted.channel, ts: posted.ts, id: notificationId, at });
      } catch (error) {
        logger.error("dead-letter notification failed", {
          entity: path,
          errorMessage: (error as Error).message,
        });
      }
    };

    /**
     * Adds `members` to an open notification and redraws it (count, reasons, first and last
     * parked); false when that failed, so the caller posts anew rather than leave them unannounced.
     */
    const join = async (members: readonly Held[], open: NotificationRef) => {
      await markAll(members, open);
      try {
        if (!(await redrawNotification({ vault, chat }, open.id))) return false;
        report.notified += members.length;
        report.grouped += members.length;
        return true;
      } catch (error) {
        logger.warn("grouped notification update failed; posting anew", {
          entity: path,
          notification: open.id,
          errorMessage: (error as Error).message,
        });
        return false;
      }
    };

    if (fresh.length > 0 && !(groupWindowMs > 0)) await post(fresh);
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
        if (!open || !(await join(members, open))) await post(members);
      }
    }

    // Settled in parallel: on a dead connection each settlement waits out the SDK's timeout, and
    // one by one that would outlast any budget. A message left unsettled keeps its lock until it
    // expires and comes back to the DLQ; its record says it was notified, so it is not notified again.
    const settleDeadline = clock() + reserveMs;
    await forEachLimited(held, SETTLE_CONCURRENCY, async (h) => {
      const action = notifiedIds.has(h.record.id) ? "complete" : "abandon";
      const settled = await withDeadline(
        settle(
          () => (action === "complete" ? h.locked.complete() : h.locked.abandon()),
          logger,
          action,
          h.record.id,
        ),
        settleDeadline - clock(),
      );
      if (settled === true) {
        if (action === "complete") report.completed++;
        else report.abandoned++;
      }
    });
  } finally {
    await receiver
      .close()
      .catch((error: Error) => logger.warn("receiver close failed", { errorMessage: error.message }));
  }
  logger.info("dead letters drained", { cluster: target.cluster, entity: path, ...report });
  return report;
}
