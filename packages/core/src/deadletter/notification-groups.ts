import { type EntityRef, entityPath } from "./dead-letter";
import type { Vault, VaultRecord } from "./vault";

/** The notification a record is covered by (`VaultRecord.notification`). */
export type NotificationRef = NonNullable<VaultRecord["notification"]>;

/** Records a group search looks at: the newest of the entity with the reason; enough to find an open one. */
const LOOK_BACK = 50;

/**
 * The notification that new dead letters of this entity with this reason should join instead of a
 * new post: the newest one covering a record of the same cluster, entity and exact reason, first
 * posted less than `windowMs` ago. Grouping this way needs no store of its own: the vault's records
 * say which notification covers what. Two drains racing may each post one (never fewer than needed).
 */
export async function findOpenNotification(
  vault: Vault,
  where: { cluster: string; entity: EntityRef },
  reason: string | undefined,
  now: Date,
  windowMs: number,
  /**
   * Only records parked before this instant (the drain's start): the drain's own records, just
   * parked and not yet notified, would otherwise fill the look-back and hide the open notification.
   */
  before?: string,
): Promise<NotificationRef | undefined> {
  if (!(windowMs > 0)) return undefined;
  const since = new Date(now.getTime() - windowMs).toISOString();
  // `reason` narrows by substring; the exact match is checked here (no reason at all included).
  const { records } = await vault.search(
    {
      cluster: where.cluster,
      entity: entityPath(where.entity),
      since,
      ...(before ? { until: before } : {}),
      ...(reason ? { reason } : {}),
    },
    { limit: LOOK_BACK },
  );
  const cutoff = now.getTime() - windowMs;
  return records.find(
    (r) =>
      r.notification !== undefined &&
      (r.message.deadLetterReason ?? undefined) === reason &&
      Date.parse(r.notification.at) >= cutoff,
  )?.notification;
}

/** Records split by dead-letter reason, in first-seen order (no reason is a group of its own). */
export function byReason<T extends { record: VaultRecord }>(
  items: readonly T[],
): Map<string | undefined, T[]> {
  const groups = new Map<string | undefined, T[]>();
  for (const item of items) {
    const reason = item.record.message.deadLetterReason || undefined;
    const group = groups.get(reason);
    if (group) group.push(item);
    else groups.set(reason, [item]);
  }
  return groups;
}
