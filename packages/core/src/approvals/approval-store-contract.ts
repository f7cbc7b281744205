import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ApprovalRequest,
  approve,
  expire,
  markRan,
  newApprovalRequest,
  type Person,
  recordMessage,
  reject,
} from "./approval";
import type { ApprovalStore, ApprovalUpdate } from "./approval-store";

/**
 * The store's pending markers as the adapter keeps them (a set, files, S3 objects), reached past
 * the store: to leave one behind as a failed removal or a crashed create does, and to see them.
 */
export interface PendingMarkers {
  /** Writes a marker for `id`, whatever is stored under it. */
  plant(id: string): Promise<void>;
  /** The ids marked now, in any order. */
  ids(): Promise<string[]>;
}

/** A fresh, empty store per test, its pending markers, and how to dispose of it. */
export type MakeApprovalStore = () => Promise<{
  store: ApprovalStore;
  markers: PendingMarkers;
  dispose?: () => Promise<void>;
}>;

export const CREATED = new Date("2025-01-02T03:00:00.000Z");
/** Before the sample request's expiry. */
export const SOON = new Date("2025-01-02T03:10:00.000Z");
/** After the sample request's expiry (30 minutes). */
export const LATE = new Date("2025-01-02T03:31:00.000Z");

export const requester: Person = { slackId: "UREQ", email: "req@example.com" };
export const approver = (n: number): Person => ({ slackId: `ULEAD${n}`, email: `lead${n}@example.com` });

/** A pending request needing `count` approvals from leads, expiring 30 minutes after CREATED. */
export function sampleRequest(count = 1): ApprovalRequest {
  return newApprovalRequest(
    {
      command: ["deadletter", "delete", "orders", "--all"],
      requester,
      channelId: "C0OPS",
      ruleIndex: 1,
      ruleLabel: "deadletter delete in #ops",
      approvers: ["leads"],
      count,
      expiresInMs: 30 * 60_000,
    },
    CREATED,
  );
}

/**
 * The behaviour every ApprovalStore must have. Each adapter's test file calls this with a factory
 * that gives every test an empty store (a fresh folder, a fresh S3 prefix).
 */
