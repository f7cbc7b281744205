import { sigV4AccessKeyId } from "./aws-sigv4";

/**
 * IAM as the AWS stand-ins enforce it when they are given an `authorize` option: each stand-in
 * maps a request to the action and resource ARN AWS authorizes it as, asks `authorize` about the
 * access key id of the request's SigV4 credential, and answers a refusal in its own protocol with
 * AWS's wording. Without the option nothing is checked, as before.
 */

/** The account of every ARN the stand-ins make. */
export const STAND_IN_ACCOUNT_ID = "000000000000";

/**
 * What `authorize` answers: a boolean, or the principal holding the key and whether it may.
 * - `true` / `{ allowed: true }`: the request goes on.
 * - `{ allowed: false, principal: "Worker" }`: AccessDenied naming
 *   `arn:aws:sts::000000000000:assumed-role/Worker/Worker`; a bare `false` names the access key id.
 * - `{ allowed: false }` with no principal: no principal holds the key, refused as AWS refuses an
 *   unknown access key id (S3 403 `InvalidAccessKeyId`; Secrets Manager 400 and Lambda 403
 *   `UnrecognizedClientException`).
 * The twin's `createIamAuthority().authorize` answers in this shape.
 */
export type AccessAnswer = boolean | { allowed: boolean; principal?: string | undefined };

/** Asked once per request a stand-in serves, with the IAM action and resource ARN AWS would check. */
export type Authorize = (accessKeyId: string, action: string, resource: string) => AccessAnswer;

/** How a request fares: `caller` is the ARN a refusal names. */
export type AccessDecision =
  | { kind: "allowed" }
  | { kind: "denied"; caller: string }
  | { kind: "unknown-key"; accessKeyId: string };

/** What AWS's JSON protocols answer a request signed with an access key id no one holds. */
export const UNRECOGNIZED_CLIENT = {
  type: "UnrecognizedClientException",
  message: "The security token included in the request is invalid.",
} as const;

/**
 * The ARN AWS names a Lambda function's role session by: `assumed-role/<role>/<function>`; here both
 * are the principal's name.
 */
export function callerArn(principal: string): string {
  return `arn:aws:sts::${STAND_IN_ACCOUNT_ID}:assumed-role/${principal}/${principal}`;
}

/**
 * Asks `authorize` about the request signed with `authorization` (already checked to be SigV4).
 * Without an `authorize` every request is allowed.
 */
export function decideAccess(
  authorize: Authorize | undefined,
  authorization: string | undefined,
  action: string,
  resource: string,
): AccessDecision {
  if (!authorize) return { kind: "allowed" };
  const accessKeyId = sigV4AccessKeyId(authorization) ?? "";
  const answer = authorize(accessKeyId, action, resource);
  if (typeof answer === "boolean") {
    return answer ? { kind: "allowed" } : { kind: "denied", caller: callerArn(accessKeyId) };
  }
  if (answer.allowed) return { kind: "allowed" };
  if (answer.principal === undefined) return { kind: "unknown-key", accessKeyId };
  return { kind: "denied", caller: callerArn(answer.principal) };
}

/**
 * AWS's wording of an implicit deny. `resource` is written as the service writes it: S3 quotes the
 * ARN, Secrets Manager repeats the SecretId it was sent, Lambda gives the function ARN.
 */
export function notAuthorizedMessage(caller: string, action: string, resource: string): string {
  return `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}
