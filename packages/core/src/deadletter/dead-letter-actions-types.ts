import type { PageRequest, RecordFilter, RecordPage } from "./record-filter";
import type { ResolutionSource, VaultRecord } from "./vault";
import type { RecordLookup } from "./vault-lookup";

/** What happened when someone acted on a dead letter. */
export type ActionOutcome =
  | { ok: true; record: VaultRecord; detail?: string }
  | {
      ok: false;
      /**
       * missing: no such record; ambiguous: the reference names several (a usage error); already:
       * someone acted first; limit: replayed too often; invalid: bad input (an email address);
       * unconfigured: this deployment cannot do it (no SMTP, no connection); failed: the effect
       * failed (record unchanged), worth trying again.
       */
      reason: "missing" | "ambiguous" | "already" | "limit" | "invalid" | "unconfigured" | "failed";
      message: string;
      record?: VaultRecord;
    };

/** How an action came about; kept in the record's resolution and shown in the notification. */
export interface ActionOptions {
  via?: ResolutionSource;
}

/**
 * The operations behind the resolver's buttons and the `victoria deadletter` commands. `ref` is a
 * record id, a unique prefix of one or a Service Bus message id (see `lookUpRecord`).
 */
export interface DeadLetterActions {
  /** Every record that matches, newest first. */
  list(filter?: RecordFilter): Promise<VaultRecord[]>;
  /** One page of them (`deadletter ls --limit/--next`). */
  search(filter: RecordFilter, page: PageRequest): Promise<RecordPage>;
  show(ref: string): Promise<RecordLookup>;
  replay(ref: string, by: string, options?: ActionOptions): Promise<ActionOutcome>;
  delete(ref: string, by: string, note?: string, options?: ActionOptions): Promise<ActionOutcome>;
  email(ref: string, to: string, by: string, note?: string, options?: ActionOptions): Promise<ActionOutcome>;
}
