import { configureWorkerHandOff, sendToWorkerFailures } from "./hand-off";
import { LAMBDA_DEFAULTS, lambdaHandler, PUBLIC_URL } from "./lambda-defaults";
import { readVictoriaSecret, victoriaSecret } from "./secret";
import {
  approvalMarkers,
  audit,
  auditAppend,
  dedupe,
  dedupeClaims,
  vault,
  vaultIndexCompaction,
  vaultReadWrite,
  vaultRecordRead,
} from "./storage";

/**
 * The four HTTP functions on Function URLs and the worker behind them. Every function gets only
 * the environment and grants its route uses; configuration beyond resource names comes from the
 * secret (VICTORIA_SECRET_ID).
 */

/**
 * POST /execute. The URL is public (`authorization: "none"`) and every request must carry the
 * v1 HMAC signature (X-Victoria-Timestamp / X-Victoria-Signature over VICTORIA_SHARED_SECRET),
 * checked in code before anything runs. We chose this over `authorization: "iam"`: its callers
 * include ones outside AWS (the local server, operators, the retry consumer's tests) that already
 * sign this way, the check is tested, and IAM would need SigV4 signing code in every caller plus
 * `lambda:InvokeFunctionUrl` grants. The cost: the URL is reachable by anyone, who gets a 401.
 */
export const execute = new sst.aws.Function("Execute", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("execute"),
  url: PUBLIC_URL,
  memory: "1024 MB",
  timeout: "60 seconds",
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VAULT_BUCKET: vault.name,
  },
  permissions: [readVictoriaSecret, ...vaultReadWrite, ...vaultIndexCompaction],
});

/** The route inside the execute function: what the worker and the retry consumer call. */
export const executeUrl = $interpolate`${execute.url}execute`;

/**
 * The asynchronous half of /authenticate, /resolve and /listener: runs slash commands, resolves
 * dead letters, drains queues, keeps approval requests. No URL; only the three front doors and
 * the approval expiry schedule (infra/schedule.ts) invoke it. Its timeout is the drain budget.
 */
export const worker = new sst.aws.Function("Worker", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("worker"),
  memory: "1024 MB",
  timeout: "5 minutes",
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VICTORIA_EXECUTE_URL: executeUrl,
    VAULT_BUCKET: vault.name,
    AUDIT_BUCKET: audit.name,
  },
  permissions: [
    readVictoriaSecret,
    ...vaultReadWrite,
    ...vaultIndexCompaction,
    ...approvalMarkers,
    ...auditAppend,
    sendToWorkerFailures,
  ],
});

export const workerHandOff = configureWorkerHandOff(worker);

/** Start the worker asynchronously (InvocationType "Event"); nothing else on it. */
const invokeWorker = { actions: ["lambda:InvokeFunction"], resources: [worker.arn] };

/** POST /authenticate: Slack's signed slash commands and events; dedupes, acks, hands off. */
export const authenticate = new sst.aws.Function("Authenticate", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("authenticate"),
  url: PUBLIC_URL,
  memory: "256 MB",
  timeout: "10 seconds",
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VICTORIA_WORKER_FUNCTION: worker.name,
    DEDUPE_BUCKET: dedupe.name,
  },
  permissions: [readVictoriaSecret, invokeWorker, ...dedupeClaims],
});

/** POST /resolve: Slack's signed button clicks and dialog submissions; acks, hands off. */
export const resolve = new sst.aws.Function("Resolve", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("resolve"),
  url: PUBLIC_URL,
  memory: "256 MB",
  timeout: "10 seconds",
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VICTORIA_WORKER_FUNCTION: worker.name,
    VAULT_BUCKET: vault.name,
  },
  permissions: [readVictoriaSecret, invokeWorker, ...vaultRecordRead],
});

/** POST /listener: Azure alerts and Event Grid (token checked in code); acks, hands off drains. */
export const listener = new sst.aws.Function("Listener", {
  ...LAMBDA_DEFAULTS,
  handler: lambdaHandler("listener"),
  url: PUBLIC_URL,
  memory: "256 MB",
  timeout: "10 seconds",
  environment: {
    VICTORIA_SECRET_ID: victoriaSecret.arn,
    VICTORIA_WORKER_FUNCTION: worker.name,
  },
  permissions: [readVictoriaSecret, invokeWorker],
});

/** The full URLs of the four routes, as they go into the Slack app manifest and Azure alerts. */
export const routeUrls = {
  authenticateUrl: $interpolate`${authenticate.url}authenticate`,
  resolveUrl: $interpolate`${resolve.url}resolve`,
  listenerUrl: $interpolate`${listener.url}listener`,
  executeUrl,
};
