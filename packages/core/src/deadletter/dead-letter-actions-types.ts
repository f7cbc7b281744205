import type { VaultRecord, VaultState } from "./vault";

/** What happened when someone acted on a dead letter. */
export type ActionOutcome =
  | { ok: true; record: VaultRecord; detail?: string }
  | {
      ok: false;
      /** missing: no such record; already: someone acted first; limit: replayed too often; failed: the effect failed (record unchanged). */
      reason: "missing" | "already" | "limit" | "failed";
      message: string;
      record?: VaultRecord;
    };

export interface DeadLetterFilter {
  state?: VaultState;
  cluster?: string;
  /** Entity path, e.g. `orders` or `events/Subscriptions/audit`. */
  entity?: string;
}

/** The operations behind the resolver's buttons and the `victoria deadletter` commands. */
export interface DeadLetterActions {
  list(filter?: DeadLetterFilter): Promise<VaultRecord[]>;
  show(id: string): Promise<VaultRecord | undefined>;
  replay(id: string, by: string): Promise<ActionOutcome>;
  delete(id: string, by: string, note?: string): Promise<ActionOutcome>;
  email(id: string, to: string, by: string, note?: string): Promise<ActionOutcome>;
}
