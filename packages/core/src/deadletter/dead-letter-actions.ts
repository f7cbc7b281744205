import { failedRequestEnvelopeSchema } from "../failed-requests/failed-request-envelope";
import type { CommandResult } from "../ports";
import type { Bus, OutgoingMessage } from "./bus";
import { type DeadLetter, entityPath } from "./dead-letter";
import type { ActionOptions, ActionOutcome, DeadLetterActions } from "./dead-letter-actions-types";
import { parseEmailAddress } from "./email-address";
import type { Mailer } from "./mailer";
import { applyRepair, describeChanges, hasEdits, REPLAY_COUNT_PROPERTY, RepairError } from "./repair";
import { connectionFor } from "./service-bus-connections";
import { createSubscriptionRuleAdmin } from "./subscription-replay-rules";
import { refuseUnsafeSubscriptionReplay, replayDestination } from "./subscription-replay-send";
import type { RecordRepair, Vault, VaultRecord, VaultState } from "./vault";
import { lookUpRecord } from "./vault-lookup";

export { REPLAY_COUNT_PROPERTY };

export interface DeadLetterActionDeps {
  vault: Vault;
  bus: Bus;
  /** SERVICE_BUS_CONNECTIONS by cluster. */
  connections: Readonly<Record<string, string>>;
  /** Absent where no mail is configured: Email then fails with a clear message. */
  mailer?: Mailer;
  /** Re-runs a failed Victoria request through `/execute` (its replay). */
  execute?(args: readonly string[], requester: string): Promise<CommandResult>;
  /** REPLAY_LIMIT: replays allowed per message. */
  maxReplays: number;
  /**
   * Added to "No connection for cluster …": what to do about it where these actions run (the CLI
   * says how to reach the local server's broker; a server needs none).
   */
  connectionHint?: string;
  now?: () => Date;
}

const PAST: Record<VaultState, string> = {
  parked: "parked",
  replayed: "replayed",
  emailed: "emailed",
  deleted: "deleted",
};

function already(record: VaultRecord): ActionOutcome {
  // A Slack member id renders as a mention in Slack; a CLI actor (`cli:alice`) as itself.
  const by = record.resolution?.by;
  const name = by && /^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : by;
  const via = record.resolution?.via === "command" ? " via command" : "";
  const who = record.resolution ? ` by ${name}${via} at ${record.resolution.at}` : "";
  return {
    ok: false,
    reason: "already",
    message: `This dead letter was already ${PAST[record.state]}${who}.`,
    record,
  };
}

