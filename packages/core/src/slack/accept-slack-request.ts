import type { DedupeStore } from "../idempotency/dedupe-store";
import type { Logger } from "../logging/json-logger";
import type { Dispatcher, Job } from "../ports";
import { parseSlackRequest, type SlackAnswer } from "./slack-request";

/** Slack retries for up to about an hour; remember deliveries a little longer. */
export const DEDUPE_TTL_MS = 2 * 60 * 60 * 1000;

export interface AcceptSlackRequestDeps {
  dispatcher: Dispatcher;
  dedupe: DedupeStore;
  logger: Logger;
  /** Our bot's user id when known (SLACK_BOT_USER_ID); events also name it in `authorizations`. */
  botUserId?: string;
}

/** A verified request to `/authenticate`, as much of it as the answer depends on. */
export interface SlackDelivery {
  contentType: string;
  rawBody: string;
  /** The front door's request id (`requestIdOf`): the job and the log lines carry it. */
  requestId: string;
  /** Slack's `x-slack-retry-num`, logged so a retried delivery can be told from a new one. */
  retry?: string;
}

/**
 * Slack's front door: reads the request, hands its job (if any) off once per delivery and says what
 * to answer at once; the slow part (authorization, audit, execute, reply) runs as the job.
 */
export async function acceptSlackRequest(
  { contentType, rawBody, requestId, retry }: SlackDelivery,
  { dispatcher, dedupe, logger, botUserId }: AcceptSlackRequestDeps,
): Promise<SlackAnswer> {
  const request = parseSlackRequest(contentType, rawBody, { requestId, botUserId });
  if (request.kind !== "job") {
    if (request.log) logger.info(request.log.message, { requestId, ...request.log.fields, retry });
    return request;
  }
  let outcome: "dispatched" | "duplicate";
  try {
    outcome = await handOff(request.dedupeKey, request.job, dispatcher, dedupe);
  } catch (error) {
    logger.error("dispatch failed", { requestId, errorMessage: (error as Error).message });
    return request.failed;
  }
  logger.info(request.log.message, { requestId, ...request.log.fields, outcome, retry });
  return outcome === "duplicate" ? { kind: "ack" } : request.ack;
}

async function handOff(
  key: string,
  job: Job,
  dispatcher: Dispatcher,
  dedupe: DedupeStore,
): Promise<"dispatched" | "duplicate"> {
  if (!(await dedupe.claim(key, DEDUPE_TTL_MS))) return "duplicate";
  try {
    await dispatcher.dispatch(job);
    return "dispatched";
  } catch (error) {
    // Give the claim back so Slack's retry of this delivery can succeed.
    await dedupe.release(key);
    throw error;
  }
}
