import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeadLetter, EntityRef } from "./dead-letter";
import type { NewVaultRecord, Vault, VaultRecord, VaultState } from "./vault";
import { vaultRecordId } from "./vault-record-id";

/** A fresh, empty vault per test, and how to dispose of it. */
export type MakeVault = () => Promise<{ vault: Vault; dispose?: () => Promise<void> }>;

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
    let dispose: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ vault, dispose } = await makeVault());
    });
    afterEach(async () => {
      await dispose?.();
    });

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
