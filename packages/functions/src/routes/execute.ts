import { randomUUID } from "node:crypto";
import { zValidator } from "@hono/zod-validator";
import type { FailedRequestPublisher } from "@victoria/core/failed-requests/failed-request-publisher";
import {
  type FailureClass,
  failureClassOfExit,
  isRetryable,
  isTransientError,
} from "@victoria/core/failure-class";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { CommandRunner } from "@victoria/core/ports";
import {
  checkServiceRequestHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyServiceRequest,
} from "@victoria/core/security/service-signature";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import * as z from "@victoria/core/validation/zod";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { refuseUnreadBody } from "../http/refuse-unread-body";
import { requireJsonContentType } from "../http/require-json-content-type";

export const MAX_ARGS = 64;
export const MAX_ARG_LENGTH = 4096;
export const MAX_EXECUTE_BODY_BYTES = 64 * 1024;

/** A lone surrogate cannot become UTF-8 (an argv, a log line, Slack) without turning into U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const executeRequestSchema = z.object({
  args: z
    .array(
      z.string().check(
        z.maxLength(MAX_ARG_LENGTH, `each argument must be at most ${MAX_ARG_LENGTH} characters`),
        // NUL ends a C string: an argv cannot hold it, and what follows would silently vanish.
        z.refine((arg) => !arg.includes("\u0000"), "contains a NUL byte, which no argument may hold"),
        z.refine((arg) => !LONE_SURROGATE.test(arg), "is not valid Unicode (a lone surrogate)"),
      ),
      { error: "args must be an array of strings" },
    )
    .check(z.maxLength(MAX_ARGS, `at most ${MAX_ARGS} arguments`)),
});

/** Set on every answer to a command whose output may reveal a secret (Slack shows it privately). */
export const SENSITIVE_HEADER = "x-victoria-sensitive";

export interface ExecuteDeps {
  runner: CommandRunner;
  /** Where failed commands go for retry (FAILED_REQUESTS_QUEUE); absent = not published. */
  failedRequests?: FailedRequestPublisher;
  /** VICTORIA_SHARED_SECRET; every request must be signed with it. */
  sharedSecret: string;
  logger: Logger;
  nowSeconds?: () => number;
}

/** Rejects unsigned, stale or forged requests before anything else looks at the body. */
function requireServiceSignature({ sharedSecret, logger, nowSeconds }: ExecuteDeps) {
  return createMiddleware(async (c, next) => {
    const check = verifyServiceRequest({
      secret: sharedSecret,
      body: await c.req.text(),
      timestamp: c.req.header(TIMESTAMP_HEADER),
      signature: c.req.header(SIGNATURE_HEADER),
      nowSeconds: nowSeconds?.(),
    });
    if (!check.ok) {
      logger.warn("execute request refused", { route: "/execute", reason: check.reason });
      return jsonError(c, 401, `Request signature rejected: ${check.reason}`);
    }
    await next();
  });
}

/** The same refusal before the body is read: headers missing or stale cost no upload. */
function requireServiceSignatureHeaders({ logger, nowSeconds }: ExecuteDeps) {
  return createMiddleware(async (c, next) => {
    const check = checkServiceRequestHeaders({
      timestamp: c.req.header(TIMESTAMP_HEADER),
      signature: c.req.header(SIGNATURE_HEADER),
      nowSeconds: nowSeconds?.(),
    });
    if (!check.ok) {
      logger.warn("execute request refused", { route: "/execute", reason: check.reason });
      return refuseUnreadBody(c, 401, `Request signature rejected: ${check.reason}`);
    }
    await next();
  });
}

/**
 * `POST /execute`: runs one Victoria command line for a signed caller, with the response contract
 * of the original Serverless Victoria (200 + JSON string of the output; 500 on failure).
 */
export function executeRoute(deps: ExecuteDeps): Hono {
  const { runner, logger } = deps;
  return new Hono().post(
    "/execute",
    requireServiceSignatureHeaders(deps),
    limitBodySize(MAX_EXECUTE_BODY_BYTES),
    requireServiceSignature(deps),
    requireJsonContentType,
    zValidator("json", executeRequestSchema, (result, c) => {
      if (!result.success) return jsonError(c, 400, describeIssues(result.error));
    }),
    async (c) => {
      const { args } = c.req.valid("json");
      const requestId = c.req.header("x-request-id") ?? randomUUID();
      const started = performance.now();
      const log = (exitStatus: number | "exception") =>
        logger.info("execute", {
          route: "/execute",
          requestId,
          argsCount: args.length,
          exitStatus,
          durationMs: Math.round(performance.now() - started),
        });
      // Published before answering: on Lambda nothing runs after the response. Only a transient
      // failure can succeed on a retry, and a retry's own failure is already on the queue.
      const publishFailure = async (failureClass: FailureClass, error: string) => {
        if (!deps.failedRequests || c.req.header("x-victoria-retry") || !isRetryable(failureClass)) return;
        try {
          await deps.failedRequests.publish({
            args,
            requestId,
            requester: c.req.header("x-victoria-requester"),
            error,
            failureClass,
            attempt: 1,
            failedAt: new Date().toISOString(),
          });
        } catch (publishError) {
          logger.error("failed request not published", {
            requestId,
            errorMessage: (publishError as Error).message,
          });
        }
      };
      let result: Awaited<ReturnType<CommandRunner["run"]>>;
      try {
        const requester = c.req.header("x-victoria-requester");
        result = await runner.run(args, requester ? { actor: requester } : {});
      } catch (error) {
        log("exception");
        const failureClass: FailureClass = isTransientError(error) ? "transient" : "internal";
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        await publishFailure(failureClass, message);
        return c.json(
          { error: "Command failed: uncaught Victoria exception detected", message, failureClass },
          500,
        );
      }
      log(result.exitCode);
      if (result.sensitive) c.header(SENSITIVE_HEADER, "true");
      if (result.exitCode !== 0) {
        const failureClass = result.failureClass ?? failureClassOfExit(result.exitCode) ?? "internal";
        // A sensitive command's output stays out of the queue (and so out of the vault and Slack).
        await publishFailure(
          failureClass,
          `exit status ${result.exitCode}: ${result.sensitive ? "(output withheld: the command is sensitive)" : result.output.slice(-1000)}`,
        );
        return c.json(
          { error: "Command failed: non-zero status code", message: result.output, failureClass },
          500,
        );
      }
      return c.json(result.output, 200);
    },
  );
}
