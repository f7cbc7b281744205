import {
  type AcceptDeadLetterAlertDeps,
  acceptDeadLetterAlert,
} from "@victoria/core/deadletter/accept-dead-letter-alert";
import { Hono } from "hono";
import { limitBodySize } from "../http/body-size-limit";
import { answerCloudEventsHandshake } from "../http/cloudevents-handshake";
import { jsonError } from "../http/json-errors";
import { type ListenerTokenOptions, requireListenerToken } from "../http/listener-token-middleware";
import { requireJsonContentType } from "../http/require-json-content-type";

export const MAX_LISTENER_BODY_BYTES = 1024 * 1024;

export interface ListenerDeps extends AcceptDeadLetterAlertDeps, ListenerTokenOptions {}

/**
 * `POST /listener`: Azure Monitor alerts and Event Grid events about dead letters. The token is
 * checked here; what each body is answered, and which drains it dispatches, is
 * `acceptDeadLetterAlert`'s (core/deadletter/accept-dead-letter-alert.ts).
 */
export function listenerRoute(deps: ListenerDeps): Hono {
  return new Hono().options("/listener", requireListenerToken(deps), answerCloudEventsHandshake).post(
    "/listener",
    // The token and the content type need no body: an upload that fails them is never read.
    requireListenerToken(deps),
    requireJsonContentType,
    limitBodySize(MAX_LISTENER_BODY_BYTES),
    async (c) => {
      const answer = await acceptDeadLetterAlert(await c.req.text(), deps);
      if (answer.kind === "error") return jsonError(c, answer.status, answer.message);
      return c.json(answer.body, answer.status);
    },
  );
}
