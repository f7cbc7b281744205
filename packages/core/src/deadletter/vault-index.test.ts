import { describe, expect, it } from "vitest";
import { matchesFilter, type RecordFilter } from "./record-filter";
import type { VaultRecord } from "./vault";
import { BODY_EXCERPT_CHARS, dayOf, entryOf, mapLimit, verdictOf } from "./vault-index";

const record: VaultRecord = {
  id: "abc123",
  cluster: "prod-eu",
  namespace: "sb-prod-eu",
  entity: { kind: "subscription", topic: "events", subscription: "audit" },
  parkedAt: "2025-03-01T10:00:00.000Z",
  state: "parked",
  version: 3,
  notification: { channel: "C1", ts: "1.2", id: "N1", at: "2025-03-01T10:01:00.000Z" },
  message: {
    messageId: "m-1",
    sequenceNumber: "1",
    enqueuedTime: "2025-03-01T09:00:00.000Z",
    deliveryCount: 10,
    deadLetterReason: "MaxDeliveryCountExceeded",
    deadLetterErrorDescription: "Handler threw NullReferenceException",
    body: { kind: "json", value: { orderId: 7, customer: "ACME Corp" } },
    applicationProperties: { tenant: "acme", attempt: 3, ok: false, none: null, ["__proto__"]: "odd" },
  },
};

/**
 * Sample values for every RecordFilter field, matching and not. Typed so that a new field cannot
 * be added to RecordFilter without samples here: the index must be able to answer it.
 */
const SAMPLES: { [K in keyof Required<RecordFilter>]: Required<RecordFilter>[K][] } = {
  state: ["parked", "replayed"],
  cluster: ["prod-eu", "prod-us"],
  entity: ["events/Subscriptions/audit", "orders"],
  notificationId: ["N1", "N2"],
  notified: [true, false],
  reminded: [true, false],
  reason: ["maxdelivery", "NULLREFERENCE", "ttl"],
  since: ["2025-03-01T10:00:00Z", "2025-03-01T10:00:00.001Z", "not a date"],
  until: ["2025-03-01T10:00:00.001Z", "2025-03-01T10:00:00Z"],
  where: [
    [{ key: "tenant", value: "acme" }],
    [{ key: "attempt", value: "3" }],
    [{ key: "ok", value: "false" }],
    [{ key: "none", value: "null" }],
    [{ key: "__proto__", value: "odd" }],
    [{ key: "tenant", value: "ACME" }],
    [{ key: "missing", value: "x" }],
  ],
  grep: ['"orderId":7', "acme corp", "absent"],
};

describe("index entries", () => {
  it("answer every filter field exactly as the record does", () => {
    const { notification: _none, ...unnotified } = record;
    const reminded: VaultRecord = { ...record, remindedAt: "2025-03-02T10:00:00.000Z" };
    for (const subject of [record, unnotified, reminded]) {
      const entry = entryOf(subject);
      for (const [field, values] of Object.entries(SAMPLES)) {
        for (const value of values) {
          const filter = { [field]: value } as RecordFilter;
          expect(verdictOf(entry, filter) === "match", `${field}=${JSON.stringify(value)}`).toBe(
            matchesFilter(subject, filter),
          );
        }
      }
    }
  });

  it("survive JSON, as they are stored", () => {
    const entry = JSON.parse(JSON.stringify(entryOf(record)));
    expect(verdictOf(entry, { where: [{ key: "__proto__", value: "odd" }] })).toBe("match");
    expect(verdictOf(entry, { where: [{ key: "tenant", value: "acme" }], grep: "ACME" })).toBe("match");
  });

  it("keep a bounded excerpt of a long body: a match in it counts, a miss must be read", () => {
    const long: VaultRecord = {
      ...record,
      message: { ...record.message, body: { kind: "text", text: `${"a".repeat(BODY_EXCERPT_CHARS)}tail` } },
    };
    const entry = entryOf(long);
    expect(entry.message.body.text).toHaveLength(BODY_EXCERPT_CHARS);
    expect(entry.truncated).toBe(true);
    expect(verdictOf(entry, { grep: "aaa" })).toBe("match");
    expect(verdictOf(entry, { grep: "tail" })).toBe("maybe");
    // Everything but the body already rules it out: nothing to read.
    expect(verdictOf(entry, { grep: "tail", state: "deleted" })).toBe("no");
    expect(entryOf(record).truncated).toBeUndefined();
  });

  it("file records by UTC day of the instant; an unreadable time on day 0, as the listing orders it", () => {
    expect(dayOf("2025-03-01T00:00:00.000Z")).toBe(dayOf("2025-03-01T23:59:59.999Z"));
    expect(dayOf("2025-03-01T01:00:00+02:00")).toBe(dayOf("2025-02-28T23:00:00Z"));
    expect(dayOf("nonsense")).toBe(0);
  });
});

describe("mapLimit", () => {
  it("keeps order and runs at most `limit` at once", async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((done) => setTimeout(done, n));
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
