import { constantTimeEqual, hmacSha256Hex } from "./hmac";

/**
 * The scheme Slack (`v0`) and our `/execute` (`v1`) both use: `<version>=<hex HMAC-SHA256(secret,
 * "<version>:" + unix seconds + ":" + raw body)>`, accepted within five minutes either way.
 */
export const MAX_SKEW_SECONDS = 5 * 60;

export interface TimestampedHmacScheme {
  version: string;
  /** Header names, for messages that tell the caller what is missing. */
  timestampHeader: string;
  signatureHeader: string;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function timestampedSignature(
  { version }: TimestampedHmacScheme,
  secret: string,
  body: string,
  timestamp: string,
): string {
  return `${version}=${hmacSha256Hex(secret, `${version}:${timestamp}:${body}`)}`;
}

export interface SignatureHeaders {
  timestamp?: string;
  signature?: string;
  nowSeconds?: number;
}

/**
 * What can be checked without the body: both headers present and the timestamp fresh. Routes run
 * it before reading a body, so an unsigned or replayed upload is refused without costing memory.
 */
export function checkTimestampedHeaders(
  scheme: TimestampedHmacScheme,
  { timestamp, signature, nowSeconds = Math.floor(Date.now() / 1000) }: SignatureHeaders,
): SignatureCheck {
  if (!timestamp || !signature) {
    return { ok: false, reason: `missing ${scheme.timestampHeader} or ${scheme.signatureHeader}` };
  }
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: `${scheme.timestampHeader} is not unix seconds` };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) {
    return { ok: false, reason: "request timestamp is outside the 5-minute window" };
  }
  return { ok: true };
}

/** Says why a request is refused (for the 401 message and the log), never echoing secret material. */
export function verifyTimestampedHmac(
  scheme: TimestampedHmacScheme,
  input: SignatureHeaders & { secret: string; body: string },
): SignatureCheck {
  const headers = checkTimestampedHeaders(scheme, input);
  if (!headers.ok) return headers;
  // Both are present once the header check passed; the defaults only satisfy the type.
  const { secret, body, timestamp = "", signature = "" } = input;
  if (!constantTimeEqual(timestampedSignature(scheme, secret, body, timestamp), signature)) {
    return { ok: false, reason: "signature does not match" };
  }
  return { ok: true };
}
