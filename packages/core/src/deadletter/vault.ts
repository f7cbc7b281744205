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
  state: VaultState;
  /** Bumped by every change; what compare-and-set compares. */
  version: number;
  /** Set once the Slack notification that covers it was posted. */
  notification?: { channel: string; ts: string; id: string; at: string };
  /** Who moved it out of `parked`, when, how (a notification's button or a command) and any note. */
  resolution?: { by: string; at: string; via?: ResolutionSource; note?: string };
  message: DeadLetter;
}

/** Where a resolution came from: the notification's buttons, or `victoria deadletter` (CLI, Slack, /execute). */
export type ResolutionSource = "button" | "command";

export type NewVaultRecord = Omit<VaultRecord, "state" | "version" | "notification" | "resolution">;

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
  /** Moves `id` from `from` to `to` only if it is still in `from`; otherwise says what it is now. */
  transition(
    id: string,
    from: VaultState,
    to: VaultState,
    resolution: NonNullable<VaultRecord["resolution"]>,
  ): Promise<TransitionResult>;
}
