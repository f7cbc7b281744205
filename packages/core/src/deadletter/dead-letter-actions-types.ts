import type { BulkJobs } from "./bulk-jobs";
import type { PageRequest, RecordFilter, RecordPage } from "./record-filter";
import type { RepairEdits } from "./repair";
import type { SubscriptionRuleAdmin } from "./subscription-replay-rules";
import type { TopicRulesMemo } from "./subscription-replay-send";
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
       * failed (record unchanged), worth trying again. unsafe-topic: a subscription's replay would
       * reach other subscriptions of its topic (the rules that prevent it are missing; see
       * subscription-replay.ts).
       */
      reason:
        | "missing"
        | "ambiguous"
        | "already"
        | "limit"
        | "invalid"
        | "unconfigured"
        | "failed"
        | "unsafe-topic";
      message: string;
      record?: VaultRecord;
      /** With unsafe-topic: who a topic-wide replay (`toTopic`) would reach besides the subscription. */
      topicReplay?: { topic: string; subscription: string; others: string[] };
    };

/** How an action came about; kept in the record's resolution and shown in the notification. */
export interface ActionOptions {
  via?: ResolutionSource;
  /** Kept in the resolution (a bulk job names itself here); `delete`/`email` take theirs as an argument. */
  note?: string;
}

/** A replay may carry edits (a repair): the vault keeps the original and records the edited one. */
export interface ReplayOptions extends ActionOptions {
  edits?: RepairEdits;
  /**
   * A subscription's dead letter goes to its whole topic (every subscription gets a copy) instead
   * of to the subscription alone; chosen explicitly (`--to-topic`, a confirmed button).
   */
  toTopic?: boolean;
  /** Topic rules a bulk job's batch shares between its replays (see `TopicRulesMemo`). */
  topicRules?: TopicRulesMemo;
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
  replay(ref: string, by: string, options?: ReplayOptions): Promise<ActionOutcome>;
  delete(ref: string, by: string, note?: string, options?: ActionOptions): Promise<ActionOutcome>;
  email(ref: string, to: string, by: string, note?: string, options?: ActionOptions): Promise<ActionOutcome>;
  /** Replay and delete by filter (`deadletter replay|delete <filter flags>`), where the host has a job store. */
  bulk?: BulkJobs;
  /** `deadletter rules check|install`: the topic rules a replay to one subscription needs. */
  rules?: SubscriptionRuleAdmin;
}
