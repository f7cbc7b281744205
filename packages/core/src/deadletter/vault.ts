import type { DeadLetter, EntityRef } from "./dead-letter";
import type { PageRequest, RecordFilter, RecordPage } from "./record-filter";

/** parked → replayed | emailed | deleted; each transition happens once (compare-and-set). */
export type VaultState = "parked" | "replayed" | "emailed" | "deleted";

export interface VaultRecord {
  /** Deterministic from the message (see `vaultRecordId`), so parking twice is one record. */
  id: string;
  cluster: string;
  namespace: string;
  entity: EntityRef;
  parkedAt: string;
  /** The request that parked it: the drain's request id (the listener's alert), which correlates every hop. */
  parkedBy?: { requestId: string };
  state: VaultState;
  /** Bumped by every change; what compare-and-set compares. */
  version: number;
  /** Set once the Slack notification that covers it was posted. */
  notification?: { channel: string; ts: string; id: string; at: string };
  /** When the one reminder that it is still parked was posted in its notification's thread. */
  remindedAt?: string;
  /** Who moved it out of `parked`, when, how (a notification's button or a command) and any note. */
  resolution?: {
    by: string;
    at: string;
    via?: ResolutionSource;
    note?: string;
    /** The request that resolved it (a click's, a command's): its audit records carry the same id. */
    requestId?: string;
  };
  /** The original, exactly as it was dead-lettered: a repair never changes it. */
  message: DeadLetter;
  /**
   * Set when the record was replayed with edits: the message that was sent instead, and what
   * changed. Written by the same transition as the resolution, so a replayed record never lacks it.
   */
  repair?: RecordRepair;
}

/** A replay with edits (`deadletter replay --body/--set/--unset`, the Repair… dialog). */
export interface RecordRepair {
  by: string;
  at: string;
  /** What was sent: `message` with the edits applied (the replay counter is added on sending). */
  message: DeadLetter;
  /** `body`, `set KEY`, `unset KEY`, in that order. */
  changes: string[];
  /** When the body changed: `sha256:<hex>` of the new body's bytes, for the audit. */
  bodyDigest?: string;
}

/** The fields of a record a tally needs (by state, entity and age), as the search index keeps them. */
export type RecordSummary = Pick<VaultRecord, "id" | "state" | "cluster" | "entity" | "parkedAt">;

/** Where a resolution came from: the notification's buttons, or `victoria deadletter` (CLI, Slack, /execute). */
export type ResolutionSource = "button" | "command";

export type NewVaultRecord = Omit<
  VaultRecord,
  "state" | "version" | "notification" | "resolution" | "repair" | "remindedAt"
>;

export type TransitionResult =
  | { ok: true; record: VaultRecord }
  | { ok: false; current: VaultRecord | undefined };

/** Durable copies of dead letters: the local filesystem, or S3. */
export interface Vault {
  /** Stores the record unless one with its id exists; either way answers with what is stored. */
  park(record: NewVaultRecord): Promise<{ record: VaultRecord; created: boolean }>;
  get(id: string): Promise<VaultRecord | undefined>;
  /** Every record that matches, newest first. */
  list(filter?: RecordFilter): Promise<VaultRecord[]>;
  /** One page of the records that match, newest first (`--limit`/`--next` of `deadletter ls`). */
  search(filter: RecordFilter, page: PageRequest): Promise<RecordPage>;
  /**
   * What the search index keeps of every record that matches, in no particular order: for counts
   * and ages (the App Home) without reading each record. Reads only records changed since the
   * index's last compaction (and long bodies a `grep` must confirm).
   */
  summaries(filter: RecordFilter): Promise<RecordSummary[]>;
  /**
   * Ids that start with `prefix` (lowercase hex; anything else matches nothing), in id order, at
   * most `limit`: what a person types from a listing that shows an id's first characters. Lists
   * names only (a folder, or ListObjectsV2 with that prefix); reads no record.
   */
  idsWithPrefix(prefix: string, limit: number): Promise<string[]>;
  /**
   * Records of messages with this Service Bus message id, newest first, at most `limit`: one per
   * time the message was dead-lettered (a replayed message that fails again is a new record).
   */
  findByMessageId(messageId: string, limit: number): Promise<VaultRecord[]>;
  markNotified(id: string, notification: NonNullable<VaultRecord["notification"]>): Promise<VaultRecord>;
  /**
   * Sets `remindedAt` if it is unset (`at` a time), or clears it (`null`, a reminder that could not
   * be posted); true only for the caller whose write changed it, so a reminder is claimed once.
   */
  markReminded(id: string, at: string | null): Promise<boolean>;
  /**
   * Moves `id` from `from` to `to` only if it is still in `from`; otherwise says what it is now.
   * `repair` belongs with the resolution: written with it, and dropped by a transition without one
   * (a replay whose sending failed goes back to `parked` without its edit).
   */
  transition(
    id: string,
    from: VaultState,
    to: VaultState,
    resolution: NonNullable<VaultRecord["resolution"]>,
    repair?: RecordRepair,
  ): Promise<TransitionResult>;
}
