import { randomUUID } from "node:crypto";
import type { DedupeStore } from "@victoria/core/idempotency/dedupe-store";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Dispatcher } from "@victoria/core/ports";
import {
  stripLeadingMentions,
  TokenizeError,
  tokenize,
  unformatSlackText,
} from "@victoria/core/slack/command-tokenizer";
import {
  SLACK_COMMAND_JOB,
  type SlackCommandJob,
  unreadableCommandReply,
} from "@victoria/core/slack/slack-command-job";
import { code, mrkdwn } from "@victoria/core/slack/slack-text";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import * as z from "@victoria/core/validation/zod";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { requireSlackSignature, requireSlackSignatureHeaders } from "../http/slack-signature-middleware";

export const MAX_SLACK_BODY_BYTES = 256 * 1024;
/** Slack retries for up to about an hour; remember deliveries a little longer. */
export const DEDUPE_TTL_MS = 2 * 60 * 60 * 1000;

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

export interface AuthenticateDeps {
  signingSecret: string;
  dispatcher: Dispatcher;
  dedupe: DedupeStore;
  logger: Logger;
  /** Our bot's user id when known (SLACK_BOT_USER_ID); events also name it in `authorizations`. */
  botUserId?: string;
  nowSeconds?: () => number;
}

type EventsEnvelope = Extract<z.infer<typeof eventsEnvelopeSchema>, { type: "event_callback" }>;

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

/**
 * `POST /authenticate`: Slack's front door. Verifies, parses, deduplicates and acknowledges at
 * once; the slow part (authorization, audit, execute, reply) runs as a dispatched job.
 */
export function authenticateRoute(deps: AuthenticateDeps): Hono {
  const { dispatcher, dedupe, logger } = deps;

  async function handOff(key: string, job: SlackCommandJob): Promise<"dispatched" | "duplicate"> {
    if (!(await dedupe.claim(key, DEDUPE_TTL_MS))) return "duplicate";
    try {
      await dispatcher.dispatch({ kind: SLACK_COMMAND_JOB, payload: job });
      return "dispatched";
    } catch (error) {
      // Give the claim back so Slack's retry of this delivery can succeed.
      await dedupe.release(key);
      throw error;
    }
  }

  return new Hono().post(
    "/authenticate",
    requireSlackSignatureHeaders({ ...deps, route: "/authenticate" }),
    limitBodySize(MAX_SLACK_BODY_BYTES),
    requireSlackSignature({ ...deps, route: "/authenticate" }),
    async (c) => {
      const raw = await c.req.text();
      const type = c.req.header("content-type") ?? "";
      const requestId = randomUUID();
      const retry = c.req.header("x-slack-retry-num");

      if (type.startsWith("application/x-www-form-urlencoded")) {
        const form = Object.fromEntries(new URLSearchParams(raw));
        // Slack checks a slash command's certificate with `ssl_check=1` and wants a plain 200.
        if (form.ssl_check === "1") return c.body(null, 200);
        const parsed = slashCommandSchema.safeParse(form);
        if (!parsed.success)
          return jsonError(c, 400, `Not a Slack slash command: ${describeIssues(parsed.error)}`);
        const slash = parsed.data;
        const text = unformatSlackText(slash.text).trim();
        // A line that cannot be split never runs: its refusal is the only answer, not a "Running …"
        // ack followed by the refusal (the job splits it again, for mentions and DMs too).
        try {
          tokenize(text);
        } catch (error) {
          if (!(error instanceof TokenizeError)) throw error;
          logger.info("slack command unreadable", { requestId, source: "slash_command", retry });
          return c.json({ response_type: "ephemeral", ...unreadableCommandReply(error) });
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
        let outcome: "dispatched" | "duplicate";
        try {
          outcome = await handOff(`slash:${slash.trigger_id}`, job);
        } catch (error) {
          logger.error("dispatch failed", { requestId, errorMessage: (error as Error).message });
          return c.json({
            response_type: "ephemeral",
            text: "Sorry, Victoria could not start your command; please try again.",
          });
        }
        logger.info("slack command accepted", { requestId, source: "slash_command", outcome, retry });
        if (outcome === "duplicate") return c.body(null, 200);
        const shown = text ? `${slash.command} ${text}` : slash.command;
        return c.json({ response_type: "ephemeral", text: mrkdwn`Running ${code(shown, 200)}…`.text });
      }

      if (!type.startsWith("application/json")) {
        return jsonError(
          c,
          415,
          "Expected a Slack slash command (form-encoded) or an Events API callback (JSON)",
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return jsonError(c, 400, "Malformed JSON in request body");
      }
      const parsed = eventsEnvelopeSchema.safeParse(body);
      if (!parsed.success) {
        // Other callback types (app_rate_limited, ...) are acknowledged, not failed, so Slack stops sending them.
        if (
          typeof (body as { type?: unknown })?.type === "string" &&
          (body as { type: string }).type !== "event_callback"
        ) {
          logger.info("slack callback ignored", { type: (body as { type: string }).type });
          return c.body(null, 200);
        }
        return jsonError(c, 400, `Not a Slack Events API callback: ${describeIssues(parsed.error)}`);
      }
      const envelope = parsed.data;
      if (envelope.type === "url_verification") return c.json({ challenge: envelope.challenge });

      const command = commandFromEvent(envelope, deps.botUserId);
      if (!command) return c.body(null, 200);
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
      let outcome: "dispatched" | "duplicate";
      try {
        outcome = await handOff(`event:${envelope.event_id}`, job);
      } catch (error) {
        logger.error("dispatch failed", { requestId, errorMessage: (error as Error).message });
        // A 5xx makes Slack retry the delivery later.
        return jsonError(c, 503, "Could not hand the event off; Slack will retry");
      }
      logger.info("slack command accepted", { requestId, source: command.source, outcome, retry });
      return c.body(null, 200);
    },
  );
}
