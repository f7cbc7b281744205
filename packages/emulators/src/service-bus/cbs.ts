import type { AmqpMessage } from "./amqp-message";

/**
 * Claims-based security on `$cbs`: the SDK sends `put-token` with a SAS token for every link it
 * opens and waits for a reply whose `correlation_id` is the request's `message_id` and whose
 * `status-code` is 2xx. Loopback only, so any token is accepted.
 */
export function cbsReply(request: AmqpMessage): AmqpMessage {
  const operation = request.application_properties?.operation;
  const ok = operation === "put-token";
  return {
    correlation_id: request.message_id,
    ...(typeof request.reply_to === "string" ? { to: request.reply_to } : {}),
    application_properties: ok
      ? { "status-code": 202, "status-description": "Accepted" }
      : { "status-code": 400, "status-description": `Unsupported $cbs operation '${String(operation)}'` },
  };
}
