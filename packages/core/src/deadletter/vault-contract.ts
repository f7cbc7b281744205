import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeadLetter, EntityRef } from "./dead-letter";
import { matchesFilter, type RecordFilter } from "./record-filter";
import type { NewVaultRecord, Vault, VaultRecord, VaultState } from "./vault";
import { BODY_EXCERPT_CHARS, dayOf, entryOf } from "./vault-index";
import { vaultRecordId } from "./vault-record-id";

/**
 * What a test does behind a vault's back, to set up what a crash or an older version leaves:
 * records without their index, index objects without their record.
 */
export interface VaultBackdoor {
  /** Stores a record as a vault without the search index did: no change marker, no index entry. */
  putRecordUnindexed(record: VaultRecord): Promise<void>;
  /** Writes an object of the search index (name relative to its folder, e.g. `changes/<id>.1`). */
  putIndexObject(name: string, text: string): Promise<void>;
  /** The names of the search index's objects, relative to its folder, in name order. */
  indexNames(): Promise<string[]>;
  /** Another vault over the same store, as another process (another Lambda) would open it. */
  twin(): Vault;
}

/** How a test wants its vault's search index tuned. */
export interface VaultTuning {
  index?: { compactAfter?: number };
}

/** A fresh, empty vault per test, how to dispose of it, and a way behind its back. */
export type MakeVault = (
  tuning?: VaultTuning,
) => Promise<{ vault: Vault; dispose?: () => Promise<void>; backdoor: VaultBackdoor }>;

const queue: EntityRef = { kind: "queue", queue: "orders" };

/** A new record for the contract; `n` makes the message (and so the id) distinct. */
export function sampleRecord(n: number, overrides: Partial<NewVaultRecord> = {}): NewVaultRecord {
  const message: DeadLetter = {
    messageId: `msg-${n}`,
    sequenceNumber: String(1000 + n),
    enqueuedTime: "2025-01-02T03:04:05.000Z",
    deliveryCount: 10,
    deadLetterReason: "MaxDeliveryCountExceeded",
    body: { kind: "text", text: `body ${n}` },
    applicationProperties: {},
  };
  const entity = overrides.entity ?? queue;
  const cluster = overrides.cluster ?? "prod-eu";
  return {
    id: vaultRecordId(cluster, entity, overrides.message ?? message),
    cluster,
    namespace: "sb-prod-eu",
    entity,
    parkedAt: `2025-01-02T03:04:${String(5 + (n % 50)).padStart(2, "0")}.000Z`,
    message,
    ...overrides,
  };
}

const notification = (id: string) => ({
  channel: "C0ALERTS",
  ts: "1700000000.000100",
  id,
  at: "2025-01-02T04:00:00.000Z",
});
const resolution = (by: string) => ({ by, at: "2025-01-02T05:00:00.000Z", note: `by ${by}` });

/**
 * The behaviour every Vault must have. Each adapter's test file calls this with a factory that
 * gives every test an empty vault (a fresh folder, a fresh S3 prefix).
 */
