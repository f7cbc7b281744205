import { constantTimeEqual, hmacSha256Hex } from "./hmac";

/**
 * Service-to-service signatures for `/execute` (CONTRACTS.md):
 * `X-Victoria-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>`,
 * `X-Victoria-Timestamp: <unix seconds>`, accepted within five minutes either way.
 */
export const SIGNATURE_HEADER = "x-victoria-signature";
export const TIMESTAMP_HEADER = "x-victoria-timestamp";
export const MAX_SKEW_SECONDS = 5 * 60;

export function signServiceRequest(
  secret: string,
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    "X-Victoria-Timestamp": timestamp,
    "X-Victoria-Signature": `v1=${hmacSha256Hex(secret, `v1:${timestamp}:${body}`)}`,
  };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export interface SignatureInput {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds?: number;
}

/** Says why a request is refused (for the 401 message and the log), never echoing secret material. */
export function verifyServiceRequest({
  secret,
  body,
  timestamp,
  signature,
  nowSeconds = Math.floor(Date.now() / 1000),
}: SignatureInput): SignatureCheck {
  if (!timestamp || !signature)
    return { ok: false, reason: "missing X-Victoria-Timestamp or X-Victoria-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "X-Victoria-Timestamp is not unix seconds" };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) {
    return { ok: false, reason: "request timestamp is outside the 5-minute window" };
  }
  const expected = `v1=${hmacSha256Hex(secret, `v1:${timestamp}:${body}`)}`;
  if (!constantTimeEqual(expected, signature)) return { ok: false, reason: "signature does not match" };
  return { ok: true };
}
