import { PUBLISH_APP_HOME_JOB } from "../app-home/publish-app-home";
import type { Job } from "../ports";
import { describeIssues } from "../validation/describe-issues";
import * as z from "../validation/zod";
import { appHomeJobFromEvent } from "./app-home-opened";
import { stripLeadingMentions, TokenizeError, tokenize, unformatSlackText } from "./command-tokenizer";
import { SLACK_COMMAND_JOB, type SlackCommandJob, unreadableCommandReply } from "./slack-command-job";
import { code, mrkdwn } from "./slack-text";

export const slashCommandSchema = z.object({
  command: z.string().check(z.minLength(1)),
  text: z._default(z.string(), ""),
  user_id: z.string().check(z.minLength(1)),
  team_id: z.optional(z.string()),
  channel_id: z.string().check(z.minLength(1)),
  response_url: z.url(),
  trigger_id: z.string().check(z.minLength(1)),
});

const eventSchema = z.object({
  type: z.string(),
  user: z.optional(z.string()),
  bot_id: z.optional(z.string()),
  subtype: z.optional(z.string()),
  text: z.optional(z.string()),
  channel: z.optional(z.string()),
  channel_type: z.optional(z.string()),
  ts: z.optional(z.string()),
  thread_ts: z.optional(z.string()),
  tab: z.optional(z.string()),
});

const eventsEnvelopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("url_verification"), challenge: z.string() }),
  z.object({
    type: z.literal("event_callback"),
    event_id: z.string().check(z.minLength(1)),
    team_id: z.optional(z.string()),
    event: eventSchema,
    authorizations: z.optional(z.array(z.object({ user_id: z.optional(z.string()) }))),
  }),
]);

type EventsEnvelope = Extract<z.infer<typeof eventsEnvelopeSchema>, { type: "event_callback" }>;

/** What `/authenticate` answers Slack; the route only maps it to HTTP. */
export type SlackAnswer =
  /** `200` with an empty body. */
  | { kind: "ack" }
  /** `200` with a JSON body (an ephemeral reply, the url_verification challenge). */
  | { kind: "json"; body: Record<string, unknown> }
  /** `status` with a JSON error naming `message`. */
  | { kind: "error"; status: 400 | 415 | 503; message: string };

/** A log line about the request; the front door adds the request id, the hand-off's outcome and Slack's retry. */
export interface SlackRequestLog {
  message: string;
  fields: Record<string, unknown>;
}

/** What a verified request to `/authenticate` asks for. */
export type SlackRequest =
  /** Answered at once, nothing to hand off (a refusal, a challenge, an event not for us). */
  | (SlackAnswer & { log?: SlackRequestLog })
  /**
   * A job to hand off once per `dedupeKey` (Slack retries deliveries): `ack` answers it handed off,
   * `failed` answers it not handed off; a duplicate is answered with an empty 200.
   */
  | {
      kind: "job";
      dedupeKey: string;
      job: Job;
      ack: SlackAnswer;
      failed: SlackAnswer;
      log: SlackRequestLog;
    };

export interface SlackRequestOptions {
  /** The front door's request id, written into the job. */
  requestId: string;
  /** Our bot's user id when known (SLACK_BOT_USER_ID); events also name it in `authorizations`. */
  botUserId?: string;
}

const ACK: SlackAnswer = { kind: "ack" };

/**
 * Reads a (verified) request to `/authenticate` by its content type: a slash command
 * (form-encoded) or an Events API callback (JSON), and says what to answer or which job to hand off.
 */
export function parseSlackRequest(
  contentType: string,
  rawBody: string,
  options: SlackRequestOptions,
): SlackRequest {
  if (contentType.startsWith("application/x-www-form-urlencoded")) return parseSlashCommand(rawBody, options);
  if (!contentType.startsWith("application/json"))
    return error(415, "Expected a Slack slash command (form-encoded) or an Events API callback (JSON)");
  return parseEventsCallback(rawBody, options);
}

