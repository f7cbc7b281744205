import {
  checkTimestampedHeaders,
  type SignatureCheck,
  type SignatureHeaders,
  type TimestampedHmacScheme,
  timestampedSignature,
  verifyTimestampedHmac,
} from "./timestamped-hmac";

/**
 * Slack's request signing (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret,
 * "v0:" + X-Slack-Request-Timestamp + ":" + raw body)>`, refused when the timestamp is more than
 * five minutes away from now (replays). Shared by `/authenticate` and `/resolve`.
 */
export const SLACK_SIGNATURE_HEADER = "x-slack-signature";
export const SLACK_TIMESTAMP_HEADER = "x-slack-request-timestamp";

const SCHEME: TimestampedHmacScheme = {
  version: "v0",
  timestampHeader: "X-Slack-Request-Timestamp",
  signatureHeader: "X-Slack-Signature",
};

export interface SlackRequestInput {
  signingSecret: string;
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
  /** Injected so tests are deterministic (as Bolt's verifySlackRequest does). */
  nowSeconds?: number;
}

export function verifySlackRequest({ signingSecret, rawBody, ...rest }: SlackRequestInput): SignatureCheck {
  return verifyTimestampedHmac(SCHEME, { secret: signingSecret, body: rawBody, ...rest });
}

/** The checks that need no body (headers present, timestamp fresh): run before reading one. */
export function checkSlackRequestHeaders(headers: SignatureHeaders): SignatureCheck {
  return checkTimestampedHeaders(SCHEME, headers);
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
    "X-Slack-Signature": timestampedSignature(SCHEME, signingSecret, rawBody, timestamp),
  };
}
