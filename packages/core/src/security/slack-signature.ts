import { constantTimeEqual, hmacSha256Hex } from "./hmac";

/**
 * Slack's request signing (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret,
 * "v0:" + X-Slack-Request-Timestamp + ":" + raw body)>`, refused when the timestamp is more than
 * five minutes away from now (replays). Shared by `/authenticate` and `/resolve`.
 */
export const SLACK_SIGNATURE_HEADER = "x-slack-signature";
export const SLACK_TIMESTAMP_HEADER = "x-slack-request-timestamp";
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export interface SlackRequestInput {
  signingSecret: string;
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
  /** Injected so tests are deterministic (as Bolt's verifySlackRequest does). */
  nowSeconds?: number;
}

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export function verifySlackRequest({
  signingSecret,
  rawBody,
  timestamp,
  signature,
  nowSeconds = Math.floor(Date.now() / 1000),
}: SlackRequestInput): SlackVerification {
  if (!timestamp || !signature) {
    return { ok: false, reason: "missing X-Slack-Request-Timestamp or X-Slack-Signature" };
  }
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: "X-Slack-Request-Timestamp is not unix seconds" };
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) {
    return { ok: false, reason: "request timestamp is outside the 5-minute window" };
  }
  const expected = `v0=${hmacSha256Hex(signingSecret, `v0:${timestamp}:${rawBody}`)}`;
  if (!constantTimeEqual(expected, signature)) return { ok: false, reason: "signature does not match" };
  return { ok: true };
}

/** Signs a body exactly as Slack does: for tests, the local workbench and benchmarks. */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    "X-Slack-Request-Timestamp": timestamp,
    "X-Slack-Signature": `v0=${hmacSha256Hex(signingSecret, `v0:${timestamp}:${rawBody}`)}`,
  };
}
