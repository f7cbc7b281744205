import { entityPath } from "../deadletter/dead-letter";
import type { EntityCount } from "../deadletter/dead-letter-stats";
import type { RecordSummary } from "../deadletter/vault";

/** One entity's parked dead letters: how many, and since when the oldest waits. */
export interface ParkedEntity extends EntityCount {
  /** The oldest one's `parkedAt`; absent when none of them has a readable time. */
  oldestParkedAt?: string;
  oldestAgeMs?: number;
}

export interface ParkedTally {
  total: number;
  /** Most dead letters first; ties by cluster, then entity (as `deadletter stats` orders them). */
  entities: ParkedEntity[];
}

/** Code-point order: the same on every machine, unlike `localeCompare`. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Parked dead letters by cluster and entity, with each entity's oldest age at `now`. Works on the
 * search index's summaries (`Vault.summaries`), so counting 10,000 records reads none of them.
 */
export function tallyParked(summaries: readonly RecordSummary[], now: Date): ParkedTally {
  const entities = new Map<string, ParkedEntity & { oldestTime?: number }>();
  let total = 0;
  for (const summary of summaries) {
    if (summary.state !== "parked") continue;
    total += 1;
    const entity = entityPath(summary.entity);
    const key = JSON.stringify([summary.cluster, entity]);
    let counted = entities.get(key);
    if (!counted) {
      counted = { cluster: summary.cluster, entity, count: 0 };
      entities.set(key, counted);
    }
    counted.count += 1;
    const time = Date.parse(summary.parkedAt);
    if (!Number.isNaN(time) && (counted.oldestTime === undefined || time < counted.oldestTime)) {
      counted.oldestTime = time;
      counted.oldestParkedAt = summary.parkedAt;
    }
  }
  return {
    total,
    entities: [...entities.values()]
      .map(({ oldestTime, ...entity }) =>
        oldestTime === undefined
          ? entity
          : { ...entity, oldestAgeMs: Math.max(0, now.getTime() - oldestTime) },
      )
      .sort((a, b) => b.count - a.count || compare(a.cluster, b.cluster) || compare(a.entity, b.entity)),
  };
}
