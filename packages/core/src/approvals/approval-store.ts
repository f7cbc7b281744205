import type { ApprovalEvent, ApprovalRequest, Refusal, Step } from "./approval";

/** A transition to apply: pure, since a store calls it again on the fresh request after a conflict. */
export type ApprovalTransition = (current: ApprovalRequest) => Step;

/**
 * What one `update` did.
 * - `ok: true`: this call's write landed and did `event`; no other call is told the same event for
 *   the same version, so `approved` here is the licence to run the command once.
 * - `ok: false`: refused; `request` is what is stored now (undefined if there is none). `event` is set
 *   only when this call still wrote a change (it found the request past its expiry and expired it),
 *   so exactly one caller tells the requester.
 */
export type ApprovalUpdate =
  | { ok: true; event: ApprovalEvent; request: ApprovalRequest }
  | { ok: false; refusal: Refusal; request: ApprovalRequest | undefined; event?: ApprovalEvent };

export interface ApprovalUpdateOptions {
  /** Conditional writes lost to other writers before giving up (an error); 50 by default. */
  maxAttempts?: number;
}

/** Approval requests, shared by every process that may handle a click: files locally, S3 on AWS. */
export interface ApprovalStore {
  /** Stores a new request at version 1; throws if its id is taken or malformed. */
  create(request: ApprovalRequest): Promise<ApprovalRequest>;
  /** Undefined for a missing id and for any string that cannot be an id. */
  get(id: string): Promise<ApprovalRequest | undefined>;
  /**
   * Read, apply `transition`, write only if nothing was written in between (compare-and-set on the
   * version / ETag); on a conflict, read again and re-apply, so racing callers serialize.
   */
  update(
    id: string,
    transition: ApprovalTransition,
    options?: ApprovalUpdateOptions,
  ): Promise<ApprovalUpdate>;
  /**
   * The pending requests, soonest expiry first (for the expiry sweep), at most `PENDING_LIMIT`:
   * read through markers kept beside the requests, so a sweep never reads every request ever made.
   */
  pending(): Promise<ApprovalRequest[]>;
}

/**
 * Markers `pending()` reads at most. Each costs a read of its request (a GET on S3), in a sweep
 * that runs every minute inside the worker's timeout, so the work per sweep must stay bounded:
 * 1,000 is one ListObjectsV2 page and a few seconds of GETs (16 at a time), far above what a policy
 * produces (approval is for a few risky commands, not thousands waiting at once). Past it, which
 * 1,000 are read is the storage's listing order, not expiry: the rest are swept once some of those
 * are decided or expire and leave the list.
 */
export const PENDING_LIMIT = 1000;
