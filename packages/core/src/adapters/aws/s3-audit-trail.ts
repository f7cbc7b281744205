import type { AuditTrail } from "../../security/audit-trail";
import { CommandFailure } from "../../victoria/errors";
import { errorName, httpStatus } from "./s3-errors";

/** The SDK's own names for a refused read, worded for the operator. */
const ACCESS_DENIED = new Set(["AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"]);

/** The audit bucket read with the caller's own credentials, for `victoria audit show`. */
export async function createS3AuditTrail(bucket: string): Promise<AuditTrail> {
  const [{ S3Client }, { listAuditRecords }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("./s3-audit-log"),
  ]);
  // The SDK's own chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, AWS_ENDPOINT_URL_S3…): the operator's.
  const client = new S3Client({});
  const where = `s3://${bucket}/audit/`;
  return {
    where,
    async story(requestId, since) {
      try {
        return await listAuditRecords({ client, bucket, since, requestId });
      } catch (error) {
        // listAuditRecords words its failures; the SDK's error is their cause.
        const cause = (error as Error).cause ?? error;
        if (errorName(cause) === "CredentialsProviderError") {
          throw new CommandFailure(
            `Could not read the audit trail at ${where}: no AWS credentials here. Run it where credentials allowing s3:ListBucket and s3:GetObject on the bucket are set (AWS_PROFILE, or the AWS_ACCESS_KEY_ID pair).`,
            { failureClass: "configuration", cause: error },
          );
        }
        if (ACCESS_DENIED.has(errorName(cause) ?? "") || httpStatus(cause) === 403) {
          throw new CommandFailure(
            `Could not read the audit trail at ${where}: access denied. audit show needs s3:ListBucket on the bucket and s3:GetObject on its audit/ objects; the credentials in use do not hold them.`,
            { failureClass: "configuration", cause: error },
          );
        }
        throw new CommandFailure(`Could not read the audit trail at ${where}: ${(error as Error).message}`, {
          failureClass: "transient",
          cause: error,
        });
      }
    },
  };
}