function parseSlashCommand(rawBody: string, { requestId }: SlackRequestOptions): SlackRequest {
  const form = Object.fromEntries(new URLSearchParams(rawBody));
  // Slack checks a slash command's certificate with `ssl_check=1` and wants a plain 200.
  if (form.ssl_check === "1") return ACK;
  const parsed = slashCommandSchema.safeParse(form);
  if (!parsed.success) return error(400, `Not a Slack slash command: ${describeIssues(parsed.error)}`);
  const slash = parsed.data;
  const text = unformatSlackText(slash.text).trim();
  // A line that cannot be split never runs: its refusal is the only answer, not a "Running …"
  // ack followed by the refusal (the job splits it again, for mentions and DMs too).
  try {
    tokenize(text);
  } catch (thrown) {
    if (!(thrown instanceof TokenizeError)) throw thrown;
    return {
      kind: "json",
      body: { response_type: "ephemeral", ...unreadableCommandReply(thrown) },
      log: { message: "slack command unreadable", fields: { source: "slash_command" } },
    };
  }
  const job: SlackCommandJob = {
    requestId,
    source: "slash_command",
    userId: slash.user_id,
    teamId: slash.team_id,
    channelId: slash.channel_id,
    text,
    responseUrl: slash.response_url,
    triggerId: slash.trigger_id,
  };
  const shown = text ? `${slash.command} ${text}` : slash.command;
  return {
    kind: "job",
    dedupeKey: `slash:${slash.trigger_id}`,
    job: { kind: SLACK_COMMAND_JOB, payload: job },
    ack: ephemeral(mrkdwn`Running ${code(shown, 200)}…`.text),
    failed: ephemeral("Sorry, Victoria could not start your command; please try again."),
    log: { message: "slack command accepted", fields: { source: "slash_command" } },
  };
}

function parseEventsCallback(rawBody: string, { requestId, botUserId }: SlackRequestOptions): SlackRequest {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return error(400, "Malformed JSON in request body");
  }
  const parsed = eventsEnvelopeSchema.safeParse(body);
  if (!parsed.success) {
    // Other callback types (app_rate_limited, ...) are acknowledged, not failed, so Slack stops sending them.
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type === "string" && type !== "event_callback")
      return { ...ACK, log: { message: "slack callback ignored", fields: { type } } };
    return error(400, `Not a Slack Events API callback: ${describeIssues(parsed.error)}`);
  }
  const envelope = parsed.data;
  if (envelope.type === "url_verification") return { kind: "json", body: { challenge: envelope.challenge } };
  const job = jobFromEvent(envelope, botUserId, requestId);
  if (!job) return ACK;
  return {
    kind: "job",
    dedupeKey: `event:${envelope.event_id}`,
    job,
    ack: ACK,
    // A 5xx makes Slack retry the delivery later.
    failed: { kind: "error", status: 503, message: "Could not hand the event off; Slack will retry" },
    log:
      job.kind === SLACK_COMMAND_JOB
        ? {
            message: "slack command accepted",
            fields: { source: (job.payload as SlackCommandJob).source },
          }
        : { message: "app home requested", fields: {} },
  };
}

/** Which events are commands for us; everything else (bots, edits, channel chatter) is ignored. */
function commandFromEvent(envelope: EventsEnvelope, botUserId: string | undefined) {
  const { event } = envelope;
  const ours = new Set([botUserId, ...(envelope.authorizations ?? []).map((a) => a.user_id)].filter(Boolean));
  if (event.bot_id || event.subtype || !event.user || ours.has(event.user)) return undefined;
  if (!event.channel || event.text === undefined) return undefined;
  if (event.type === "app_mention") return { source: "app_mention" as const, event };
  if (event.type === "message" && event.channel_type === "im")
    return { source: "direct_message" as const, event };
  return undefined;
}

/** The job an event asks for: a command (mention, DM), the Home tab to publish, or none. */
function jobFromEvent(
  envelope: EventsEnvelope,
  botUserId: string | undefined,
  requestId: string,
): Job | undefined {
  const home = appHomeJobFromEvent(envelope.event, envelope, requestId);
  if (home) return { kind: PUBLISH_APP_HOME_JOB, payload: home };
  const command = commandFromEvent(envelope, botUserId);
  if (!command) return undefined;
  const { event } = command;
  const job: SlackCommandJob = {
    requestId,
    source: command.source,
    userId: event.user as string,
    teamId: envelope.team_id,
    channelId: event.channel as string,
    text: unformatSlackText(stripLeadingMentions(event.text ?? "")).trim(),
    threadTs: event.thread_ts ?? event.ts,
  };
  return { kind: SLACK_COMMAND_JOB, payload: job };
}

function ephemeral(text: string): SlackAnswer {
  return { kind: "json", body: { response_type: "ephemeral", text } };
}

function error(status: 400 | 415, message: string): SlackAnswer {
  return { kind: "error", status, message };
}
