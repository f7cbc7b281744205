/** Remembers which deliveries were already taken, so retries and duplicates run once. */
export interface DedupeStore {
  /** Resolves true for the first claim of `key` within `ttlMs`, false for every later one. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim back (the work could not be handed off), so Slack's retry is taken. */
  release(key: string): Promise<void>;
}

/**
 * In-memory, for the local server and a single warm Lambda container. Expired keys are swept as
 * new ones arrive, and the map is bounded so a flood cannot grow it without limit.
 *
 * Claims are kept in arrival order in an array beside the map, because that is expiry order while
 * every claim uses the same TTL: a sweep reads from the oldest and stops at the first live one.
 * (Iterating the Map itself from the front would not do: V8 leaves deleted entries as holes that
 * every new iterator walks again, which made a claim cost ~70 µs once the store was full.)
 */
export function createMemoryDedupeStore({ now = Date.now, maxEntries = 50_000 } = {}): DedupeStore {
  const expiries = new Map<string, number>();
  // Claims oldest first; an entry is stale once its key was released or claimed again.
  const order: { key: string; expiry: number }[] = [];
  let head = 0;
  /** Forgets the oldest claim; false when there is none left. */
  const dropOldest = (): boolean => {
    const oldest = order[head];
    if (oldest === undefined) return false;
    head += 1;
    if (expiries.get(oldest.key) === oldest.expiry) expiries.delete(oldest.key);
    return true;
  };
  return {
    async claim(key, ttlMs) {
      const at = now();
      const expiry = expiries.get(key);
      if (expiry !== undefined && expiry > at) return false;
      while ((order[head]?.expiry ?? Number.POSITIVE_INFINITY) <= at) dropOldest();
      // Still full of live keys: drop the oldest.
      while (expiries.size >= maxEntries && dropOldest()) {}
      // Reclaim the consumed front of the array now and then (amortized O(1) per claim).
      if (head > 1024 && head * 2 > order.length) {
        order.splice(0, head);
        head = 0;
      }
      expiries.set(key, at + ttlMs);
      order.push({ key, expiry: at + ttlMs });
      return true;
    },
    async release(key) {
      expiries.delete(key);
    },
  };
}
