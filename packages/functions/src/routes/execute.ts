import { zValidator } from "@hono/zod-validator";
import type { FailedRequestPublisher } from "@victoria/core/failed-requests/failed-request-publisher";
import {
  type FailureClass,
  failureClassOfExit,
  isRetryable,
  isTransientError,
} from "@victoria/core/failure-class";
import type { Logger } from "@victoria/core/logging/json-logger";
import { isRequestId, withRequestContext } from "@victoria/core/logging/request-context";
import type { CommandRunner } from "@victoria/core/ports";
import {
  checkServiceRequestHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyServiceRequest,
} from "@victoria/core/security/service-signature";
import { describeIssues } from "@victoria/core/validation/describe-issues";
import * as z from "@victoria/core/validation/zod";
import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { limitBodySize } from "../http/body-size-limit";
import { jsonError } from "../http/json-errors";
import { refuseUnreadBody } from "../http/refuse-unread-body";
import { REQUEST_ID_HEADER, requestIdOf } from "../http/request-id";
import { requireJsonContentType } from "../http/require-json-content-type";

export const MAX_ARGS = 64;
export const MAX_ARG_LENGTH = 4096;
export const MAX_EXECUTE_BODY_BYTES = 64 * 1024;
/** Room for an email address (254) or a `slack:U…` id. */
export const MAX_REQUESTER_LENGTH = 256;
/** Above any Service Bus max delivery count (at most 2,000) plus the first attempt. */
export const MAX_ATTEMPT = 10_000;

/** A lone surrogate cannot become UTF-8 (an argv, a log line, Slack) without turning into U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A control character in a name would break a log line, an audit record or VICTORIA_ACTOR's env. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

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
  /**
   * The request id, which correlates every hop: the caller's, kept when well-formed (REQUEST_ID_PATTERN);
   * anything else is ignored and a fresh one minted, never an error. In the body, so the signature covers it.
   */
  requestId: z.optional(z.unknown()),
  /**
   * Who asked (e.g. `slack:U123`, an email): the actor the command runs as (audit, dead-letter
   * resolutions) and the failed-request envelope's requester. In the body, so a captured request
   * cannot be replayed as someone else; an `X-Victoria-Requester` header is ignored.
   */
  requester: z.optional(
    z.string({ error: "requester must be a string" }).check(
      z.minLength(1, "requester must not be empty"),
      z.maxLength(MAX_REQUESTER_LENGTH, `requester must be at most ${MAX_REQUESTER_LENGTH} characters`),
      z.refine((name) => !CONTROL_CHARACTER.test(name), "requester contains a control character"),
      z.refine((name) => !LONE_SURROGATE.test(name), "requester is not valid Unicode (a lone surrogate)"),
    ),
  ),
  /**
   * Which attempt this is: 1 (or absent) for a first run; the retry consumer sends 2 and up, and a
   * retry's failure is not published again. Signed for the same reason; `X-Victoria-Retry` is ignored.
   */
  attempt: z.optional(
    z
      .int({ error: "attempt must be a whole number" })
      .check(
        z.gte(1, "attempt must be at least 1"),
        z.lte(MAX_ATTEMPT, `attempt must be at most ${MAX_ATTEMPT}`),
      ),
  ),
});
type ExecuteRequest = z.infer<typeof executeRequestSchema>;

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
      const request = c.req.valid("json");
      const requestId = isRequestId(request.requestId) ? request.requestId : requestIdOf(c);
      c.header(REQUEST_ID_HEADER, requestId);
      return withRequestContext({ requestId }, () => runCommand(c, request, requestId));
    },
  );

  /** Reads who asked and which attempt from the signed body only (never the unsigned headers). */
  async function runCommand(
    c: Context,
    { args, requester, attempt = 1 }: ExecuteRequest,
    requestId: string,
  ): Promise<Response> {
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
      if (!deps.failedRequests || attempt > 1 || !isRetryable(failureClass)) return;
      try {
        await deps.failedRequests.publish({
          args,
          requestId,
          ...(requester ? { requester } : {}),
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
  }
}
