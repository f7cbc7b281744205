import type { ApprovalRequest } from "../approvals/approval";
import { type ApprovalFlow, type HeldJobResult, holdForApproval } from "../approvals/approval-flow";
import { bulkDialogForCommand } from "../deadletter/bulk-dialog";
import type { Logger } from "../logging/json-logger";
import { type GateChannel, gateChannel, type PolicyGate } from "../policy/policy-gate";
import type { Chat, ChatMessage, CommandResult } from "../ports";
import { type AuditLog, type AuditRecord, outputForAudit } from "../security/audit-log";
import * as z from "../validation/zod";
import { type CommandReply, noticeReply, resultReply } from "./command-reply";
import { TokenizeError, tokenize } from "./command-tokenizer";
import { code, escapeWithin, type Mrkdwn, mrkdwn } from "./slack-text";

export const SLACK_COMMAND_JOB = "slack-command";

/** What `/authenticate` hands over after acknowledging; JSON so it can cross a Lambda invoke. */
export const slackCommandJobSchema = z.object({
  requestId: z.string(),
  source: z.enum(["slash_command", "app_mention", "direct_message"]),
  userId: z.string(),
  teamId: z.optional(z.string()),
  channelId: z.string(),
  /** The command line, mentions stripped and Slack formatting undone. */
  text: z.string(),
  /** Slash commands answer here. */
  responseUrl: z.optional(z.string()),
  /** Mentions and DMs answer in this thread. */
  threadTs: z.optional(z.string()),
  /** A slash command's: opens a dialog (`deadletter bulk`) within Slack's 3 s. */
  triggerId: z.optional(z.string()),
  /** When the front door received the request (epoch ms): EndToEndLatency ends when the answer is posted. */
  receivedAt: z.optional(z.number()),
});
export type SlackCommandJob = z.infer<typeof slackCommandJobSchema>;

export interface SlackCommandDeps {
  chat: Chat;
  /** Who may run what, where: the command policy, or without one the SRE group. */
  gate: PolicyGate;
  /** Where a command that needs approval goes; absent, such a command is refused. */
  approvals?: Pick<ApprovalFlow, "request">;
  audit: AuditLog;
  /** Runs the command through `/execute`; rejects when it could not be run at all. */
  execute(args: readonly string[], requestId: string, requester?: string): Promise<CommandResult>;
  logger: Logger;
  now?: () => Date;
}

/** Answers the user where they asked: response_url for slash commands, the thread otherwise. */
async function reply(
  chat: Chat,
  job: SlackCommandJob,
  message: CommandReply | ChatMessage,
  privately: boolean,
) {
  if (job.source === "slash_command" && job.responseUrl) {
    await chat.respond(job.responseUrl, {
      text: message.text,
      blocks: message.blocks,
      responseType: privately ? "ephemeral" : "in_channel",
    });
    return;
  }
  if (privately && job.source === "app_mention") {
    // Ephemeral, even in a thread: only the asker sees it.
    await chat.postEphemeral({
      ...pick(message),
      channel: job.channelId,
      user: job.userId,
      threadTs: job.threadTs,
    });
    return;
  }
  await chat.postMessage({ ...pick(message), channel: job.channelId, threadTs: job.threadTs });
  const overflow = "overflow" in message ? message.overflow : undefined;
  // A file in a DM stays private; private output elsewhere has no file, only its cut.
  if (overflow !== undefined && (!privately || job.source === "direct_message")) {
    await chat.uploadFile({
      channel: job.channelId,
      threadTs: job.threadTs,
      filename: "victoria-output.txt",
      title: "Full output",
      content: overflow,
    });
  }
}

const pick = ({ text, blocks }: ChatMessage): ChatMessage => ({ text, blocks });

/**
 * The answer to a command line that cannot be split into arguments. `/authenticate` gives it to a
 * slash command as its only reply (no "Running …" for a command that never runs); the job gives it
 * to mentions and DMs, which get no acknowledgement.
 */
export function unreadableCommandReply(error: TokenizeError): ChatMessage {
  return noticeReply(
    mrkdwn`Sorry, I could not read that command: ${error.message}. Quote arguments that contain spaces, e.g. \`encrypt data 'two words'\`, and escape a lone quote as \\'.`,
  );
}

/** When Slack's 3 s for opening a dialog ran out (a slow start of the worker). */
const BULK_DIALOG_LATE =
  "Sorry, the bulk dialog could not open in time; try again, click Bulk… on a dead-letter notification, or run `deadletter replay|delete` with filter flags (--dry-run first).";

/** Where a job comes from, as the policy sees it: a direct message is a DM channel (`D…`). */
export function jobChannel(job: SlackCommandJob): GateChannel {
  return gateChannel(job.channelId, job.source === "direct_message");
}

/** A run an approval allowed: the audit names the approval; the answer goes in the request's thread. */
interface Held {
  approvalId: string;
  channel: string;
  threadTs?: string;
}

interface Runner {
  /** Audits, runs through `/execute` and answers. */
  run(job: SlackCommandJob, args: string[], email: string | undefined, held?: Held): Promise<HeldJobResult>;
}

