import type { Logger } from "../logging/json-logger";
import type { Chat, ChatMessage, CommandResult } from "../ports";
import { type AuditLog, type AuditRecord, outputForAudit } from "../security/audit-log";
import { type AuthorizationChain, authorizeSlackUser } from "../security/authorize-slack-user";
import * as z from "../validation/zod";
import { type CommandReply, noticeReply, resultReply } from "./command-reply";
import { TokenizeError, tokenize } from "./command-tokenizer";
import { code, escapeWithin, mrkdwn } from "./slack-text";

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
});
export type SlackCommandJob = z.infer<typeof slackCommandJobSchema>;

export interface SlackCommandDeps extends AuthorizationChain {
  chat: Chat;
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

/**
 * The slow half of `/authenticate`: authorize, audit, run through `/execute`, answer. Every
 * refusal and failure is told to the user; nothing runs without its audit record.
 */
export function createSlackCommandHandler(deps: SlackCommandDeps): (job: SlackCommandJob) => Promise<void> {
  const { chat, audit, logger, now = () => new Date() } = deps;

  return async function handleSlackCommand(job) {
    const base = (email?: string): Omit<AuditRecord, "phase" | "time"> => ({
      requestId: job.requestId,
      source: job.source,
      user: email ? { id: job.userId, email } : { id: job.userId },
      team: job.teamId,
      channel: job.channelId,
      command: job.text,
    });
    const record = (phase: AuditRecord["phase"], fields: Partial<AuditRecord> & { email?: string } = {}) => {
      const { email, ...rest } = fields;
      return audit.write({ ...base(email), phase, time: now().toISOString(), ...rest });
    };

    let args: string[];
    try {
      args = tokenize(job.text);
    } catch (error) {
      if (!(error instanceof TokenizeError)) throw error;
      await reply(chat, job, unreadableCommandReply(error), true);
      return;
    }

    const authorization = await authorizeSlackUser(deps, job.userId);
    if (!authorization.ok) {
      logger.warn("slack command refused", { requestId: job.requestId, reason: authorization.reason });
      await record("refused", { email: authorization.email, reason: authorization.reason }).catch(
        (error: Error) =>
          logger.error("audit write failed", { requestId: job.requestId, errorMessage: error.message }),
      );
      await reply(chat, job, noticeReply(authorization.message), true);
      return;
    }

    try {
      await record("requested", { email: authorization.email });
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
      return;
    }

    const started = performance.now();
    let result: CommandResult;
    try {
      result = await deps.execute(args, job.requestId, authorization.email);
    } catch (error) {
      const reason = (error as Error).message;
      await record("finished", {
        email: authorization.email,
        exitStatus: "error",
        durationMs: Math.round(performance.now() - started),
        output: reason,
      }).catch((e: Error) =>
        logger.error("audit write failed", { requestId: job.requestId, errorMessage: e.message }),
      );
      await reply(
        chat,
        job,
        noticeReply(mrkdwn`:warning: I could not run ${code(job.text, 200)}: ${escapeWithin(reason, 2000)}`),
        true,
      );
      return;
    }
    await record("finished", {
      email: authorization.email,
      exitStatus: result.exitCode,
      durationMs: Math.round(performance.now() - started),
      ...outputForAudit(result.output, result.sensitive === true),
    }).catch((error: Error) =>
      logger.error("audit write failed", { requestId: job.requestId, errorMessage: error.message }),
    );
    // A decrypted secret or a stored file is for the requester's eyes only.
    await reply(chat, job, resultReply(args, result), result.sensitive === true);
  };
}
