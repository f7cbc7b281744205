import { mrkdwn } from "../slack/slack-text";
import { type ApprovalEvent, type ApprovalRequest, isApprovalId } from "./approval";
import {
  type ApprovalStore,
  type ApprovalUpdate,
  type ApprovalUpdateOptions,
  PENDING_LIMIT,
} from "./approval-store";

/**
 * What an adapter provides: one conditional write to create, one to replace. `Token` is whatever
 * names the version that was read (an S3 ETag, a version number).
 */
export interface ConditionalStorage<Token> {
  /** The stored request and its token; undefined when there is none. */
  read(id: string): Promise<{ request: ApprovalRequest; token: Token } | undefined>;
  /** Stores `request` only if nothing is stored under its id; false if something is. */
  insert(request: ApprovalRequest): Promise<boolean>;
  /** Stores `next` only if what is stored is still what `token` was read with; false if not. */
  replace(next: ApprovalRequest, token: Token): Promise<boolean>;
  /** Marks a request pending (written before the request, so a request is never pending unmarked). */
  markPending(id: string): Promise<void>;
  /** Removes a marker; a missing one is fine. */
  unmarkPending(id: string): Promise<void>;
  /** The marked ids, at most `limit`. */
  pendingIds(limit: number): Promise<string[]>;
}

/** Requests `pending()` reads at once. */
const PENDING_READS_AT_ONCE = 16;

/**
 * The ApprovalStore every adapter shares: versions, id checks and the read-modify-conditional-write
 * loop live here once; the adapter only has to make `insert` and `replace` atomic.
 *
 * Why it is exactly-once: each landed write moves the version from n to n+1, and `replace` lands
 * only for a caller that read version n. Of callers racing from version n, one lands; the others
 * re-read n+1 and re-apply their transition to it, which now refuses (e.g. "Already approved by").
 * So a transition such as pending → approved is reported as landed to exactly one caller.
 */
export function createConditionalApprovalStore<Token>(
  storage: ConditionalStorage<Token>,
  defaults: ApprovalUpdateOptions = {},
): ApprovalStore {
  /** Best effort: a marker left behind is only read and removed by the next sweep. */
  const unmark = (id: string) => storage.unmarkPending(id).catch(() => undefined);
  return {
    async create(request) {
      if (!isApprovalId(request.id)) {
        throw new Error(`Invalid approval request id ${JSON.stringify(request.id)}`);
      }
      const fresh = roundTrip({ ...request, version: 1 });
      const marked = fresh.state === "pending";
      if (marked) await storage.markPending(fresh.id);
      let inserted: boolean;
      try {
        inserted = await storage.insert(fresh);
      } catch (error) {
        // Most likely nothing was stored: take the marker back rather than leave it to every sweep.
        // (Had the write landed after all, the request is one nobody was shown: unmarked, it is harmless.)
        if (marked) await unmark(fresh.id);
        throw error;
      }
      // Taken: the marker written is the existing request's own (or a stale one the sweep removes).
      if (!inserted) throw new Error(`Approval request ${request.id} already exists`);
      return fresh;
    },

    async pending() {
      const ids = await storage.pendingIds(PENDING_LIMIT);
      const found: ApprovalRequest[] = [];
      let next = 0;
      // A few reads at a time: a sweep of many markers takes seconds, not a GET's latency each.
      const reader = async () => {
        for (let id = ids[next++]; id !== undefined; id = ids[next++]) {
          const current = isApprovalId(id) ? await storage.read(id).catch(() => undefined) : undefined;
          // A marker outlives its request's pending state when removing it failed: tidy it now, and
          // a name that cannot be an id. A marker whose request is missing (or unreadable) is
          // skipped but kept: it may be a create between its marker and its request, and removing
          // that marker would leave the request pending unmarked, never swept.
          if (current?.request.state === "pending") found.push(current.request);
          else if (current !== undefined || !isApprovalId(id)) await unmark(id);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PENDING_READS_AT_ONCE, ids.length) }, reader));
      return found.sort(
        (a, b) =>
          Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    },

    async get(id) {
      // A string that is not ours cannot name a request, and must never become a path or key.
      return isApprovalId(id) ? (await storage.read(id))?.request : undefined;
    },

    async update(id, transition, options = {}): Promise<ApprovalUpdate> {
      const maxAttempts = options.maxAttempts ?? defaults.maxAttempts ?? 50;
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        const current = isApprovalId(id) ? await storage.read(id) : undefined;
        if (!current) {
          return {
            ok: false,
            refusal: { reason: "not-found", message: mrkdwn`This approval request no longer exists` },
            request: undefined,
          };
        }
        // A copy: a transition that mutated its argument must not change what the next attempt sees.
        const step = transition(structuredClone(current.request));
        let change: { request: ApprovalRequest; event: ApprovalEvent };
        if (step.ok) change = step;
        else if (step.change) change = step.change;
        else return { ok: false, refusal: step.refusal, request: current.request };
        // The store owns id and version, whatever the transition returned.
        const next = roundTrip({
          ...change.request,
          id: current.request.id,
          version: current.request.version + 1,
        });
        if (await storage.replace(next, current.token)) {
          if (next.state !== "pending") await unmark(next.id);
          return step.ok
            ? { ok: true, event: step.event, request: next }
            : { ok: false, refusal: step.refusal, request: next, event: change.event };
        }
        await backoff(attempt);
      }
      throw new Error(
        `Approval request ${id} kept changing: gave up after ${maxAttempts} conflicting writes`,
      );
    },
  };
}

/** Jittered exponential backoff, so writers that lost a race do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(2 ** attempt, 100);
  return new Promise((done) => setTimeout(done, Math.random() * cap));
}

/** Callers get JSON's view of what was stored, never an alias of their own objects. */
function roundTrip(request: ApprovalRequest): ApprovalRequest {
  return JSON.parse(JSON.stringify(request)) as ApprovalRequest;
}