function replayCount(message: DeadLetter): number {
  const value = Number(message.applicationProperties[REPLAY_COUNT_PROPERTY] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/** The message as it was sent originally (never the broker-set fields), plus the replay counter. */
function replayMessage(message: DeadLetter): OutgoingMessage {
  return {
    body: message.body,
    messageId: message.messageId,
    contentType: message.contentType,
    subject: message.subject,
    correlationId: message.correlationId,
    sessionId: message.sessionId,
    partitionKey: message.partitionKey,
    replyTo: message.replyTo,
    replyToSessionId: message.replyToSessionId,
    to: message.to,
    timeToLive: message.timeToLive,
    applicationProperties: {
      ...message.applicationProperties,
      [REPLAY_COUNT_PROPERTY]: replayCount(message) + 1,
    },
  };
}

function failedRequestArgs(message: DeadLetter): string[] | undefined {
  if (message.body.kind !== "json") return undefined;
  const parsed = failedRequestEnvelopeSchema.safeParse(message.body.value);
  return parsed.success ? parsed.data.payload.args : undefined;
}

function bodyAttachment(message: DeadLetter): {
  filename: string;
  content: string | Uint8Array;
  contentType: string;
} {
  switch (message.body.kind) {
    case "json":
      return {
        filename: "body.json",
        content: JSON.stringify(message.body.value, null, 2),
        contentType: "application/json",
      };
    case "text":
      return {
        filename: "body.txt",
        content: message.body.text,
        contentType: message.contentType ?? "text/plain",
      };
    case "bytes":
      return {
        filename: "body.bin",
        content: Buffer.from(message.body.base64, "base64"),
        contentType: message.contentType ?? "application/octet-stream",
      };
    case "empty":
      return { filename: "body.txt", content: "", contentType: "text/plain" };
  }
}

/**
 * Replay, email and delete as compare-and-set transitions out of `parked`: whoever wins the
 * transition does the effect; everyone else is told who did. If the effect fails, the record is
 * put back to `parked` so it can be acted on again — nothing is lost.
 */
export function createDeadLetterActions(deps: DeadLetterActionDeps): DeadLetterActions {
  const { vault, bus, now = () => new Date() } = deps;

  /** Says which clusters there are (never their connection strings) and what to do. */
  function noConnection(cluster: string): string {
    const known = Object.keys(deps.connections);
    const has =
      known.length === 0
        ? "SERVICE_BUS_CONNECTIONS is not set in this process"
        : `SERVICE_BUS_CONNECTIONS has ${known.map((name) => `'${name}'`).join(", ")}`;
    return `No connection for cluster '${cluster}': ${has}.${deps.connectionHint ? ` ${deps.connectionHint}` : ""}`;
  }

  /** Claims the record for `to`, runs the effect, and puts the record back if the effect fails. */
  async function act(
    ref: string,
    to: Exclude<VaultState, "parked">,
    by: string,
    note: string | undefined,
    options: ActionOptions,
    check: (record: VaultRecord) => ActionOutcome | undefined | Promise<ActionOutcome | undefined>,
    effect: (record: VaultRecord) => Promise<string | undefined>,
    /** An edit to record with the claim (a repair): one write, so the claim never lacks it. */
    repairOf?: (record: VaultRecord) => RecordRepair | undefined,
  ): Promise<ActionOutcome> {
    const found = await lookUpRecord(vault, ref);
    if (!found.ok) return { ok: false, reason: found.reason, message: found.message };
    const { record } = found;
    const { id } = record;
    if (record.state !== "parked") return already(record);
    const refused = await check(record);
    if (refused) return refused;
    const at = now().toISOString();
    const claimed = await vault.transition(
      id,
      "parked",
      to,
      { by, at, ...(options.via ? { via: options.via } : {}), ...(note ? { note } : {}) },
      repairOf?.(record),
    );
    if (!claimed.ok) {
      return claimed.current
        ? already(claimed.current)
        : { ok: false, reason: "missing", message: `No dead letter with id ${id}.` };
    }
    try {
      const detail = await effect(claimed.record);
      return { ok: true, record: claimed.record, ...(detail === undefined ? {} : { detail }) };
    } catch (error) {
      const reason = (error as Error).message;
      const back = await vault.transition(id, to, "parked", {
        by,
        at: now().toISOString(),
        note: `${to} failed: ${reason}`,
      });
      return {
        ok: false,
        reason: "failed",
        message: `Could not ${to === "replayed" ? "replay" : to === "emailed" ? "email" : "delete"} it: ${reason}. It is still parked; try again.`,
        record: back.ok ? back.record : record,
      };
    }
  }

  return {
    rules: createSubscriptionRuleAdmin({ bus, connections: deps.connections, noConnection }),

    list: (filter = {}) => vault.list(filter),

    search: (filter, page) => vault.search(filter, page),

    show: (ref) => lookUpRecord(vault, ref),

    async replay(ref, by, options = {}) {
      const edits = hasEdits(options.edits) ? options.edits : undefined;
      let repair: RecordRepair | undefined;
      return act(
        ref,
        "replayed",
        by,
        options.note,
        options,
        async (record) => {
          // A subscription's dead letter goes to its subscription alone, or is refused before any claim.
          const unsafe = await refuseUnsafeSubscriptionReplay(deps, record, options);
          if (unsafe) return unsafe;
          const count = replayCount(record.message);
          if (count >= deps.maxReplays) {
            return {
              ok: false,
              reason: "limit",
              message: `This message was already replayed ${count} times (the limit is ${deps.maxReplays}); email or delete it instead.`,
              record,
            };
          }
          if (edits && failedRequestArgs(record.message) !== undefined) {
            // Its replay runs the command in the body again: an edited one would be a new command.
            return {
              ok: false,
              reason: "invalid",
              message:
                "This is a failed Victoria request: its replay runs the command again, so it cannot be edited. Run the command you want yourself instead.",
              record,
            };
          }
          if (
            connectionFor(deps.connections, record.cluster) === undefined &&
            failedRequestArgs(record.message) === undefined
          ) {
            return { ok: false, reason: "unconfigured", message: noConnection(record.cluster), record };
          }
          if (edits) {
            try {
              const repaired = applyRepair(record.message, edits);
              // Edits that change nothing are a plain replay: nothing to record.
              if (repaired.changes.length > 0) {
                repair = {
                  by,
                  at: now().toISOString(),
                  message: repaired.message,
                  changes: repaired.changes,
                  ...(repaired.bodyDigest ? { bodyDigest: repaired.bodyDigest } : {}),
                };
              }
            } catch (error) {
              if (!(error instanceof RepairError)) throw error;
              return { ok: false, reason: "invalid", message: error.message, record };
            }
          }
          return undefined;
        },
        async (record) => {
          const args = failedRequestArgs(record.message);
          if (args && deps.execute) {
            // A failed Victoria request: replaying it means running the command again.
            const result = await deps.execute(args, by);
            // The detail is posted in the notification's thread: a secret must not be.
            const output = result.sensitive
              ? "(output withheld: this command prints secrets; run it yourself to see them privately)"
              : result.output;
            return `victoria ${args.join(" ")} → exit ${result.exitCode === 0 ? "0" : "non-zero"}\n${output}`;
          }
          const connection = connectionFor(deps.connections, record.cluster) as string;
          const sent = record.repair?.message ?? record.message;
          const destination = replayDestination(record.entity, replayMessage(sent), options);
          await bus.send(connection, destination.target, [destination.message]);
          const edited = record.repair ? ` with edits: ${describeChanges(record.repair.changes)}` : "";
          return `${destination.detail}${edited}`;
        },
        () => repair,
      );
    },

    delete(ref, by, note, options = {}) {
      return act(
        ref,
        "deleted",
        by,
        note,
        options,
        () => undefined,
        async () => undefined,
      );
    },

    email(ref, to, by, note, options = {}) {
      let address: string;
      try {
        address = parseEmailAddress(to);
      } catch (error) {
        return Promise.resolve({ ok: false, reason: "invalid", message: (error as Error).message });
      }
      const mailer = deps.mailer;
      return act(
        ref,
        "emailed",
        by,
        note ? `to ${address}: ${note}` : `to ${address}`,
        options,
        (record) =>
          mailer
            ? undefined
            : {
                ok: false,
                reason: "unconfigured",
                message: "Email is not configured here (SMTP_URL, MAIL_FROM).",
                record,
              },
        async (record) => {
          const m = record.message;
          const text = [
            `A dead letter parked by Victoria, sent by ${by}.`,
            note ? `\nNote: ${note}\n` : "",
            `Cluster: ${record.cluster}`,
            `Namespace: ${record.namespace}`,
            `Entity: ${entityPath(record.entity)}`,
            `Message id: ${m.messageId}`,
            `Sequence number: ${m.sequenceNumber}`,
            `Enqueued: ${m.enqueuedTime}`,
            `Delivery count: ${m.deliveryCount}`,
            `Dead-letter reason: ${m.deadLetterReason ?? "(none)"}`,
            `Dead-letter description: ${m.deadLetterErrorDescription ?? "(none)"}`,
            `Subject: ${m.subject ?? "(none)"}`,
            `Content type: ${m.contentType ?? "(none)"}`,
            "",
            "The body and the full record are attached.",
          ].join("\n");
          await (mailer as Mailer).send({
            to: address,
            subject: `Dead letter ${m.messageId} on ${record.cluster}/${entityPath(record.entity)}`,
            text,
            attachments: [
              bodyAttachment(m),
              {
                filename: `dead-letter-${record.id}.json`,
                content: JSON.stringify(record, null, 2),
                contentType: "application/json",
              },
            ],
          });
          return `emailed to ${address}`;
        },
      );
    },
  };
}
