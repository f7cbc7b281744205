import { describe, expect, it } from "vitest";
import { type ApprovalRequest, approve } from "./approval";
import { approvalStoreContract, approver, SOON, sampleRequest } from "./approval-store-contract";
import { createConditionalApprovalStore } from "./conditional-approval-store";
import { createMemoryApprovalStore } from "./memory-approval-store";

approvalStoreContract("memory approval store", async () => ({ store: createMemoryApprovalStore() }));

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
