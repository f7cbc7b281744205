import type { ApprovalRequest } from "../approvals/approval";
import { type ApprovalFlow, type HeldJobResult, holdForApproval } from "../approvals/approval-flow";
import type { Logger } from "../logging/json-logger";
import { gateChannel, type PolicyGate } from "../policy/policy-gate";
import type { Chat, ChatMessage } from "../ports";
import type { AuditLog, AuditRecord } from "../security/audit-log";
import { noticeReply } from "../slack/command-reply";
import { codeBlock, type Mrkdwn, mention, mrkdwn } from "../slack/slack-text";
import { tellPrivately } from "../slack/tell-privately";
import * as z from "../validation/zod";
import type { ActionOutcome, DeadLetterActions } from "./dead-letter-actions-types";
import { auditInteractionRefusal } from "./interaction-refusal";
import { redrawNotification } from "./notification-redraw";
import { hasEdits } from "./repair";
import { topicReplayOffer } from "./subscription-replay-offer";
import type { Vault } from "./vault";

export const RESOLVE_JOB = "resolve-dead-letter";

/** One click (or one email or repair dialog submission) on a dead-letter notification. */
export const resolveJobSchema = z.object({
  requestId: z.string(),
  /** `repair`: a replay with `edits`, from the Repair… dialog. */
  action: z.enum(["replay", "repair", "delete", "email", "replay_all", "delete_all", "replay_topic"]),
  /** A vault record id, or `batch:<notification id>` for the bulk actions. */
  target: z.string(),
  userId: z.string(),
  teamId: z.optional(z.string()),
  channel: z.optional(z.string()),
  /** The notification message's ts. */
  messageTs: z.optional(z.string()),
  responseUrl: z.optional(z.string()),
  /**
   * Clicked on the App Home tab (no message, no response_url): the person is answered in their DM
   * with the app, and the gate sees the click in the record's notification channel, as the same
   * button there would be seen.
   */
  origin: z.optional(z.literal("home")),
  address: z.optional(z.string()),
  note: z.optional(z.string()),
  edits: z.optional(
    z.object({
      body: z.optional(z.string()),
      set: z.optional(z.record(z.string(), z.string())),
      unset: z.optional(z.array(z.string())),
    }),
  ),
});
export type ResolveJob = z.infer<typeof resolveJobSchema>;

/** A repair must change something: without edits it would replay the original unedited, unasked. */
export const REPAIR_WITHOUT_EDITS =
  "This repair names no edit (a new body, or a property to set or unset), so nothing was replayed. To send the message as it is, click Replay.";

export interface ResolveDeps {
  chat: Chat;
  /** The buttons pass the same gate as the commands they stand for. */
  gate: PolicyGate;
  /** Where a click that needs approval goes; absent, such a click is refused. */
  approvals?: Pick<ApprovalFlow, "request">;
  audit: AuditLog;
  actions: DeadLetterActions;
  vault: Vault;
  logger: Logger;
  now?: () => Date;
}

/**
 * What the user is told about an action that did not happen. Someone who was first is named with a
 * mention; every other message is outside text (ids, Service Bus errors) and escaped as such.
 */
function failureNotice(outcome: Extract<ActionOutcome, { ok: false }>): string | Mrkdwn {
  const resolution = outcome.record?.resolution;
  if (outcome.reason !== "already" || !outcome.record || !resolution) return outcome.message;
  const via = resolution.via === "command" ? mrkdwn` via command` : mrkdwn``;
  return mrkdwn`This dead letter was already ${outcome.record.state} by ${mention(resolution.by)}${via} at ${resolution.at}.`;
}

