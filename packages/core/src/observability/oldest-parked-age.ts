import type { Vault } from "../deadletter/vault";

/**
 * Seconds the oldest parked dead letter has waited at `now`, 0 when none is parked (so the
 * alarm's datapoint returns to 0 once the last one is resolved). Read from the search index's
 * summaries: no record is read, however many are parked.
 */
export async function oldestParkedAgeSeconds(vault: Pick<Vault, "summaries">, now: Date): Promise<number> {
  let oldest = Number.POSITIVE_INFINITY;
  for (const summary of await vault.summaries({ state: "parked" })) {
    const time = Date.parse(summary.parkedAt);
    if (summary.state === "parked" && time < oldest) oldest = time;
  }
  return Number.isFinite(oldest) ? Math.max(0, Math.round((now.getTime() - oldest) / 1000)) : 0;
}
