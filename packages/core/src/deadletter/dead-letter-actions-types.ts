import type { VaultRecord, VaultState } from "./vault";

/** What happened when someone acted on a dead letter. */
export type ActionOutcome =
  | { ok: true; record: VaultRecord; detail?: string }
  | {
      ok: false;
      /**
       * missing: no such record; already: someone acted first; limit: replayed too often; invalid: bad
       * input (an email address); unconfigured: this deployment cannot do it (no SMTP, no connection);
       * failed: the effect failed (record unchanged), worth trying again.
       */
      reason: "missing" | "already" | "limit" | "invalid" | "unconfigured" | "failed";
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