/** Telling the clicker, and the action itself (audited, exactly once per record, redrawn). */
function createResolveParts(deps: ResolveDeps) {
  const { chat, audit, actions, vault, logger, now = () => new Date() } = deps;

  const tell = (job: ResolveJob, message: ChatMessage) =>
    tellPrivately(chat, logger, job.origin === "home" ? { ...job, direct: true } : job, message);

  async function one(job: ResolveJob, id: string): Promise<ActionOutcome> {
    const via = { via: "button" } as const;
    switch (job.action) {
      case "replay":
      case "replay_all":
        return actions.replay(id, job.userId, via);
      case "repair":
        // Also refused before the gate; here for a repair an approval held from before that check.
        if (!hasEdits(job.edits)) return { ok: false, reason: "invalid", message: REPAIR_WITHOUT_EDITS };
        return actions.replay(id, job.userId, { ...via, edits: job.edits });
      case "replay_topic":
        // Confirmed in a dialog that named every other subscription.
        return actions.replay(id, job.userId, { ...via, toTopic: true });
      case "delete":
      case "delete_all":
        return actions.delete(id, job.userId, job.note, via);
      case "email":
        return actions.email(id, job.address ?? "", job.userId, job.note, via);
    }
  }

  /** The action itself, audited, once the gate (or an approval) let `email`'s click through. */
  async function act(
    job: ResolveJob,
    email: string | undefined,
    approvalId?: string,
  ): Promise<HeldJobResult> {
    const command = commandOf(job).join(" ");
    const record = (phase: AuditRecord["phase"], fields: Partial<AuditRecord> = {}) =>
      audit.write({
        phase,
        requestId: job.requestId,
        time: now().toISOString(),
        source: "interaction",
        user: email ? { id: job.userId, email } : { id: job.userId },
        team: job.teamId,
        channel: job.channel,
        command: `${command} ${job.target}`,
        ...(approvalId ? { approvalId } : {}),
        ...fields,
      });
    /** Who changed what: the fields a repair changed and the new body's digest, never its text. */
    const edits = (outcome: ActionOutcome | undefined): Pick<AuditRecord, "edits"> => {
      if (job.action !== "repair") return {};
      const repair = outcome?.ok ? outcome.record.repair : undefined;
      // Before it runs, or when it did not replay (refused, failed): what was asked for.
      if (!repair) return { edits: { changes: askedChanges(job) } };
      return {
        edits: { changes: repair.changes, ...(repair.bodyDigest ? { bodyDigest: repair.bodyDigest } : {}) },
      };
    };
    try {
      await record("requested", edits(undefined));
    } catch (error) {
      logger.error("audit write failed; action not taken", {
        requestId: job.requestId,
        errorMessage: (error as Error).message,
      });
      await tell(job, noticeReply("Sorry, I could not write the audit record, so I did nothing."));
      return { outcome: "not run: the audit record could not be written" };
    }

    const started = performance.now();
    let outcomes: ActionOutcome[];
    let notificationId: string | undefined;
    if (job.target.startsWith("batch:")) {
      notificationId = job.target.slice("batch:".length);
      const parked = await vault.list({ notificationId, state: "parked" });
      outcomes = [];
      for (const r of parked) outcomes.push(await one(job, r.id));
    } else {
      outcomes = [await one(job, job.target)];
      const touched = outcomes[0] && "record" in outcomes[0] ? outcomes[0].record : undefined;
      notificationId = touched?.notification?.id;
    }
    const succeeded = outcomes.filter((o) => o.ok);
    const failed = outcomes.filter((o): o is Extract<ActionOutcome, { ok: false }> => !o.ok);
    const summary = job.target.startsWith("batch:")
      ? `${job.action === "replay_all" ? "Replayed" : "Deleted"} ${succeeded.length} of ${outcomes.length}; ${failed.length} failed or were already resolved.`
      : (failed[0]?.message ?? succeeded[0]?.detail ?? "done");
    await record("finished", {
      exitStatus: failed.length === 0 ? 0 : "error",
      durationMs: Math.round(performance.now() - started),
      output: summary,
      ...edits(outcomes[0]),
    }).catch((e: Error) =>
      logger.error("audit write failed", { requestId: job.requestId, errorMessage: e.message }),
    );

    if (job.target.startsWith("batch:")) await tell(job, noticeReply(summary));
    else if (failed[0]?.topicReplay && failed[0].reason === "unsafe-topic")
      await tell(job, topicReplayOffer(job.target, failed[0].message, failed[0].topicReplay));
    else if (failed[0]) await tell(job, noticeReply(failureNotice(failed[0])));
    const replayed = succeeded[0];
    if (
      !job.target.startsWith("batch:") &&
      replayed?.ok &&
      job.action === "replay" &&
      replayed.detail?.startsWith("victoria ")
    ) {
      // A failed Victoria request was re-run: its result goes in the notification's thread.
      const notification = replayed.record.notification;
      if (notification) {
        await chat
          .postMessage({
            channel: notification.channel,
            threadTs: notification.ts,
            text: codeBlock(replayed.detail).block.text,
          })
          .catch((e: Error) => logger.error("could not post the replay result", { errorMessage: e.message }));
      }
    }
    // A click on a dead letter someone resolved another way (a command) finds stale buttons: the
    // clicker is told privately above, and the notification is redrawn so nobody clicks them again.
    const stale = failed.some((o) => o.reason === "already");
    if ((succeeded.length > 0 || stale) && notificationId) {
      await redrawNotification({ vault, chat }, notificationId).catch((e: Error) =>
        logger.error("could not update the notification", {
          requestId: job.requestId,
          errorMessage: e.message,
        }),
      );
    }
    return { outcome: summary, exitStatus: failed.length === 0 ? 0 : 1 };
  }

  return { tell, act };
}