export function vaultContract(name: string, makeVault: MakeVault): void {
  describe(`${name}: Vault contract`, () => {
    let vault: Vault;
    let backdoor: VaultBackdoor;
    let dispose: (() => Promise<void>) | undefined;
    const disposals: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      ({ vault, dispose, backdoor } = await makeVault());
    });
    afterEach(async () => {
      await dispose?.();
      for (const more of disposals.splice(0)) await more();
    });

    /** Another vault for one test, tuned (it is disposed of with the test). */
    async function tunedVault(tuning: VaultTuning) {
      const made = await makeVault(tuning);
      if (made.dispose) disposals.push(made.dispose);
      return made;
    }

    describe("park", () => {
      it("stores a new record as parked, version 1, and says it created it", async () => {
        const fresh = sampleRecord(1);
        const { record, created } = await vault.park(fresh);
        expect(created).toBe(true);
        expect(record).toEqual({ ...fresh, state: "parked", version: 1 });
        expect(await vault.get(fresh.id)).toEqual(record);
      });

      it("answers with the stored record, unchanged, when the id is parked again", async () => {
        const first = await vault.park(sampleRecord(1));
        await vault.markNotified(first.record.id, notification("N1"));
        const again = await vault.park({
          ...sampleRecord(1),
          namespace: "another",
          parkedAt: "2030-01-01T00:00:00.000Z",
        });
        expect(again.created).toBe(false);
        expect(again.record).toEqual({ ...first.record, version: 2, notification: notification("N1") });
        expect(await vault.list()).toHaveLength(1);
      });

      it("creates exactly one record when 20 parks of one id race", async () => {
        const fresh = sampleRecord(7);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => vault.park({ ...fresh, namespace: `ns-${i}` })),
        );
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const stored = await vault.get(fresh.id);
        expect(stored?.namespace).toBe(created[0]?.record.namespace);
        for (const result of results) expect(result.record).toEqual(stored);
        expect(await vault.list()).toHaveLength(1);
      });

      it("ignores state, version, notification and resolution smuggled into a new record", async () => {
        const smuggled = {
          ...sampleRecord(2),
          state: "deleted",
          version: 9,
          notification: notification("N9"),
          resolution: resolution("mallory"),
        } as NewVaultRecord;
        const { record } = await vault.park(smuggled);
        expect(record.state).toBe("parked");
        expect(record.version).toBe(1);
        expect(record.notification).toBeUndefined();
        expect(record.resolution).toBeUndefined();
        expect(await vault.get(record.id)).toEqual(record);
      });

      it("refuses an id that is not lowercase hex", async () => {
        await expect(vault.park({ ...sampleRecord(1), id: "../escape" })).rejects.toThrow(
          "Invalid vault record id",
        );
      });
    });

    describe("get", () => {
      it("answers undefined for a missing id, and for ids that cannot be ours", async () => {
        expect(await vault.get("0123456789abcdef0123456789abcdef")).toBeUndefined();
        expect(await vault.get("../../etc/passwd")).toBeUndefined();
        expect(await vault.get("")).toBeUndefined();
      });

      it("round-trips a record exactly: unicode, bytes bodies, numbers, nulls", async () => {
        const message: DeadLetter = {
          messageId: "mégå-✓-😀",
          sequenceNumber: "9223372036854775807",
          enqueuedTime: "2025-12-31T23:59:59.999Z",
          deliveryCount: 0,
          deadLetterReason: "Ärger \"quoted\" <xml> & 'apos'",
          deadLetterErrorDescription: "line1\nline2\ttab\u0000nul\u2028sep",
          deadLetterSource: "orders",
          body: { kind: "bytes", base64: Buffer.from([0, 1, 2, 253, 254, 255]).toString("base64") },
          contentType: "application/octet-stream",
          subject: "日本語の件名",
          correlationId: "corr-1",
          sessionId: "session-1",
          partitionKey: "pk",
          replyTo: "replies",
          replyToSessionId: "reply-session",
          to: "destination",
          timeToLive: 86_400_000,
          applicationProperties: {
            nothing: null,
            zero: 0,
            negative: -42,
            float: 0.1 + 0.2,
            tiny: 5e-324,
            maxSafe: Number.MAX_SAFE_INTEGER,
            yes: true,
            no: false,
            empty: "",
            "ключ with spaces/and.dots": "значение 🚀",
          },
        };
        const entity: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };
        const fresh = sampleRecord(3, {
          entity,
          message,
          id: vaultRecordId("prod-eu", entity, message),
        });
        const parked = await vault.park(fresh);
        expect(parked.record.message).toStrictEqual(message);
        expect(await vault.get(fresh.id)).toStrictEqual({ ...fresh, state: "parked", version: 1 });

        const json = sampleRecord(4, {
          message: {
            ...message,
            messageId: "json",
            body: { kind: "json", value: { a: [1, "two", null, { b: false }] } },
          },
        });
        const empty = sampleRecord(5, {
          message: { ...message, messageId: "empty", body: { kind: "empty" } },
        });
        await vault.park(json);
        await vault.park(empty);
        expect((await vault.get(json.id))?.message).toStrictEqual(json.message);
        expect((await vault.get(empty.id))?.message).toStrictEqual(empty.message);
      });
    });

    describe("list", () => {
      it("is empty for an empty vault", async () => {
        expect(await vault.list()).toEqual([]);
      });

      it("lists newest first by parkedAt, then by id", async () => {
        const older = sampleRecord(1, { parkedAt: "2025-01-01T00:00:00.000Z" });
        const newest = sampleRecord(2, { parkedAt: "2025-03-01T00:00:00.000Z" });
        const tieA = sampleRecord(3, { parkedAt: "2025-02-01T00:00:00.000Z" });
        const tieB = sampleRecord(4, { parkedAt: "2025-02-01T00:00:00.000Z" });
        for (const record of [tieA, older, newest, tieB]) await vault.park(record);
        const [high, low] = tieA.id > tieB.id ? [tieA.id, tieB.id] : [tieB.id, tieA.id];
        expect((await vault.list()).map((r) => r.id)).toEqual([newest.id, high, low, older.id]);
      });

      it("filters by state and by notification id", async () => {
        const records = [1, 2, 3, 4].map((n) => sampleRecord(n));
        for (const record of records) await vault.park(record);
        const [a, b, c, d] = records.map((r) => r.id) as [string, string, string, string];
        await vault.markNotified(a, notification("N1"));
        await vault.markNotified(b, notification("N1"));
        await vault.markNotified(c, notification("N2"));
        expect((await vault.transition(b, "parked", "replayed", resolution("alice"))).ok).toBe(true);

        const ids = async (filter: Parameters<Vault["list"]>[0]) =>
          (await vault.list(filter)).map((r) => r.id).sort();
        expect(await ids({ state: "parked" })).toEqual([a, c, d].sort());
        expect(await ids({ state: "replayed" })).toEqual([b]);
        expect(await ids({ state: "deleted" })).toEqual([]);
        expect(await ids({ notificationId: "N1" })).toEqual([a, b].sort());
        expect(await ids({ notificationId: "N1", state: "parked" })).toEqual([a]);
        expect(await ids({ notificationId: "N3" })).toEqual([]);
        expect(await ids({})).toEqual([a, b, c, d].sort());
      });
    });

    describe("search and list through the index", () => {
      const audit: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };

      /** A record with its own message (so its own id), as the search fixtures need it. */
      function varied(
        n: number,
        cluster: string,
        entity: EntityRef,
        parkedAt: string,
        message: Partial<DeadLetter>,
      ): NewVaultRecord {
        const full: DeadLetter = { ...sampleRecord(n).message, ...message };
        return sampleRecord(n, {
          cluster,
          entity,
          parkedAt,
          message: full,
          id: vaultRecordId(cluster, entity, full),
        });
      }

      const fixtures = [
        varied(1, "prod-eu", queue, "2025-03-01T10:00:00.000Z", {
          deadLetterReason: "MaxDeliveryCountExceeded",
          applicationProperties: { tenant: "acme", attempt: 3 },
          body: { kind: "json", value: { orderId: 7, customer: "ACME Corp" } },
        }),
        varied(2, "prod-eu", audit, "2025-03-01T09:00:00.000Z", {
          deadLetterReason: "TTLExpiredException",
          deadLetterErrorDescription: "Message expired",
          applicationProperties: { tenant: "globex", flag: true },
          body: { kind: "text", text: "Timeout talking to billing" },
        }),
        varied(3, "prod-us", queue, "2025-02-28T23:00:00.000Z", {
          deadLetterReason: "ProcessingFailed",
          deadLetterErrorDescription: "NullReferenceException in handler",
          applicationProperties: { tenant: "acme", nothing: null },
          body: { kind: "bytes", base64: Buffer.from("PDF ✓ acme-invoice", "utf8").toString("base64") },
        }),
        varied(4, "prod-us", audit, "2025-02-01T00:00:00.000Z", {
          deadLetterReason: undefined,
          applicationProperties: {},
          body: { kind: "empty" },
        }),
        varied(5, "prod-eu", queue, "2025-03-01T10:00:00.000Z", {
          deadLetterReason: "MaxDeliveryCountExceeded",
          applicationProperties: { tenant: "ACME" },
          body: { kind: "text", text: "acme lowercase" },
        }),
      ];
      const [r1, r2, r3, r4, r5] = fixtures.map((r) => r.id) as [string, string, string, string, string];

      /** Parks the fixtures and moves some along, as a vault in use would have them. */
      async function parkFixtures(target: Vault): Promise<void> {
        for (const record of fixtures) await target.park(record);
        // The first search builds the index from the records; what follows are changes after it.
        await target.search({}, { limit: 1 });
        await target.markNotified(r1, notification("N1"));
        await target.markNotified(r2, notification("N1"));
        await target.transition(r2, "parked", "replayed", resolution("alice"));
        await target.transition(r4, "parked", "deleted", resolution("bob"));
        await target.markReminded(r1, "2025-03-02T10:00:00.000Z");
      }

      const cases: [string, RecordFilter, string[]][] = [
        ["nothing", {}, [r1, r2, r3, r4, r5]],
        ["state parked", { state: "parked" }, [r1, r3, r5]],
        ["state replayed", { state: "replayed" }, [r2]],
        ["state deleted", { state: "deleted" }, [r4]],
        ["cluster", { cluster: "prod-us" }, [r3, r4]],
        ["entity (subscription)", { entity: "events/Subscriptions/audit" }, [r2, r4]],
        ["entity (queue)", { entity: "orders" }, [r1, r3, r5]],
        ["notification id", { notificationId: "N1" }, [r1, r2]],
        ["notified", { notified: true }, [r1, r2]],
        ["not notified", { notified: false }, [r3, r4, r5]],
        ["reminded", { reminded: true }, [r1]],
        ["not yet reminded, notified and parked", { state: "parked", notified: true, reminded: false }, []],
        ["not yet reminded", { reminded: false }, [r2, r3, r4, r5]],
        ["reason, any case", { reason: "maxdelivery" }, [r1, r5]],
        ["reason in the description", { reason: "EXPIRED" }, [r2]],
        ["reason in the description only", { reason: "nullreference" }, [r3]],
        ["since", { since: "2025-03-01T00:00:00Z" }, [r1, r2, r5]],
        ["until", { until: "2025-03-01T00:00:00Z" }, [r3, r4]],
        ["since and until", { since: "2025-03-01T09:00:00Z", until: "2025-03-01T10:00:00Z" }, [r2]],
        ["where (exact, case-sensitive)", { where: [{ key: "tenant", value: "acme" }] }, [r1, r3]],
        ["where a number", { where: [{ key: "attempt", value: "3" }] }, [r1]],
        ["where a boolean", { where: [{ key: "flag", value: "true" }] }, [r2]],
        ["where null", { where: [{ key: "nothing", value: "null" }] }, [r3]],
        [
          "where, all of them",
          {
            where: [
              { key: "tenant", value: "acme" },
              { key: "attempt", value: "3" },
            ],
          },
          [r1],
        ],
        ["where a missing key", { where: [{ key: "constructor", value: "x" }] }, []],
        ["grep json, text and bytes bodies", { grep: "acme" }, [r1, r3, r5]],
        ["grep json as written", { grep: '"orderId":7' }, [r1]],
        ["grep text", { grep: "BILLING" }, [r2]],
        [
          "everything at once",
          { state: "parked", cluster: "prod-eu", entity: "orders", grep: "acme" },
          [r1, r5],
        ],
      ];

      for (const compactAfter of [undefined, 0]) {
        const how = compactAfter === undefined ? "changes not yet compacted" : "every change compacted";
        it(`answers every filter field as matchesFilter does (${how})`, async () => {
          const { vault: tuned } =
            compactAfter === undefined ? { vault } : await tunedVault({ index: { compactAfter } });
          await parkFixtures(tuned);
          const stored = (await Promise.all(fixtures.map((r) => tuned.get(r.id)))) as VaultRecord[];
          for (const [name, filter, expected] of cases) {
            const page = await tuned.search(filter, { limit: 100 });
            const listed = await tuned.list(filter);
            expect(page.records.map((r) => r.id).sort(), name).toEqual([...expected].sort());
            expect(page.next, name).toBeUndefined();
            // Whole records, newest first (r1/r5 tie on parkedAt: the higher id first), as list answers.
            expect(listed, name).toEqual(page.records);
            const newest = stored.filter((r) => matchesFilter(r, filter));
            expect(
              page.records.map((r) => r.id),
              name,
            ).toEqual(
              [...newest]
                .sort((a, b) => Date.parse(b.parkedAt) - Date.parse(a.parkedAt) || (a.id < b.id ? 1 : -1))
                .map((r) => r.id),
            );
          }
        });
      }

      it("pages without loss or repetition while records are added between pages", async () => {
        const { vault: tuned } = await tunedVault({ index: { compactAfter: 4 } });
        // 25 records over five days, so pages cross the index's day segments.
        const at = (day: number, minute: number) =>
          `2025-01-0${day}T10:${String(minute).padStart(2, "0")}:00.000Z`;
        const originals = Array.from({ length: 25 }, (_, n) =>
          sampleRecord(100 + n, { parkedAt: at(1 + (n % 5), n) }),
        );
        for (const record of originals) await tuned.park(record);
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await tuned.search(
            { state: "parked" },
            after === undefined ? { limit: 7 } : { limit: 7, after },
          );
          seen.push(...page.records.map((r) => r.id));
          pages += 1;
          // Between pages: newer records (before the cursor, so not on later pages), an older one
          // (after it, so on a later page), and a change of state to one not yet seen.
          await tuned.park(sampleRecord(200 + pages, { parkedAt: `2025-02-0${pages}T00:00:00.000Z` }));
          await tuned.park(sampleRecord(300 + pages, { parkedAt: `2024-12-0${pages}T00:00:00.000Z` }));
          if (!page.next) break;
          after = page.next;
          expect(pages).toBeLessThan(20);
        }
        expect(new Set(seen).size).toBe(seen.length);
        for (const record of originals) expect(seen).toContain(record.id);
        // The older ones parked after the first page came after the cursor: all of them were shown.
        const older = seen.filter((id) =>
          Array.from({ length: pages }, (_, p) => sampleRecord(301 + p).id).includes(id),
        );
        expect(older.length).toBeGreaterThan(0);
        await expect(tuned.search({}, { limit: 5, after: "not-a-cursor" })).rejects.toThrow(
          "Invalid page cursor",
        );
      });

      it("reflects changes of state: a transitioned record no longer matches state=parked", async () => {
        for (const made of [{ vault }, await tunedVault({ index: { compactAfter: 0 } })]) {
          const target = made.vault;
          const ids = [];
          for (const n of [1, 2, 3]) ids.push((await target.park(sampleRecord(n))).record.id);
          const [a, b] = ids as [string, string];
          const parked = async () =>
            (await target.search({ state: "parked" }, { limit: 10 })).records.map((r) => r.id);
          expect((await parked()).sort()).toEqual([...ids].sort());
          await target.transition(a, "parked", "replayed", resolution("alice"));
          expect(await parked()).not.toContain(a);
          expect((await target.search({ state: "replayed" }, { limit: 10 })).records).toEqual([
            await target.get(a),
          ]);
          await target.markNotified(b, notification("N7"));
          expect((await target.list({ notificationId: "N7" })).map((r) => r.id)).toEqual([b]);
          await target.transition(b, "parked", "deleted", resolution("bob"));
          expect(await target.list({ state: "parked" })).toHaveLength(1);
          expect((await target.list({ notificationId: "N7" }))[0]?.state).toBe("deleted");
        }
      });

      it("summarises what `list` lists (state, cluster, entity, parkedAt), before and after compaction", async () => {
        for (const made of [{ vault }, await tunedVault({ index: { compactAfter: 0 } })]) {
          const target = made.vault;
          const other: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };
          const ids = [];
          for (const n of [1, 2, 3]) ids.push((await target.park(sampleRecord(n))).record.id);
          ids.push((await target.park(sampleRecord(4, { entity: other, cluster: "prod-us" }))).record.id);
          await target.transition(ids[0] as string, "parked", "deleted", resolution("alice"));
          for (const filter of [
            {},
            { state: "parked" as const },
            { cluster: "prod-us" },
            { entity: "orders" },
          ]) {
            const listed = (await target.list(filter)).map(({ id, state, cluster, entity, parkedAt }) => ({
              id,
              state,
              cluster,
              entity,
              parkedAt,
            }));
            const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
            expect((await target.summaries(filter)).sort(byId), JSON.stringify(filter)).toEqual(
              listed.sort(byId),
            );
          }
        }
      });

      it("indexes every one of many concurrent parks and transitions, searched meanwhile", async () => {
        const { vault: tuned, backdoor: door } = await tunedVault({ index: { compactAfter: 3 } });
        // A second vault over the same store: another process (another Lambda) with its own cache.
        const other = door.twin();
        const records = Array.from({ length: 40 }, (_, n) =>
          sampleRecord(n, { parkedAt: `2025-01-0${1 + (n % 3)}T00:00:${String(n).padStart(2, "0")}.000Z` }),
        );
        const searches = () => Promise.all([tuned.search({}, { limit: 5 }), other.list({ state: "parked" })]);
        await Promise.all([
          ...records.map((r, n) => (n % 2 ? tuned : other).park(r)),
          searches(),
          searches(),
        ]);
        const moved = records.filter((_, n) => n % 2 === 0).map((r) => r.id);
        const results = await Promise.all([
          ...moved.map((id, n) =>
            (n % 2 ? tuned : other).transition(id, "parked", "replayed", resolution(`u${n}`)),
          ),
          searches(),
        ]);
        expect(results.slice(0, moved.length).every((r) => "ok" in r && r.ok)).toBe(true);
        for (const reader of [tuned, other, door.twin()]) {
          expect((await reader.list({ state: "replayed" })).map((r) => r.id).sort()).toEqual(
            [...moved].sort(),
          );
          expect(await reader.list({ state: "parked" })).toHaveLength(20);
          expect(await reader.list()).toHaveLength(40);
        }
      });

      it("skips an index entry whose record never landed, and finds the record once it does", async () => {
        const ghost = sampleRecord(99);
        const { record } = await vault.park(sampleRecord(1));
        await vault.search({}, { limit: 1 });
        // What a park that died after its marker leaves; and a change of a stored record that died.
        await backdoor.putIndexObject(`changes/${ghost.id}.1`, "");
        await backdoor.putIndexObject(`changes/${record.id}.7`, "");
        expect((await vault.search({}, { limit: 10 })).records).toEqual([record]);
        expect(await vault.list({ state: "parked" })).toEqual([record]);
        expect(await vault.list({ state: "deleted" })).toEqual([]);
        const { record: landed } = await vault.park(ghost);
        expect((await vault.list()).map((r) => r.id).sort()).toEqual([record.id, landed.id].sort());
      });

      it("keeps the marker of a write still in flight when it compacts, and sees the write land", async () => {
        const { vault: tuned, backdoor: door } = await tunedVault({ index: { compactAfter: 0 } });
        const { record } = await tuned.park(sampleRecord(1));
        await tuned.search({}, { limit: 1 });
        // A transition between its two steps: the marker of version 2 is written, the record not yet.
        await door.putIndexObject(`changes/${record.id}.2`, "");
        await tuned.park(sampleRecord(2));
        expect((await tuned.list({ state: "parked" })).map((r) => r.id)).toContain(record.id);
        expect(await door.indexNames()).toContain(`changes/${record.id}.2`);
        const landed: VaultRecord = {
          ...record,
          state: "replayed",
          version: 2,
          resolution: resolution("dave"),
        };
        await door.putRecordUnindexed(landed);
        expect(await tuned.list({ state: "replayed" })).toEqual([landed]);
        expect((await tuned.list({ state: "parked" })).map((r) => r.id)).not.toContain(record.id);
      });

      it("loses no entry when it compacts while another vault writes", async () => {
        const { vault: tuned, backdoor: door } = await tunedVault({ index: { compactAfter: 2 } });
        const writer = door.twin();
        const expected = new Map<string, VaultState>();
        for (let round = 0; round < 6; round++) {
          const fresh = Array.from({ length: 5 }, (_, i) => sampleRecord(round * 10 + i));
          const old = [...expected.entries()].filter(([, s]) => s === "parked").slice(0, 2);
          await Promise.all([
            ...fresh.map((r) => writer.park(r)),
            ...old.map(([id]) => writer.transition(id, "parked", "emailed", resolution("carol"))),
            tuned.search({ state: "parked" }, { limit: 3 }),
            tuned.list(),
          ]);
          for (const r of fresh) expected.set(r.id, "parked");
          for (const [id] of old) expected.set(id, "emailed");
        }
        const listed = await tuned.list();
        expect(new Map(listed.map((r) => [r.id, r.state]))).toEqual(expected);
        const names = await door.indexNames();
        expect(names).toContain("manifest.json");
        // Compacted: far fewer markers than the 40 writes, and segments hold the rest.
        expect(names.filter((n) => n.startsWith("changes/")).length).toBeLessThan(20);
        expect(names.some((n) => n.startsWith("segments/"))).toBe(true);
      });

      it("builds the index from the records when there is none (records parked before it existed)", async () => {
        const old = [1, 2, 3, 4].map((n) => ({
          ...sampleRecord(n, { parkedAt: `2024-0${n}-01T00:00:00.000Z` }),
          state: "parked" as VaultState,
          version: 1,
        }));
        const moved = { ...(old[3] as VaultRecord), state: "emailed" as VaultState, version: 2 };
        for (const record of [...old.slice(0, 3), moved]) await backdoor.putRecordUnindexed(record);
        expect(await backdoor.indexNames()).toEqual([]);
        expect((await vault.search({ state: "parked" }, { limit: 10 })).records.map((r) => r.id)).toEqual(
          old
            .slice(0, 3)
            .map((r) => r.id)
            .reverse(),
        );
        expect(await backdoor.indexNames()).toContain("manifest.json");
        expect(await vault.list({ state: "emailed" })).toEqual([moved]);
        const { record } = await vault.park(sampleRecord(9, { parkedAt: "2025-01-01T00:00:00.000Z" }));
        expect((await vault.search({}, { limit: 1 })).records).toEqual([record]);
      });

      it("rebuilds an index of the previous format (summaries without remindedAt), dropping its segments", async () => {
        const stored: VaultRecord[] = [1, 2, 3].map((n) => ({
          ...sampleRecord(n, { parkedAt: `2024-01-01T0${n}:00:00.000Z` }),
          state: "parked",
          version: 2,
          notification: notification("N1"),
        }));
        const [first] = stored as [VaultRecord];
        Object.assign(first, { remindedAt: "2024-01-03T00:00:00.000Z", version: 3 });
        for (const record of stored) await backdoor.putRecordUnindexed(record);
        // What the previous version wrote: a format 1 manifest, summaries without `remindedAt`.
        const day = dayOf(first.parkedAt);
        const old = `segments/${day}.00000000-0000-4000-8000-000000000000.json`;
        const entries = stored.map((record) => {
          const { remindedAt: _unknown, ...entry } = entryOf(record);
          return entry;
        });
        await backdoor.putIndexObject(old, JSON.stringify({ format: 1, day, entries: entries.reverse() }));
        await backdoor.putIndexObject(
          "manifest.json",
          JSON.stringify({ format: 1, segments: [{ day, name: old, count: 3 }] }),
        );
        const ids = async (filter: RecordFilter) => (await vault.list(filter)).map((r) => r.id);
        expect(await ids({ state: "parked", notified: true, reminded: false })).toEqual(
          stored
            .slice(1)
            .map((r) => r.id)
            .reverse(),
        );
        expect(await ids({ reminded: true })).toEqual([first.id]);
        expect(await backdoor.indexNames()).not.toContain(old);
        expect(await backdoor.indexNames()).toContain("manifest.json");
        expect(await vault.list()).toEqual([...stored].reverse());
      });

      it("matches --grep past the body excerpt by reading the long bodies it must", async () => {
        const { vault: tuned } = await tunedVault({ index: { compactAfter: 0 } });
        const long = (n: number, tail: string) =>
          varied(n, "prod-eu", queue, `2025-01-0${n}T00:00:00.000Z`, {
            body: { kind: "text", text: `${"x".repeat(BODY_EXCERPT_CHARS + 100)}${tail}` },
          });
        const withNeedle = long(1, "needle-7");
        const without = long(2, "hay");
        const longJson = varied(3, "prod-eu", queue, "2025-01-03T00:00:00.000Z", {
          body: { kind: "json", value: { pad: "y".repeat(BODY_EXCERPT_CHARS), end: "Needle-json" } },
        });
        const short = varied(4, "prod-eu", queue, "2025-01-04T00:00:00.000Z", {
          body: { kind: "text", text: "a needle early" },
        });
        for (const record of [withNeedle, without, longJson, short]) await tuned.park(record);
        // Compacted, so the summaries (with their excerpts), not the records, answer first.
        await tuned.search({}, { limit: 1 });
        await tuned.search({}, { limit: 1 });
        const ids = async (filter: RecordFilter) => (await tuned.list(filter)).map((r) => r.id);
        expect(await ids({ grep: "NEEDLE" })).toEqual([short.id, longJson.id, withNeedle.id]);
        expect(await ids({ grep: "needle-7" })).toEqual([withNeedle.id]);
        expect(await ids({ grep: "hay" })).toEqual([without.id]);
        expect(await ids({ grep: "xxxx" })).toEqual([without.id, withNeedle.id]);
        const first = await tuned.search({ grep: "needle" }, { limit: 1 });
        expect(first.records.map((r) => r.id)).toEqual([short.id]);
        const second = await tuned.search({ grep: "needle" }, { limit: 5, after: first.next });
        expect(second.records.map((r) => r.id)).toEqual([longJson.id, withNeedle.id]);
        expect(second.next).toBeUndefined();
      });
    });

    describe("idsWithPrefix", () => {
      it("answers the ids that start with a prefix, in id order, at most `limit`", async () => {
        const records = [1, 2, 3, 4, 5].map((n) => sampleRecord(n));
        for (const record of records) await vault.park(record);
        const ids = records.map((r) => r.id).sort();
        const first = ids[0] as string;
        expect(await vault.idsWithPrefix(first.slice(0, 8), 5)).toEqual([first]);
        expect(await vault.idsWithPrefix(first, 5)).toEqual([first]);
        expect(await vault.idsWithPrefix("", 10)).toEqual(ids);
        expect(await vault.idsWithPrefix("", 3)).toEqual(ids.slice(0, 3));
        const shared = ids.filter((id) => id[0] === first[0]);
        expect(await vault.idsWithPrefix(first.slice(0, 1), 10)).toEqual(shared);
      });

      it("matches nothing for a prefix no id has, or one that is not lowercase hex", async () => {
        const { record } = await vault.park(sampleRecord(1));
        const other = record.id[0] === "0" ? "1" : "0";
        expect(await vault.idsWithPrefix(`${other}${record.id.slice(1, 8)}`, 5)).toEqual([]);
        // Ids are lowercase: callers lowercase what people type (a 32-digit id has a letter in it).
        expect(await vault.idsWithPrefix(record.id.toUpperCase(), 5)).toEqual([]);
        expect(await vault.idsWithPrefix("../", 5)).toEqual([]);
        expect(await vault.idsWithPrefix(`${record.id}.json`, 5)).toEqual([]);
      });
    });

    describe("findByMessageId", () => {
      it("finds every record of a message id, newest first, and nothing for an unknown one", async () => {
        const first = sampleRecord(1, { parkedAt: "2025-01-01T00:00:00.000Z" });
        // Replayed, failed again: the same message id under a new sequence number is a new record.
        const againMessage = { ...first.message, sequenceNumber: "7777" };
        const again = sampleRecord(1, {
          message: againMessage,
          id: vaultRecordId("prod-eu", queue, againMessage),
          parkedAt: "2025-02-01T00:00:00.000Z",
        });
        const other = sampleRecord(2);
        for (const record of [first, again, other]) await vault.park(record);
        expect((await vault.findByMessageId("msg-1", 5)).map((r) => r.id)).toEqual([again.id, first.id]);
        expect((await vault.findByMessageId("msg-1", 1)).length).toBe(1);
        expect(await vault.findByMessageId("msg-2", 5)).toEqual([await vault.get(other.id)]);
        expect(await vault.findByMessageId("msg-3", 5)).toEqual([]);
        expect(await vault.findByMessageId("MSG-1", 5)).toEqual([]);
      });

      it("takes any message id: slashes, dots, unicode, a record id's look", async () => {
        const odd = ["../../etc/passwd", "a/b\\c", "mégå-✓-😀", "0123456789abcdef0123456789abcdef"];
        const records = odd.map((messageId, n) => {
          const message = { ...sampleRecord(n).message, messageId };
          return sampleRecord(n, { message, id: vaultRecordId("prod-eu", queue, message) });
        });
        for (const record of records) await vault.park(record);
        for (const [n, messageId] of odd.entries())
          expect((await vault.findByMessageId(messageId, 5)).map((r) => r.id)).toEqual([records[n]?.id]);
      });

      it("finds a record after it changed state", async () => {
        const { record } = await vault.park(sampleRecord(1));
        await vault.markNotified(record.id, notification("N1"));
        await vault.transition(record.id, "parked", "replayed", resolution("alice"));
        expect(await vault.findByMessageId("msg-1", 5)).toEqual([await vault.get(record.id)]);
      });
    });

    describe("markNotified", () => {
      it("sets the notification and bumps the version", async () => {
        const { record } = await vault.park(sampleRecord(1));
        const notified = await vault.markNotified(record.id, notification("N1"));
        expect(notified).toEqual({ ...record, notification: notification("N1"), version: 2 });
        expect(await vault.get(record.id)).toEqual(notified);
        const renotified = await vault.markNotified(record.id, notification("N2"));
        expect(renotified.version).toBe(3);
        expect(renotified.notification?.id).toBe("N2");
      });

      it("loses no update when 20 race on one record", async () => {
        const { record } = await vault.park(sampleRecord(1));
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => vault.markNotified(record.id, notification(`N${i}`))),
        );
        const stored = await vault.get(record.id);
        expect(stored?.version).toBe(21);
        expect(stored?.state).toBe("parked");
      });

      it("fails naming the id when the record does not exist", async () => {
        const id = "00000000000000000000000000000bad";
        await expect(vault.markNotified(id, notification("N1"))).rejects.toThrow(id);
      });
    });

    describe("transition", () => {
      it("moves a record out of parked once, with the resolution, bumping the version", async () => {
        const { record } = await vault.park(sampleRecord(1));
        const result = await vault.transition(record.id, "parked", "emailed", resolution("alice"));
        expect(result).toEqual({
          ok: true,
          record: { ...record, state: "emailed", resolution: resolution("alice"), version: 2 },
        });
        expect(await vault.get(record.id)).toEqual(result.ok ? result.record : undefined);
      });

      it("keeps the notification when transitioning a notified record", async () => {
        const { record } = await vault.park(sampleRecord(1));
        await vault.markNotified(record.id, notification("N1"));
        const result = await vault.transition(record.id, "parked", "deleted", {
          by: "bob",
          at: "2025-01-03T00:00:00Z",
        });
        expect(result.ok && result.record).toEqual({
          ...record,
          notification: notification("N1"),
          state: "deleted",
          resolution: { by: "bob", at: "2025-01-03T00:00:00Z" },
          version: 3,
        });
      });

      it("refuses from the wrong state and reports the current record, unchanged", async () => {
        const { record } = await vault.park(sampleRecord(1));
        await vault.transition(record.id, "parked", "replayed", resolution("alice"));
        const current = await vault.get(record.id);
        const again = await vault.transition(record.id, "parked", "deleted", resolution("bob"));
        expect(again).toEqual({ ok: false, current });
        expect(current?.state).toBe("replayed");
        expect(current?.resolution?.by).toBe("alice");
        const wrongFrom = await vault.transition(record.id, "emailed", "deleted", resolution("bob"));
        expect(wrongFrom).toEqual({ ok: false, current });
        expect(await vault.get(record.id)).toEqual(current);
      });

      it("reports a missing record as current undefined", async () => {
        expect(
          await vault.transition("00000000000000000000000000000bad", "parked", "deleted", resolution("a")),
        ).toEqual({
          ok: false,
          current: undefined,
        });
        expect(await vault.transition("not-hex", "parked", "deleted", resolution("a"))).toEqual({
          ok: false,
          current: undefined,
        });
      });

      it("lets exactly one of 20 racing transitions win", async () => {
        const { record } = await vault.park(sampleRecord(1));
        const targets: VaultState[] = ["replayed", "deleted", "emailed"];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            vault.transition(record.id, "parked", targets[i % 3] as VaultState, resolution(`user-${i}`)),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const won = (winners[0] as { ok: true; record: VaultRecord }).record;
        expect(won.version).toBe(2);
        const stored = await vault.get(record.id);
        expect(stored).toEqual(won);
        for (const result of results) if (!result.ok) expect(result.current).toEqual(stored);
      });
    });
  });
}
