import { FAILURE_CLASSES } from "../failure-class";
import * as z from "../validation/zod";

export const MSG_VICTORIA_REQUEST_FAILED = "MSG_VICTORIA_REQUEST_FAILED";
/** A target meaning "every subscriber", as in the original message bus. */
export const MSG_SERVICE_ANY = "MSG_SERVICE_ANY";

/** What travels on the failed-requests queue: `{sender, target, type, payload}`. */
export const failedRequestEnvelopeSchema = z.object({
  sender: z.string(),
  target: z.string(),
  type: z.literal(MSG_VICTORIA_REQUEST_FAILED),
  payload: z.object({
    args: z.array(z.string()),
    requestId: z.string(),
    requester: z.optional(z.string()),
    error: z.string(),
    /**
     * Why it failed (see failure-class.ts). Publishers send only `transient` ones; absent in
     * envelopes written before the class existed, which are retried as before.
     */
    failureClass: z.optional(z.enum(FAILURE_CLASSES)),
    /** 1 for the first failure; retries count up. */
    attempt: z.int().check(z.gte(1)),
    failedAt: z.string(),
  }),
});
export type FailedRequestEnvelope = z.infer<typeof failedRequestEnvelopeSchema>;

export function failedRequestEnvelope(payload: FailedRequestEnvelope["payload"]): FailedRequestEnvelope {
  return { sender: "victoria", target: MSG_SERVICE_ANY, type: MSG_VICTORIA_REQUEST_FAILED, payload };
}
