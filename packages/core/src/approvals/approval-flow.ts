import type { Logger } from "../logging/json-logger";
import type { ApprovalNeeded } from "../policy/decide";
import type { PolicyGate } from "../policy/policy-gate";
import type { Chat, ChatMessage } from "../ports";
import type { AuditLog, AuditRecord } from "../security/audit-log";
import { noticeReply } from "../slack/command-reply";
import { code, type Mrkdwn, mention, mrkdwn } from "../slack/slack-text";
import { tellPrivately } from "../slack/tell-privately";
import * as z from "../validation/zod";
import {
  type ApprovalRequest,
  approve,
  expire,
  type HeldJob,
  isPastExpiry,
  markRan,
  mentions,
  newApprovalRequest,
  type Person,
  recordMessage,
  reject,
} from "./approval";
import { approvalMessage, auditedCommand, shownCommand } from "./approval-blocks";
import type { ApprovalStore } from "./approval-store";

/** An Approve or Reject click on an approval request, handed from `/resolve` to the worker. */
export const approvalDecisionJobSchema = z.object({
  requestId: z.string(),
  approvalId: z.string(),
  decision: z.enum(["approve", "reject"]),
  userId: z.string(),
  teamId: z.optional(z.string()),
  channel: z.optional(z.string()),
  responseUrl: z.optional(z.string()),
});
export type ApprovalDecisionJob = z.infer<typeof approvalDecisionJobSchema>;

/** What the held job did once approved: a line for the request's status and the audit. */
export interface HeldJobResult {
  outcome: string;
  exitStatus?: number;
}

export interface ApprovalFlowDeps {
  chat: Chat;
  store: ApprovalStore;
  /** Approvers are members of the request's approver subjects under the current policy. */
  gate: Pick<PolicyGate, "isInSubjects">;
  audit: AuditLog;
  logger: Logger;
  /** Runs an approved request's held job once, as its requester (answers in the request's thread). */
  run(request: ApprovalRequest): Promise<HeldJobResult>;
  now?: () => Date;
}

export interface NewApproval {
  requestId: string;
  decision: ApprovalNeeded;
  requester: Person;
  channel: { id: string; isDm: boolean };
  command: readonly string[];
  source: AuditRecord["source"];
  teamId?: string;
  /** What to run once approved. */
  job: HeldJob;
}

/**
 * Holds a command (or click) the gate said needs approval: posts the request, or says why it could
 * not be (no approval flow here, a DM, Slack refused the post). `notice` is for the requester.
 */
export async function holdForApproval(
  flow: Pick<ApprovalFlow, "request"> | undefined,
  input: NewApproval,
): Promise<{ ok: true; notice: Mrkdwn } | { ok: false; reason: string; message: Mrkdwn }> {
  const { decision } = input;
  if (!flow) {
    return {
      ok: false,
      reason: `${decision.explanation}; approvals are not available here`,
      message: mrkdwn`${decision.message}, and approvals are not available here.`,
    };
  }
  const requested = await flow.request(input);
  if (!requested.ok) return { ok: false, reason: decision.explanation, message: requested.message };
  return {
    ok: true,
    notice: mrkdwn`${decision.message}: request posted. You will hear in its thread when it is approved, rejected or expires.`,
  };
}

/** What the requester is told after asking: the request was posted, or why it could not be. */
export type RequestOutcome = { ok: true; request: ApprovalRequest } | { ok: false; message: Mrkdwn };

export interface ApprovalFlow {
  /** Stores a request for `decision`, posts it in the channel with Approve / Reject, audits it. */
  request(input: NewApproval): Promise<RequestOutcome>;
  /** One Approve or Reject click: checked, applied exactly once, audited, told and redrawn. */
  decide(job: ApprovalDecisionJob): Promise<void>;
  /** Expires what is past its time unanswered, telling each requester; returns how many. */
  expireDue(): Promise<number>;
}

/**
 * Approvals for risky commands. A request is stored before it is posted, so a click always finds it;
 * every change is a conditional write (ApprovalStore.update), so of two approvers clicking at once,
 * or a click Slack retried, exactly one write moves the request to approved, and only that caller
 * runs the held job.
 */
