import type { ApprovalRequest } from "./approval";
import type { ApprovalStore, ApprovalUpdateOptions } from "./approval-store";
import { type ConditionalStorage, createConditionalApprovalStore } from "./conditional-approval-store";

/**
 * In one process only (tests, a single-process local run): requests are kept as JSON text, and
 * insert/replace check and set in one synchronous step, which is atomic on the event loop.
 */
export function createMemoryApprovalStore(options: ApprovalUpdateOptions = {}): ApprovalStore {
  return createConditionalApprovalStore<number>(createMemoryApprovalStorage(), options);
}

/** The memory store's storage on its own (tests reach its pending markers through it). */
export function createMemoryApprovalStorage(): ConditionalStorage<number> {
  const stored = new Map<string, { text: string; version: number }>();
  const pending = new Set<string>();
  return {
    async read(id) {
      const entry = stored.get(id);
      return entry && { request: JSON.parse(entry.text) as ApprovalRequest, token: entry.version };
    },
    async insert(request) {
      if (stored.has(request.id)) return false;
      stored.set(request.id, { text: JSON.stringify(request), version: request.version });
      return true;
    },
    async replace(next, version) {
      if (stored.get(next.id)?.version !== version) return false;
      stored.set(next.id, { text: JSON.stringify(next), version: next.version });
      return true;
    },
    async markPending(id) {
      pending.add(id);
    },
    async unmarkPending(id) {
      pending.delete(id);
    },
    async pendingIds(limit) {
      return [...pending].slice(0, limit);
    },
  };
}
