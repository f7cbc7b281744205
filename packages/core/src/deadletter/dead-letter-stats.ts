import { entityPath } from "./dead-letter";
import type { VaultRecord, VaultState } from "./vault";

/** Dead letters of one cluster's queue or subscription. */
export interface EntityCount {
  cluster: string;
  /** `orders` or `events/Subscriptions/audit`, as `--entity` takes it. */
  entity: string;
  count: number;
}

/** Dead letters with one dead-letter reason; `null` for those Service Bus gave none. */
export interface ReasonCount {
  reason: string | null;
  count: number;
}

/** What `victoria deadletter stats` reports about a set of vault records. */
export interface DeadLetterStats {
  total: number;
  /** Every vault state, those with no record included (0). */
  byState: Record<VaultState, number>;
  /** Most dead letters first; ties by cluster, then entity. */
  byEntity: EntityCount[];
  /** Most dead letters first; ties by reason, no reason last. */
  byReason: ReasonCount[];
  /** The parked record parked longest ago, and how long ago; `null` when nothing is parked. */
  oldestParked: { id: string; parkedAt: string; ageMs: number } | null;
  /** resolution.at − parkedAt over the records moved out of `parked`. */
  timeToResolve: {
    /** Records that were resolved and have both timestamps (the median's sample). */
    resolved: number;
    /** `null` when there is no resolved record. */
    medianMs: number | null;
  };
}

/** A Record so the compiler notices a new vault state. */
const NO_STATES: Record<VaultState, number> = { parked: 0, replayed: 0, emailed: 0, deleted: 0 };

/** Code-point order: the same on every machine, unlike `localeCompare`. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The middle value, or the mean of the two middle ones for an even count; `null` for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

/**
 * Counts by state, by cluster/entity and by dead-letter reason, the oldest parked record's age at
 * `now`, and the median time to resolve. Pure: the caller lists the records (and says whether they
 * are all of them). A timestamp that does not parse leaves the record out of the age figures only;
 * a resolution timed before its parking (clock skew) counts as 0.
 */
export function deadLetterStats(records: readonly VaultRecord[], now: Date): DeadLetterStats {
  const byState = { ...NO_STATES };
  const entities = new Map<string, EntityCount>();
  const reasons = new Map<string | null, number>();
  const resolveTimes: number[] = [];
  let oldest: { record: VaultRecord; time: number } | undefined;

  for (const record of records) {
    byState[record.state] += 1;

    const entity = entityPath(record.entity);
    const key = JSON.stringify([record.cluster, entity]);
    const counted = entities.get(key);
    if (counted) counted.count += 1;
    else entities.set(key, { cluster: record.cluster, entity, count: 1 });

    const reason = record.message.deadLetterReason ?? null;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);

    const parkedAt = Date.parse(record.parkedAt);
    if (Number.isNaN(parkedAt)) continue;
    if (record.state === "parked") {
      // A parked record may carry a resolution (an action whose effect failed put it back): still open.
      if (!oldest || parkedAt < oldest.time) oldest = { record, time: parkedAt };
    } else if (record.resolution) {
      const resolvedAt = Date.parse(record.resolution.at);
      if (!Number.isNaN(resolvedAt)) resolveTimes.push(Math.max(0, resolvedAt - parkedAt));
    }
  }

  return {
    total: records.length,
    byState,
    byEntity: [...entities.values()].sort(
      (a, b) => b.count - a.count || compare(a.cluster, b.cluster) || compare(a.entity, b.entity),
    ),
    byReason: [...reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.reason === null ? 1 : 0) - (b.reason === null ? 1 : 0) ||
          compare(a.reason ?? "", b.reason ?? ""),
      ),
    oldestParked: oldest
      ? {
          id: oldest.record.id,
          parkedAt: oldest.record.parkedAt,
          ageMs: Math.max(0, now.getTime() - oldest.time),
        }
      : null,
    timeToResolve: { resolved: resolveTimes.length, medianMs: median(resolveTimes) },
  };
}
