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
 */
export function createMemoryDedupeStore({ now = Date.now, maxEntries = 50_000 } = {}): DedupeStore {
  const expiries = new Map<string, number>();
  return {
    async claim(key, ttlMs) {
      const at = now();
      const expiry = expiries.get(key);
      if (expiry !== undefined && expiry > at) return false;
      // Map keeps insertion order, which is expiry order while every claim uses the same TTL: sweep
      // from the oldest and stop at the first live key, so a claim costs O(1) amortized, never a
      // walk over every key a busy hour left behind.
      for (const [k, e] of expiries) {
        if (e > at) break;
        expiries.delete(k);
      }
      // Still full of live keys: drop the oldest.
      while (expiries.size >= maxEntries) expiries.delete(expiries.keys().next().value as string);
      expiries.delete(key);
      expiries.set(key, at + ttlMs);
      return true;
    },
    async release(key) {
      expiries.delete(key);
    },
  };
}
