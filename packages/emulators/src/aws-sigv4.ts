/**
 * SigV4 as the AWS stand-ins take it: clients sign with dummy static keys, and a request's
 * `Authorization` header must be present, well formed and scoped to the stand-in's region and
 * service. The signature itself is not verified.
 */

/** An AWS SDK client's settings for a stand-in: its endpoint, its region, dummy static keys. */
export interface StandInClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Dummy static keys for a stand-in's `clientConfig` (a fresh object each call). */
export function standInCredentials(): StandInClientConfig["credentials"] {
  return { accessKeyId: "STANDIN", secretAccessKey: "STANDIN" };
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/\d{8}\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=[a-z0-9;-]+,\s*Signature=[0-9a-f]{64}$/;

/** What is wrong with an `Authorization` header; `wrong-scope` carries the scope it was signed for. */
export type SigV4Fault =
  | { kind: "missing" }
  | { kind: "malformed" }
  | { kind: "wrong-scope"; region: string | undefined; service: string | undefined };

/** What is wrong with `header` for requests to `service` in `region`; undefined when nothing is. */
export function sigV4Fault(
  header: string | undefined,
  region: string,
  service: string,
): SigV4Fault | undefined {
  if (!header) return { kind: "missing" };
  const match = SIGV4.exec(header);
  if (!match) return { kind: "malformed" };
  const [, , scopeRegion, scopeService] = match;
  if (scopeRegion !== region || scopeService !== service) {
    return { kind: "wrong-scope", region: scopeRegion, service: scopeService };
  }
  return undefined;
}

/**
 * The access key id a well-formed SigV4 `Authorization` header was signed with (the first part of
 * its `Credential=AKID/date/region/service/aws4_request`); undefined when the header is not SigV4.
 */
export function sigV4AccessKeyId(header: string | undefined): string | undefined {
  return header === undefined ? undefined : SIGV4.exec(header)?.[1];
}

/**
 * The error type and message AWS's JSON protocols (Lambda, Secrets Manager) refuse a request with
 * when its `Authorization` header does not pass; undefined when it does.
 */
export function sigV4JsonRefusal(
  header: string | undefined,
  region: string,
  service: string,
): { type: string; message: string } | undefined {
  const fault = sigV4Fault(header, region, service);
  switch (fault?.kind) {
    case undefined:
      return undefined;
    case "missing":
      return { type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" };
    case "malformed":
      return {
        type: "IncompleteSignatureException",
        message:
          "Authorization header requires 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'",
      };
    case "wrong-scope":
      return {
        type: "InvalidSignatureException",
        message: `Credential should be scoped to region '${region}' and service '${service}' (got '${fault.region}', '${fault.service}')`,
      };
  }
}