export function approvalStoreContract(name: string, makeStore: MakeApprovalStore): void {
  describe(`${name}: ApprovalStore contract`, () => {
    let store: ApprovalStore;
    let markers: PendingMarkers;
    let dispose: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, markers, dispose } = await makeStore());
    });
    afterEach(async () => {
      await dispose?.();
    });

    it("lists pending requests soonest expiry first; decided ones leave the list", async () => {
      expect(await store.pending()).toEqual([]);
      const later = await store.create({
        ...sampleRequest(),
        expiresAt: new Date(CREATED.getTime() + 60 * 60_000).toISOString(),
      });
      const sooner = await store.create(sampleRequest());
      const third = await store.create(sampleRequest());
      expect((await store.pending()).map((r) => r.id)).toEqual(
        expect.arrayContaining([sooner.id, third.id, later.id]),
      );
      expect((await store.pending()).at(-1)?.id).toBe(later.id);
      await store.update(sooner.id, (r) => approve(r, approver(1), SOON));
      await store.update(third.id, (r) => reject(r, approver(2), SOON));
      expect((await store.pending()).map((r) => r.id)).toEqual([later.id]);
      // A recorded message keeps it pending.
      await store.update(later.id, (r) => recordMessage(r, { channel: "C0OPS", ts: "1.2" }));
      expect((await store.pending()).map((r) => r.version)).toEqual([2]);
    });

    it("marks a request while it is pending: expired ones, by the sweep or a late click, are unmarked", async () => {
      const swept = await store.create(sampleRequest());
      const clickedLate = await store.create(sampleRequest());
      expect((await markers.ids()).sort()).toEqual([swept.id, clickedLate.id].sort());
      expect(await store.update(swept.id, (r) => expire(r, LATE))).toMatchObject({
        ok: true,
        event: "expired",
      });
      expect(await store.update(clickedLate.id, (r) => approve(r, approver(1), LATE))).toMatchObject({
        ok: false,
        event: "expired",
      });
      expect(await markers.ids()).toEqual([]);
      expect(await store.pending()).toEqual([]);
    });

    it("skips a marker whose request is no longer pending, and removes it (a removal that failed)", async () => {
      const decided = await store.create(sampleRequest());
      const waiting = await store.create(sampleRequest());
      await store.update(decided.id, (r) => reject(r, requester, SOON, "withdrawn"));
      await markers.plant(decided.id);
      expect((await store.pending()).map((r) => r.id)).toEqual([waiting.id]);
      expect(await markers.ids()).toEqual([waiting.id]);
    });

    it("removes a marker that cannot name a request; keeps one whose request is not there yet", async () => {
      const missing = sampleRequest().id;
      await markers.plant("no such id.tmp");
      await markers.plant(missing);
      expect(await store.pending()).toEqual([]);
      // It may be a create between its marker and its request: removing it could leave that
      // request pending unmarked, never swept.
      expect(await markers.ids()).toEqual([missing]);
    });

    it("creates a request at version 1 and reads it back exactly", async () => {
      const request = { ...sampleRequest(), command: ["store", "s3", "put", "--data", 'ünï ✓ "q"\n', "K"] };
      const created = await store.create({ ...request, version: 7 });
      expect(created).toEqual({ ...request, version: 1 });
      expect(await store.get(request.id)).toEqual(created);
    });

    it("refuses to create an id twice, and ids that are not ours", async () => {
      const request = sampleRequest();
      await store.create(request);
      await expect(store.create({ ...request, ruleLabel: "other" })).rejects.toThrow(
        `Approval request ${request.id} already exists`,
      );
      expect((await store.get(request.id))?.ruleLabel).toBe(request.ruleLabel);
      await expect(store.create({ ...request, id: "../../escape" })).rejects.toThrow(
        "Invalid approval request id",
      );
    });

    it("answers undefined for a missing id and for strings that cannot be ids", async () => {
      expect(await store.get("AAAAAAAAAAAAAAAAAAAAAA")).toBeUndefined();
      expect(await store.get("../../etc/passwd")).toBeUndefined();
      expect(await store.get("")).toBeUndefined();
      const missing = await store.update("AAAAAAAAAAAAAAAAAAAAAA", (r) => approve(r, approver(1), SOON));
      expect(missing).toMatchObject({ ok: false, refusal: { reason: "not-found" }, request: undefined });
    });

    it("applies a transition, bumping the version, and stores nothing for a refusal", async () => {
      const { id } = await store.create(sampleRequest(2));
      const first = await store.update(id, (r) => approve(r, approver(1), SOON));
      expect(first).toMatchObject({
        ok: true,
        event: "approval-recorded",
        request: { version: 2, state: "pending" },
      });
      expect(await store.get(id)).toEqual(first.request);
      const self = await store.update(id, (r) => approve(r, requester, SOON));
      expect(self).toEqual({
        ok: false,
        refusal: { reason: "own-request", message: { text: "You cannot approve your own request" } },
        request: first.request,
      });
      expect((await store.get(id))?.version).toBe(2);
    });

    it("keeps the change a refusal carries: a late approval expires the request, once", async () => {
      const { id } = await store.create(sampleRequest());
      const late = await store.update(id, (r) => approve(r, approver(1), LATE));
      expect(late).toMatchObject({ ok: false, refusal: { reason: "expired" }, event: "expired" });
      expect((await store.get(id))?.state).toBe("expired");
      const again = await store.update(id, (r) => approve(r, approver(2), LATE));
      expect(again).toMatchObject({ ok: false, refusal: { reason: "expired" } });
      expect(again).not.toHaveProperty("event");
      expect((await store.get(id))?.version).toBe(2);
    });

    it("owns id and version whatever the transition returns", async () => {
      const { id } = await store.create(sampleRequest());
      const result = await store.update(id, (r) => ({
        ok: true,
        event: "message-recorded",
        request: {
          ...r,
          id: "BBBBBBBBBBBBBBBBBBBBBB",
          version: 99,
          message: { channel: "C0OPS", ts: "1.2" },
        },
      }));
      expect(result.request).toMatchObject({ id, version: 2, message: { channel: "C0OPS", ts: "1.2" } });
      expect(await store.get("BBBBBBBBBBBBBBBBBBBBBB")).toBeUndefined();
    });

    it("runs the whole flow: message, approvals from two leads, one run", async () => {
      const { id } = await store.create(sampleRequest(2));
      await store.update(id, (r) => recordMessage(r, { channel: "C0OPS", ts: "1700000000.000100" }));
      expect((await store.update(id, (r) => approve(r, approver(1), SOON))).ok).toBe(true);
      const approved = await store.update(id, (r) => approve(r, approver(2), SOON));
      expect(approved).toMatchObject({ ok: true, event: "approved" });
      const ran = await store.update(id, (r) => markRan(r, { outcome: "ok", exitStatus: 0 }, SOON));
      expect(ran).toMatchObject({ ok: true, event: "ran", request: { state: "ran", version: 5 } });
      expect(ran.request?.run).toEqual({ at: SOON.toISOString(), outcome: "ok", exitStatus: 0 });
      expect(ran.request?.message).toEqual({ channel: "C0OPS", ts: "1700000000.000100" });
      const twice = await store.update(id, (r) => markRan(r, { outcome: "ok" }, SOON));
      expect(twice).toMatchObject({ ok: false, refusal: { reason: "already-ran" } });
    });

    describe("under concurrency", () => {
      const events = (results: ApprovalUpdate[]) => results.filter((r) => r.ok).map((r) => r.ok && r.event);
      const refusals = (results: ApprovalUpdate[]) => results.flatMap((r) => (r.ok ? [] : [r.refusal]));

      it("10 approvers clicking at once with count 1: one is told approved, nine 'already approved by' it", async () => {
        const { id } = await store.create(sampleRequest(1));
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.update(id, (r) => approve(r, approver(i), SOON))),
        );
        expect(events(results)).toEqual(["approved"]);
        const stored = await store.get(id);
        expect(stored).toMatchObject({ state: "approved", version: 2 });
        expect(stored?.approvals).toHaveLength(1);
        const winner = stored?.approvals[0]?.slackId;
        const winnerResult = results.find((r) => r.ok);
        expect(winnerResult?.request?.approvals[0]?.slackId).toBe(winner);
        const refused = refusals(results);
        expect(refused).toHaveLength(9);
        for (const refusal of refused) {
          expect(refusal).toEqual({
            reason: "already-approved",
            message: { text: `Already approved by <@${winner}>` },
          });
        }
      });

      it("10 approvers at once with count 2: one approval recorded, one approved, eight refused", async () => {
        const { id } = await store.create(sampleRequest(2));
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.update(id, (r) => approve(r, approver(i), SOON))),
        );
        expect(events(results).sort()).toEqual(["approval-recorded", "approved"]);
        const stored = await store.get(id);
        expect(stored).toMatchObject({ state: "approved", version: 3 });
        expect(new Set(stored?.approvals.map((a) => a.slackId)).size).toBe(2);
        expect(refusals(results).map((r) => r.reason)).toEqual(Array(8).fill("already-approved"));
      });

      it("one approver double-clicking 10 times: one approval, nine 'already approved by you'", async () => {
        const { id } = await store.create(sampleRequest(2));
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.update(id, (r) => approve(r, approver(1), SOON))),
        );
        expect(events(results)).toEqual(["approval-recorded"]);
        expect(refusals(results).map((r) => r.message.text)).toEqual(
          Array(9).fill("Already approved by you"),
        );
        expect(await store.get(id)).toMatchObject({ state: "pending", version: 2 });
      });

      it("approve and reject racing: exactly one decision lands", async () => {
        const { id } = await store.create(sampleRequest(1));
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.update(id, (r) =>
              i % 2 ? approve(r, approver(i), SOON) : reject(r, approver(i), SOON, "no"),
            ),
          ),
        );
        const landed = events(results);
        expect(landed).toHaveLength(1);
        expect((await store.get(id))?.state).toBe(landed[0]);
      });

      it("10 runners racing after approval: exactly one records the run", async () => {
        const { id } = await store.create(sampleRequest(1));
        await store.update(id, (r) => approve(r, approver(1), SOON));
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.update(id, (r) => markRan(r, { outcome: `run ${i}` }, SOON)),
          ),
        );
        expect(events(results)).toEqual(["ran"]);
        expect(refusals(results).map((r) => r.reason)).toEqual(Array(9).fill("already-ran"));
        expect(await store.get(id)).toMatchObject({ state: "ran", version: 3 });
      });
    });
  });
}
