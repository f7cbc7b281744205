/**
 * Settings every Victoria Lambda shares, and where its entry point lives.
 *
 * - `nodejs22.x`: the newest Node runtime Lambda offers that our code is tested on (the code
 *   itself targets Node 20.19+, so 20.x would work as well).
 * - `arm64`: cheaper per GB-second than x86_64; every dependency is plain JavaScript.
 * - Logs are kept a month (CloudWatch retention; SST's own default, stated so it is a decision).
 * - `nodejs.splitting`: SDKs that only some paths use (Service Bus, Key Vault, Blob, nodemailer)
 *   are imported dynamically; with code splitting they become chunks loaded on first use, so an
 *   import loads 430–570 KiB instead of the whole 0.6–2.4 MiB bundle
 *   (`packages/functions/scripts/build-lambdas.ts` builds the same way and reports both).
 */
export const LAMBDA_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  logging: { retention: "1 month" },
  nodejs: { splitting: true },
} as const;

/** Folder of the Lambda entry points, relative to the repository root (where SST runs). */
export const LAMBDA_DIR = "packages/functions/src/lambda";

/** `packages/functions/src/lambda/<file>.handler`: each entry exports `handler`. */
export function lambdaHandler(file: string): string {
  return `${LAMBDA_DIR}/${file}.handler`;
}

/**
 * Function URLs are called by Slack, Azure and our own functions, never by a browser: no CORS.
 * Public (`authorization: "none"`): each route checks its caller itself (Slack's v0 signature,
 * the listener token, the v1 HMAC on /execute).
 */
export const PUBLIC_URL = { authorization: "none", cors: false } as const;
