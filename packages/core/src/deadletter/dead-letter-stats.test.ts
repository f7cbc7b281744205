import { describe, expect, it } from "vitest";
import type { EntityRef } from "./dead-letter";
import { deadLetterStats, median } from "./dead-letter-stats";
import type { VaultRecord, VaultState } from "./vault";

const NOW = new Date("2024-05-02T00:00:00.000Z");

function record(
  id: string,
  parkedAt: string,
  {
    state = "parked",
    cluster = "east",
    entity = { kind: "queue", queue: "orders" },
    reason = "MaxDeliveryCountExceeded",
    resolvedAt,
  }: {
    state?: VaultState;
    cluster?: string;
    entity?: EntityRef;
    /** `null`: Service Bus gave no reason. */
    reason?: string | null;
    resolvedAt?: string;
  } = {},
): VaultRecord {
  return {
    id,
    cluster,
    namespace: `sb-${cluster}`,
    entity,
    parkedAt,
    state,
    version: state === "parked" ? 1 : 2,
    ...(resolvedAt ? { resolution: { by: "cli:alice", at: resolvedAt } } : {}),
    message: {
      messageId: `msg-${id}`,
      sequenceNumber: "1",
      enqueuedTime: parkedAt,
      deliveryCount: 10,
      ...(reason === null ? {} : { deadLetterReason: reason }),
      body: { kind: "empty" },
      applicationProperties: {},
    },
  };
}

describe("median", () => {
  it("is the middle value of an odd count, the mean of the two middle ones of an even count", () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 30, 20])).toBe(25);
    expect(median([5, 5, 1, 100])).toBe(5);
  });
});

describe("deadLetterStats", () => {
  it("answers zeros and nulls for no records, every state listed", () => {
    expect(deadLetterStats([], NOW)).toEqual({
      total: 0,
      byState: { parked: 0, replayed: 0, emailed: 0, deleted: 0 },
      byEntity: [],
      byReason: [],
      oldestParked: null,
      timeToResolve: { resolved: 0, medianMs: null },
    });
  });

  it("counts by state, by cluster/entity and by reason, most first", () => {
    const audit: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };
    const stats = deadLetterStats(
      [
        record("a", "2024-05-01T10:00:00.000Z"),
        record("b", "2024-05-01T11:00:00.000Z", { reason: null }),
        record("c", "2024-05-01T12:00:00.000Z", {
          cluster: "west",
          entity: audit,
          reason: "Poison",
          state: "replayed",
          resolvedAt: "2024-05-01T12:10:00.000Z",
        }),
        record("d", "2024-05-01T13:00:00.000Z", { cluster: "west", entity: audit, state: "deleted" }),
        // Same entity name on another cluster: counted apart.
        record("e", "2024-05-01T14:00:00.000Z", { cluster: "west", state: "emailed", reason: "Poison" }),
        record("f", "2024-05-01T15:00:00.000Z", { reason: null }),
      ],
      NOW,
    );
    expect(stats.total).toBe(6);
    expect(stats.byState).toEqual({ parked: 3, replayed: 1, emailed: 1, deleted: 1 });
    expect(stats.byEntity).toEqual([
      { cluster: "east", entity: "orders", count: 3 },
      { cluster: "west", entity: "events/Subscriptions/audit", count: 2 },
      { cluster: "west", entity: "orders", count: 1 },
    ]);
    // Ties by name; no reason after the named ones.
    expect(stats.byReason).toEqual([
      { reason: "MaxDeliveryCountExceeded", count: 2 },
      { reason: "Poison", count: 2 },
      { reason: null, count: 2 },
    ]);
  });

  it("ages the oldest parked record, ignoring older resolved ones and parked ones with a resolution", () => {
    const stats = deadLetterStats(
      [
        record("old", "2024-04-01T00:00:00.000Z", {
          state: "deleted",
          resolvedAt: "2024-04-01T01:00:00.000Z",
        }),
        record("mid", "2024-05-01T20:47:30.000Z"),
        // Put back to parked after a failed replay: still open, and not a resolution.
        record("back", "2024-05-01T22:00:00.000Z", { resolvedAt: "2024-05-01T22:01:00.000Z" }),
        record("bad", "not a date"),
      ],
      NOW,
    );
    expect(stats.oldestParked).toEqual({
      id: "mid",
      parkedAt: "2024-05-01T20:47:30.000Z",
      ageMs: (3 * 3600 + 12 * 60 + 30) * 1000,
    });
    expect(stats.timeToResolve).toEqual({ resolved: 1, medianMs: 3_600_000 });
    expect(stats.byState.parked).toBe(3);
  });

  it("takes the median time to resolve over an odd and an even count of resolved records", () => {
    const resolved = (id: string, minutes: number, state: VaultState = "replayed") =>
      record(id, "2024-05-01T00:00:00.000Z", {
        state,
        resolvedAt: new Date(Date.parse("2024-05-01T00:00:00.000Z") + minutes * 60_000).toISOString(),
      });
    const odd = [resolved("a", 5), resolved("b", 60, "deleted"), resolved("c", 10, "emailed")];
    expect(deadLetterStats(odd, NOW).timeToResolve).toEqual({ resolved: 3, medianMs: 10 * 60_000 });
    const even = [...odd, resolved("d", 20)];
    expect(deadLetterStats(even, NOW).timeToResolve).toEqual({ resolved: 4, medianMs: 15 * 60_000 });
  });

  it("leaves out unparseable times and counts a resolution before its parking as 0", () => {
    const stats = deadLetterStats(
      [
        record("skew", "2024-05-01T10:00:00.000Z", {
          state: "replayed",
          resolvedAt: "2024-05-01T09:59:00.000Z",
        }),
        record("junk", "2024-05-01T10:00:00.000Z", { state: "deleted", resolvedAt: "yesterday" }),
        // Resolved without a resolution (hand-edited record): counted, but no time to resolve.
        record("bare", "2024-05-01T10:00:00.000Z", { state: "emailed" }),
      ],
      NOW,
    );
    expect(stats.timeToResolve).toEqual({ resolved: 1, medianMs: 0 });
    expect(stats.oldestParked).toBeNull();
    expect(stats.total).toBe(3);
  });

  it("ages a record parked in the future (clock skew) as 0", () => {
    const stats = deadLetterStats([record("f", "2024-05-03T00:00:00.000Z")], NOW);
    expect(stats.oldestParked?.ageMs).toBe(0);
  });
});