export function createApprovalFlow(deps: ApprovalFlowDeps): ApprovalFlow {
  const { chat, store, gate, audit, logger, now = () => new Date() } = deps;

  const write = (record: Omit<AuditRecord, "time">) =>
    audit
      .write({ ...record, time: now().toISOString() })
      .catch((error: Error) =>
        logger.error("audit write failed", { requestId: record.requestId, errorMessage: error.message }),
      );

  const auditOf = (
    request: ApprovalRequest,
    phase: AuditRecord["phase"],
    requestId: string,
    who: Person,
    output?: string,
  ): Omit<AuditRecord, "time"> => ({
    phase,
    requestId,
    source: "interaction",
    user: who.email ? { id: who.slackId, email: who.email } : { id: who.slackId },
    channel: request.channelId,
    command: auditedCommand(request.command),
    reason: request.ruleLabel,
    approvalId: request.id,
    ...(output === undefined ? {} : { output }),
  });

  async function redraw(request: ApprovalRequest): Promise<void> {
    if (!request.message) return;
    await chat.updateMessage({ ...approvalMessage(request), ...request.message }).catch((error: Error) =>
      logger.error("could not redraw the approval request", {
        approvalId: request.id,
        errorMessage: error.message,
      }),
    );
  }

  /** A line in the request's thread, mentioning whom it concerns (so Slack notifies them). */
  async function inThread(request: ApprovalRequest, text: Mrkdwn): Promise<void> {
    const message = noticeReply(text);
    const where = request.message ?? { channel: request.channelId, ts: undefined };
    await chat
      .postMessage({ ...message, channel: where.channel, ...(where.ts ? { threadTs: where.ts } : {}) })
      .catch((error: Error) =>
        logger.error("could not tell the requester", { approvalId: request.id, errorMessage: error.message }),
      );
  }

  const tell = (job: ApprovalDecisionJob, message: ChatMessage) => tellPrivately(chat, logger, job, message);

  async function expired(request: ApprovalRequest, requestId: string): Promise<void> {
    await write(auditOf(request, "expired", requestId, request.requester));
    await redraw(request);
    await inThread(
      request,
      mrkdwn`${mention(request.requester.slackId)} your request to run ${code(shownCommand(request.command), 300)} expired unanswered; nothing ran. Ask again if it is still needed.`,
    );
  }

  async function runApproved(request: ApprovalRequest, requestId: string): Promise<void> {
    await redraw(request);
    await inThread(
      request,
      mrkdwn`${mention(request.requester.slackId)} approved by ${mentions(request.approvals)}: running ${code(shownCommand(request.command), 300)} now.`,
    );
    let result: HeldJobResult;
    try {
      result = await deps.run(request);
    } catch (error) {
      result = { outcome: `could not run: ${(error as Error).message}` };
      logger.error("approved job failed", {
        approvalId: request.id,
        requestId,
        errorMessage: (error as Error).message,
      });
    }
    const ran = await store.update(request.id, (current) => markRan(current, result, now()));
    await redraw(ran.request ?? request);
  }

  return {
    async request(input) {
      const { decision } = input;
      if (input.channel.isDm) {
        // Approvers cannot see a direct message, so nobody could ever approve it there.
        return {
          ok: false,
          message: mrkdwn`${decision.message}. Approvers cannot see a direct message: run it in a channel where they can approve it.`,
        };
      }
      let request: ApprovalRequest;
      try {
        request = await store.create(
          newApprovalRequest(
            {
              command: [...input.command],
              requester: input.requester,
              channelId: input.channel.id,
              ruleIndex: decision.ruleIndex,
              ruleLabel: decision.rule,
              approvers: [...decision.from],
              count: decision.count,
              expiresInMs: decision.expiresMs,
              job: input.job,
            },
            now(),
          ),
        );
      } catch (error) {
        logger.error("could not store the approval request", {
          requestId: input.requestId,
          errorMessage: (error as Error).message,
        });
        return {
          ok: false,
          message: mrkdwn`${decision.message}, but I could not store the approval request, so nothing was posted. Please try again.`,
        };
      }
      await write({
        ...auditOf(request, "approval-requested", input.requestId, input.requester),
        source: input.source,
        ...(input.teamId ? { team: input.teamId } : {}),
      });
      try {
        const posted = await chat.postMessage({ ...approvalMessage(request), channel: request.channelId });
        const recorded = await store.update(request.id, (current) => recordMessage(current, posted));
        return { ok: true, request: recorded.request ?? request };
      } catch (error) {
        logger.error("could not post the approval request", {
          requestId: input.requestId,
          approvalId: request.id,
          errorMessage: (error as Error).message,
        });
        // Nobody can click a request that was never posted: withdraw it, so the sweep does not tell anyone.
        await store.update(request.id, (current) =>
          reject(current, input.requester, now(), "could not be posted"),
        );
        return {
          ok: false,
          message: mrkdwn`${decision.message}, but I could not post the approval request in this channel (is the app a member?), so nothing will run.`,
        };
      }
    },

    async decide(job) {
      const current = await store.get(job.approvalId);
      if (!current) {
        await tell(job, noticeReply("This approval request no longer exists."));
        return;
      }
      const isRequester = job.userId === current.requester.slackId;
      const member = await gate.isInSubjects(job.userId, current.approvers).catch((error: Error) => {
        logger.error("approver check failed", { requestId: job.requestId, errorMessage: error.message });
        return { ok: false as const, email: undefined };
      });
      const who: Person = { slackId: job.userId, email: member.email ?? "" };
      const command = code(shownCommand(current.command), 300);

      if (job.decision === "approve" && isRequester) {
        await tell(
          job,
          noticeReply(mrkdwn`You cannot approve your own request: ${current.approvers.join(" or ")} must.`),
        );
        await write({
          ...auditOf(current, "refused", job.requestId, who),
          reason: "own request: approval refused",
        });
        return;
      }
      if (!member.ok && !(job.decision === "reject" && isRequester)) {
        await tell(
          job,
          noticeReply(
            mrkdwn`Only members of ${current.approvers.join(" or ")} may ${job.decision} this request.`,
          ),
        );
        await write({
          ...auditOf(current, "refused", job.requestId, who),
          reason: `not an approver (${current.approvers.join(", ")})`,
        });
        return;
      }

      const at = now();
      const update = await store.update(job.approvalId, (request) =>
        job.decision === "approve" ? approve(request, who, at) : reject(request, who, at),
      );
      if (!update.ok) {
        await tell(job, noticeReply(update.refusal.message));
        if (update.event === "expired" && update.request) await expired(update.request, job.requestId);
        return;
      }
      const request = update.request;
      /** One approver's approval, "n of count", whether or not it was the last one needed. */
      const writeApproval = () =>
        write(
          auditOf(request, "approval", job.requestId, who, `${request.approvals.length} of ${request.count}`),
        );
      switch (update.event) {
        case "approval-recorded":
          await writeApproval();
          await redraw(request);
          await tell(
            job,
            noticeReply(
              mrkdwn`Approved (${request.approvals.length} of ${request.count}): ${command} runs after ${request.count - request.approvals.length} more.`,
            ),
          );
          return;
        case "approved":
          await writeApproval();
          await runApproved(request, job.requestId);
          return;
        case "rejected":
          await write(auditOf(request, "rejected", job.requestId, who));
          await redraw(request);
          if (!isRequester) {
            await inThread(
              request,
              mrkdwn`${mention(request.requester.slackId)} your request to run ${command} was rejected by ${mention(job.userId)}; nothing ran.`,
            );
          }
          return;
        default:
          logger.warn("unexpected approval event", { requestId: job.requestId, event: update.event });
      }
    },

    async expireDue() {
      let count = 0;
      for (const pending of await store.pending()) {
        if (!isPastExpiry(pending, now())) continue;
        const update = await store.update(pending.id, (request) => expire(request, now()));
        if (update.ok && update.event === "expired") {
          count += 1;
          await expired(update.request, `expiry-${pending.id}`);
        }
      }
      return count;
    },
  };
}