/**
 * The slow half of `/resolve`: the gate for the command the click stands for, then act exactly
 * once, hold for approval or refuse; the user is told privately when it failed or someone was first,
 * and the notification is redrawn with the outcome.
 */
export function createResolveHandler(deps: ResolveDeps): (job: ResolveJob) => Promise<void> {
  const { audit, logger, now = () => new Date() } = deps;
  const { tell, act } = createResolveParts(deps);

  return async function handleResolve(clicked) {
    const job = await inNotificationChannel(deps.vault, clicked);
    const words = commandOf(job);
    const refuse = async (reason: string, message: string | Mrkdwn, email?: string) => {
      await auditInteractionRefusal({ audit, logger, now }, job, {
        command: `${words.join(" ")} ${job.target}`,
        reason,
        email,
      });
      await tell(job, noticeReply(message));
    };
    // Before the gate: no one should be asked to approve (or be allowed) a "repair" that is a plain replay.
    if (job.action === "repair" && !hasEdits(job.edits))
      return refuse("repair without edits", REPAIR_WITHOUT_EDITS);
    const outcome = await deps.gate.check(job.userId, gateChannel(job.channel ?? ""), words);
    if (outcome.kind === "refuse") return refuse(outcome.reason, outcome.message, outcome.email);
    if (outcome.kind === "allow") {
      await act(job, outcome.email);
      return;
    }
    const held = await holdForApproval(job.channel ? deps.approvals : undefined, {
      requestId: job.requestId,
      decision: outcome.decision,
      requester: { slackId: job.userId, email: outcome.email ?? "" },
      channel: gateChannel(job.channel ?? ""),
      // An approver sees which fields a repair changes (not the new body).
      command: job.action === "repair" ? [...words, job.target, ...editFlags(job)] : [...words, job.target],
      source: "interaction",
      ...(job.teamId ? { teamId: job.teamId } : {}),
      job: { kind: RESOLVE_JOB, payload: { ...job, responseUrl: undefined } },
    });
    if (!held.ok) return refuse(held.reason, held.message, outcome.email);
    await tell(job, noticeReply(held.notice));
  };
}

/**
 * The words a click stands for in the command policy: Replay is `deadletter replay`, Delete
 * `deadletter delete`, Email `deadletter email`; Replay all / Delete all the same commands in bulk.
 */
export function commandOf(job: ResolveJob): string[] {
  // A repair is `deadletter replay` with edits, as on the command line: the policy matches commands
  // without their options, so one rule must govern both (a `repair` name would be a second door).
  if (job.action === "repair") return ["deadletter", "replay"];
  if (job.action === "replay_topic") return ["deadletter", "replay", "--to-topic"];
  const verb = job.action.replace("_all", "");
  return job.action.endsWith("_all") ? ["deadletter", verb, "--all"] : ["deadletter", verb];
}

/**
 * A click on the App Home has no channel: it is taken as a click in the channel of the record's
 * notification (where the same button is), so the policy's channel rules and approvals apply alike.
 */
async function inNotificationChannel(vault: Pick<Vault, "get">, job: ResolveJob): Promise<ResolveJob> {
  if (job.origin !== "home" || job.channel !== undefined || job.target.startsWith("batch:")) return job;
  const channel = (await vault.get(job.target))?.notification?.channel;
  return channel === undefined ? job : { ...job, channel };
}

/** Runs a click an approval held back, once, as the requester who clicked. */
export function createApprovedActionRunner(
  deps: ResolveDeps,
): (request: ApprovalRequest) => Promise<HeldJobResult> {
  const { act } = createResolveParts(deps);
  return async (request) => {
    const job = resolveJobSchema.parse(request.job?.payload);
    return act(job, request.requester.email || undefined, request.id);
  };
}

/** What a repair asks to change: `body`, `set KEY`, `unset KEY` (never a value). */
function askedChanges(job: ResolveJob): string[] {
  const edits = job.edits ?? {};
  return [
    ...(edits.body === undefined ? [] : ["body"]),
    ...Object.keys(edits.set ?? {}).map((key) => `set ${key}`),
    ...(edits.unset ?? []).map((key) => `unset ${key}`),
  ];
}

/** A repair's edits as the command's flags with the values left out: `--body … --set tenant=… --unset x`. */
function editFlags(job: ResolveJob): string[] {
  const edits = job.edits ?? {};
  return [
    ...(edits.body === undefined ? [] : ["--body", "…"]),
    ...Object.keys(edits.set ?? {}).flatMap((key) => ["--set", `${key}=…`]),
    ...(edits.unset ?? []).flatMap((key) => ["--unset", key]),
  ];
}
