/**
 * Durable state: three buckets, each with the narrowest grants its users need.
 *
 * Grants are explicit `permissions` (actions + bucket ARN / objects ARN), not `link`: linking a
 * Bucket grants `s3:*` on it and its objects, so the authenticate function could read the vault
 * and the worker could delete the audit trail. Functions get the bucket *names* as plain
 * environment variables (VAULT_BUCKET, AUDIT_BUCKET, DEDUPE_BUCKET), which is what the adapters
 * in packages/functions/src/storage-from-env.ts read.
 */

/**
 * Parked dead letters and their state (`records/<id>.json`, compare-and-set with If-Match /
 * If-None-Match). Versioned, so an earlier state of a record can always be recovered.
 */
export const vault = new sst.aws.Bucket("Vault", { versioning: true, cors: false });

/**
 * The audit trail: one object per record, written once with If-None-Match. Versioned, and the
 * bucket policy refuses any PutObject that is not create-only, so no role (ours included) can
 * overwrite a record.
 */
export const audit = new sst.aws.Bucket("Audit", {
  versioning: true,
  cors: false,
  policy: [
    {
      effect: "deny",
      principals: "*",
      actions: ["s3:PutObject"],
      paths: ["*"],
      conditions: [{ test: "Null", variable: "s3:if-none-match", values: ["true"] }],
    },
  ],
});

/**
 * Slack delivery ids already taken (`dedupe/<sha256>`), so Slack's retries run a command once.
 * Claims live minutes; the lifecycle rule sweeps what is left after a day.
 */
export const dedupe = new sst.aws.Bucket("Dedupe", {
  cors: false,
  lifecycle: [{ id: "expire-dedupe-claims", expiresIn: "1 day" }],
});

/** Read, create and update vault records, and list them (`victoria deadletter ls`). Never delete. */
export const vaultReadWrite = [
  { actions: ["s3:ListBucket"], resources: [vault.arn] },
  { actions: ["s3:GetObject", "s3:PutObject"], resources: [$interpolate`${vault.arn}/*`] },
];

/**
 * Read one vault record by id, nothing else (no list, no write): /resolve pre-fills the Repair…
 * dialog from it and checks the submission against it within Slack's 3 s.
 */
export const vaultRecordRead = [
  { actions: ["s3:GetObject"], resources: [$interpolate`${vault.arn}/records/*`] },
];

/**
 * The vault's search index below `index/` (packages/core/src/deadletter/vault-index.ts): every
 * function that searches the vault may compact the index, which removes the change markers and the
 * segments a new manifest replaced. The only other delete on the vault; nothing outside `index/`.
 */
export const vaultIndexCompaction = [
  { actions: ["s3:DeleteObject"], resources: [$interpolate`${vault.arn}/index/*`] },
];

/**
 * Approval requests' pending markers (the expiry sweep's list): removed when a request is decided.
 * With the search index's compaction above, the only deletes on the vault.
 */
export const approvalMarkers = [
  { actions: ["s3:DeleteObject"], resources: [$interpolate`${vault.arn}/approvals/pending/*`] },
];

/**
 * Append to the audit trail: create-only writes (the bucket policy refuses overwrites), plus
 * reading a record back so a retried write that finds its own record is recognised as done.
 * No list, no delete.
 */
export const auditAppend = [
  { actions: ["s3:GetObject", "s3:PutObject"], resources: [$interpolate`${audit.arn}/*`] },
];

/**
 * Claim, inspect and release delivery ids. ListBucket too: without it S3 answers a GET of a claim
 * released a moment ago with 403 AccessDenied instead of 404 NoSuchKey, and the claimer fails.
 */
export const dedupeClaims = [
  { actions: ["s3:ListBucket"], resources: [dedupe.arn] },
  {
    actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    resources: [$interpolate`${dedupe.arn}/*`],
  },
];
