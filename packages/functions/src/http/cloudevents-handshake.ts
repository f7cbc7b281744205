import type { Context } from "hono";
import { jsonError } from "./json-errors";

/**
 * CloudEvents 1.0 webhook validation (Event Grid with the CloudEvents schema): an `OPTIONS`
 * handshake answered from its headers alone, so it never reaches the body parser.
 */
export function answerCloudEventsHandshake(c: Context): Response {
  const origin = c.req.header("webhook-request-origin");
  if (!origin)
    return jsonError(c, 400, "Expected the WebHook-Request-Origin header of a CloudEvents handshake");
  c.header("WebHook-Allowed-Origin", origin);
  c.header("WebHook-Allowed-Rate", "*");
  return c.body(null, 200);
}
