import { describe, expect, it } from "vitest";
import { type ApprovalRequest, approve } from "./approval";
import { PENDING_LIMIT } from "./approval-store";
import { approvalStoreContract, approver, SOON, sampleRequest } from "./approval-store-contract";
import { type ConditionalStorage, createConditionalApprovalStore } from "./conditional-approval-store";
import { createMemoryApprovalStorage, createMemoryApprovalStore } from "./memory-approval-store";

approvalStoreContract("memory approval store", async () => {
  const storage = createMemoryApprovalStorage();
  return {
    store: createConditionalApprovalStore(storage),
    markers: {
      plant: (id) => storage.markPending(id),
      ids: () => storage.pendingIds(Number.POSITIVE_INFINITY),
    },
  };
});

describe("pending markers, when storage fails", () => {
  /** The memory storage with some of its calls replaced. */
  function storageWith(overrides: Partial<ConditionalStorage<number>>) {
    const storage = createMemoryApprovalStorage();
    return { storage, store: createConditionalApprovalStore({ ...storage, ...overrides }) };
  }
  const marked = (storage: ConditionalStorage<number>) => storage.pendingIds(Number.POSITIVE_INFINITY);

  it("a marker that could not be removed is harmless: the update lands, the next pending() tidies", async () => {
    let failRemoval = true;
    const { storage, store } = storageWith({
      unmarkPending: async (id) => {
        if (failRemoval) throw new Error("S3 is down");
        await storage.unmarkPending(id);
      },
    });
    const { id } = await store.create(sampleRequest());
    expect(await store.update(id, (r) => approve(r, approver(1), SOON))).toMatchObject({
      ok: true,
      event: "approved",
    });
    expect(await marked(storage)).toEqual([id]);
    // Still failing: skipped all the same.
    expect(await store.pending()).toEqual([]);
    failRemoval = false;
    expect(await store.pending()).toEqual([]);
    expect(await marked(storage)).toEqual([]);
  });

  it("a create whose write fails takes its marker back; one refused as taken leaves the marker", async () => {
    const { storage, store } = storageWith({
      insert: async () => {
        throw new Error("S3 is down");
      },
    });
    await expect(store.create(sampleRequest())).rejects.toThrow("S3 is down");
    expect(await marked(storage)).toEqual([]);

    const memory = createMemoryApprovalStorage();
    const taken = createConditionalApprovalStore(memory);
    const request = await taken.create(sampleRequest());
    await expect(taken.create(request)).rejects.toThrow("already exists");
    expect(await marked(memory)).toEqual([request.id]);
    expect((await taken.pending()).map((r) => r.id)).toEqual([request.id]);
  });

  it("a request that cannot be read is skipped and its marker kept", async () => {
    const { storage, store } = storageWith({
      read: async (id) => {
        if (id === unreadable.id) throw new Error("corrupt");
        return storage.read(id);
      },
    });
    const unreadable = await store.create(sampleRequest());
    const fine = await store.create(sampleRequest());
    expect((await store.pending()).map((r) => r.id)).toEqual([fine.id]);
    expect((await marked(storage)).sort()).toEqual([unreadable.id, fine.id].sort());
  });

  it("asks the storage for at most PENDING_LIMIT markers", async () => {
    const limits: number[] = [];
    const { store } = storageWith({
      pendingIds: async (limit) => {
        limits.push(limit);
        return [];
      },
    });
    await store.pending();
    expect(limits).toEqual([PENDING_LIMIT]);
    expect(PENDING_LIMIT).toBe(1000);
  });

  it("createMemoryApprovalStore lists what it marks", async () => {
    const store = createMemoryApprovalStore();
    const { id } = await store.create(sampleRequest());
    expect((await store.pending()).map((r) => r.id)).toEqual([id]);
  });
});

describe("the conditional update loop", () => {
  /** Storage whose every replace loses, as if another writer always got there first. */
  function alwaysConflicting(stored: ApprovalRequest) {
    let replaces = 0;
    const store = createConditionalApprovalStore<number>({
      read: async () => ({ request: structuredClone(stored), token: stored.version }),
      insert: async () => true,
      replace: async () => {
        replaces += 1;
        return false;
      },
      markPending: async () => {},
      unmarkPending: async () => {},
      pendingIds: async () => [],
    });
    return { store, replaces: () => replaces };
  }

  it("gives up after maxAttempts lost writes, naming the request", async () => {
    const request = sampleRequest();
    const { store, replaces } = alwaysConflicting(request);
    await expect(
      store.update(request.id, (r) => approve(r, approver(1), SOON), { maxAttempts: 3 }),
    ).rejects.toThrow(`Approval request ${request.id} kept changing: gave up after 3 conflicting writes`);
    expect(replaces()).toBe(3);
  });

  it("re-applies the transition to what it re-read, and a refusal ends the loop without a write", async () => {
    const request = sampleRequest();
    const { store, replaces } = alwaysConflicting({ ...request, state: "rejected" });
    let calls = 0;
    const result = await store.update(request.id, (r) => {
      calls += 1;
      return approve(r, approver(1), SOON);
    });
    expect(result).toMatchObject({ ok: false, refusal: { reason: "already-rejected" } });
    expect(calls).toBe(1);
    expect(replaces()).toBe(0);
  });
});
