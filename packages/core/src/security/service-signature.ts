import {
  checkTimestampedHeaders,
  type SignatureCheck,
  type SignatureHeaders,
  type TimestampedHmacScheme,
  timestampedSignature,
  verifyTimestampedHmac,
} from "./timestamped-hmac";

/**
 * Service-to-service signatures for `/execute` (docs/contracts.md):
 * `X-Victoria-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>`,
 * `X-Victoria-Timestamp: <unix seconds>`, accepted within five minutes either way.
 */
export const SIGNATURE_HEADER = "x-victoria-signature";
export const TIMESTAMP_HEADER = "x-victoria-timestamp";

const SCHEME: TimestampedHmacScheme = {
  version: "v1",
  timestampHeader: "X-Victoria-Timestamp",
  signatureHeader: "X-Victoria-Signature",
};

export function signServiceRequest(
  secret: string,
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    "X-Victoria-Timestamp": timestamp,
    "X-Victoria-Signature": timestampedSignature(SCHEME, secret, body, timestamp),
  };
}

export interface SignatureInput {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds?: number;
}

export function verifyServiceRequest(input: SignatureInput): SignatureCheck {
  return verifyTimestampedHmac(SCHEME, input);
}

/** The checks that need no body (headers present, timestamp fresh): run before reading one. */
export function checkServiceRequestHeaders(headers: SignatureHeaders): SignatureCheck {
  return checkTimestampedHeaders(SCHEME, headers);
}