function createRunner(deps: SlackCommandDeps): Runner {
  const { chat, audit, logger, now = () => new Date() } = deps;
  return {
    async run(asked, args, email, held) {
      // Answers as to a mention in the request's thread (a slash command's response_url may be stale).
      const job: SlackCommandJob = held
        ? {
            ...asked,
            source: "app_mention",
            channelId: held.channel,
            threadTs: held.threadTs,
            responseUrl: undefined,
          }
        : asked;
      const record = (phase: AuditRecord["phase"], fields: Partial<AuditRecord> = {}) =>
        audit.write({
          requestId: asked.requestId,
          source: asked.source,
          user: email ? { id: asked.userId, email } : { id: asked.userId },
          team: asked.teamId,
          channel: asked.channelId,
          command: asked.text,
          ...(held ? { approvalId: held.approvalId } : {}),
          phase,
          time: now().toISOString(),
          ...fields,
        });
      try {
        await record("requested");
      } catch (error) {
        logger.error("audit write failed; command not run", {
          requestId: job.requestId,
          errorMessage: (error as Error).message,
        });
        await reply(
          chat,
          job,
          noticeReply("Sorry, I could not write the audit record for your command, so I did not run it."),
          true,
        );
        return { outcome: "not run: the audit record could not be written" };
      }

      const started = performance.now();
      let result: CommandResult;
      try {
        result = await deps.execute(args, job.requestId, email);
      } catch (error) {
        const reason = (error as Error).message;
        await record("finished", {
          exitStatus: "error",
          durationMs: Math.round(performance.now() - started),
          output: reason,
        }).catch((e: Error) =>
          logger.error("audit write failed", { requestId: job.requestId, errorMessage: e.message }),
        );
        await reply(
          chat,
          job,
          noticeReply(
            mrkdwn`:warning: I could not run ${code(job.text, 200)}: ${escapeWithin(reason, 2000)}`,
          ),
          true,
        );
        return { outcome: `could not run: ${reason}` };
      }
      await record("finished", {
        exitStatus: result.exitCode,
        durationMs: Math.round(performance.now() - started),
        ...outputForAudit(result.output, result.sensitive === true),
      }).catch((error: Error) =>
        logger.error("audit write failed", { requestId: job.requestId, errorMessage: error.message }),
      );
      // A decrypted secret or a stored file is for the requester's eyes only.
      await reply(chat, job, resultReply(args, result), result.sensitive === true);
      return { outcome: `exit ${result.exitCode}`, exitStatus: result.exitCode };
    },
  };
}

/**
 * The slow half of `/authenticate`: the gate (policy or SRE group), then run, hold for approval or
 * refuse. Every refusal and failure is told to the user; nothing runs without its audit record.
 */
export function createSlackCommandHandler(deps: SlackCommandDeps): (job: SlackCommandJob) => Promise<void> {
  const { chat, audit, logger, now = () => new Date() } = deps;
  const runner = createRunner(deps);

  return async function handleSlackCommand(job) {
    let args: string[];
    try {
      args = tokenize(job.text);
    } catch (error) {
      if (!(error instanceof TokenizeError)) throw error;
      await reply(chat, job, unreadableCommandReply(error), true);
      return;
    }

    const dialog = job.triggerId ? bulkDialogForCommand(args, job.channelId) : undefined;
    if (dialog && job.triggerId) {
      // Only the form: its preview and its job pass the gate as `deadletter replay|delete`.
      try {
        await chat.openView(job.triggerId, dialog);
      } catch (error) {
        logger.warn("could not open the bulk dialog", {
          requestId: job.requestId,
          errorMessage: (error as Error).message,
        });
        await reply(chat, job, noticeReply(BULK_DIALOG_LATE), true);
      }
      return;
    }
    const outcome = await deps.gate.check(job.userId, jobChannel(job), args);
    const refuse = async (reason: string, message: string | Mrkdwn, email?: string) => {
      logger.warn("slack command refused", { requestId: job.requestId, reason });
      await audit
        .write({
          phase: "refused",
          requestId: job.requestId,
          time: now().toISOString(),
          source: job.source,
          user: email ? { id: job.userId, email } : { id: job.userId },
          team: job.teamId,
          channel: job.channelId,
          command: job.text,
          reason,
        })
        .catch((error: Error) =>
          logger.error("audit write failed", { requestId: job.requestId, errorMessage: error.message }),
        );
      await reply(chat, job, noticeReply(message), true);
    };

    if (outcome.kind === "refuse") return refuse(outcome.reason, outcome.message, outcome.email);
    if (outcome.kind === "allow") {
      await runner.run(job, args, outcome.email);
      return;
    }
    const held = await holdForApproval(deps.approvals, {
      requestId: job.requestId,
      decision: outcome.decision,
      requester: { slackId: job.userId, email: outcome.email ?? "" },
      channel: jobChannel(job),
      command: args,
      source: job.source,
      ...(job.teamId ? { teamId: job.teamId } : {}),
      job: { kind: SLACK_COMMAND_JOB, payload: job },
    });
    if (!held.ok) return refuse(held.reason, held.message, outcome.email);
    await reply(chat, job, noticeReply(held.notice), true);
  };
}

/**
 * Runs a command an approval held back, once, as its requester: the result goes in the approval
 * request's thread (a sensitive one to the requester only), as a mention's would.
 */
export function createApprovedCommandRunner(
  deps: SlackCommandDeps,
): (request: ApprovalRequest) => Promise<HeldJobResult> {
  const runner = createRunner(deps);
  return async (request) => {
    const job = slackCommandJobSchema.parse(request.job?.payload);
    return runner.run(job, [...request.command], request.requester.email || undefined, {
      approvalId: request.id,
      channel: request.message?.channel ?? request.channelId,
      ...(request.message ? { threadTs: request.message.ts } : {}),
    });
  };
}
