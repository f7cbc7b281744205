import type { ServerResponse } from "node:http";
import {
  type AccessDecision,
  type Authorize,
  decideAccess,
  notAuthorizedMessage,
  UNRECOGNIZED_CLIENT,
} from "./aws-authorization";
import { type StandInClientConfig, sigV4JsonRefusal, standInCredentials } from "./aws-sigv4";
import { readBodyBytes, sendText } from "./http-io";
import {
  createEventQueue,
  DEFAULT_RETRY_DELAYS_MS,
  type EventInvokeConfig,
  type FunctionErrorPayload,
  MAX_TIMEOUT_SECONDS,
  runWithTimeout,
  timeoutError,
} from "./lambda-async";
import { type Exchange, standInFailure, startLoopbackServer } from "./loopback-server";

/**
 * A loopback stand-in for the Lambda Invoke REST API (`POST /2015-03-31/functions/{name}/invocations`),
 * enough for `@aws-sdk/client-lambda`'s InvokeCommand: `Event` (202, the function runs after the
 * answer), `RequestResponse` (200 with the result, `X-Amz-Function-Error` when it throws) and
 * `DryRun` (204). Requests must carry a SigV4 `Authorization` header scoped to this region and the
 * `lambda` service; the signature itself is not verified.
 *
 * `Event` invocations run as Lambda runs them (see lambda-async.ts): a function error (a throw, or
 * running past `timeoutSeconds`) is retried per the function's event invoke config
 * (`configureEventInvoke`; Lambda's defaults of 2 retries and 6 hours without one), after
 * `retryDelaysMs`; an event that fails every attempt or ages out goes to its `onFailure` callback
 * as Lambda's invocation record. A timeout fails a `RequestResponse` invocation too.
 *
 * With `authorize`, an invocation is authorized as `lambda:InvokeFunction` on
 * `arn:aws:lambda:<region>:000000000000:function:<name>[:<qualifier>]` (see `functionArnOf`) before
 * the function is looked up or the payload read: a refusal is 403 `AccessDeniedException`, an
 * unknown access key id 403 `UnrecognizedClientException`.
 */
export type LambdaHandler = (event: unknown) => Promise<unknown>;

export type InvocationType = "Event" | "RequestResponse" | "DryRun";

export interface LambdaInvocation {
  requestId: string;
  functionName: string;
  invocationType: "Event" | "RequestResponse";
  /** The parsed request payload, as the function received it. */
  event: unknown;
  status: "running" | "succeeded" | "failed";
  result?: unknown;
  /** `name: message` of what the function threw (or `Sandbox.Timedout: …`), last attempt's for an Event. */
  error?: string;
  /** Event invocations: attempts so far (Lambda's approximateInvokeCount). */
  attempts?: number;
  /** Event invocations sent to the on-failure destination (or dropped, without one): why. */
  condition?: "RetriesExhausted" | "EventAgeExceeded";
  /** What the `onFailure` callback threw. */
  destinationError?: string;
}

export interface FunctionOptions {
  /** Seconds an invocation may run before Lambda stops it (Lambda: 1–900, default 3); none when left out. */
  timeoutSeconds?: number;
}

export interface LambdaStandInOptions {
  host?: string;
  port?: number;
  /** The region signatures must be scoped to. */
  region?: string;
  /** Request limit of `Event` invocations (1 MB since October 2025). */
  maxEventPayloadBytes?: number;
  /** Request limit of `RequestResponse` invocations (6 MB). */
  maxRequestResponsePayloadBytes?: number;
  /** Waits before an Event's first and second retry; Lambda's are about 1 and 2 minutes. */
  retryDelaysMs?: readonly [number, number];
  /** Epoch milliseconds, for event ages and invocation record timestamps; Date.now by default. */
  now?: () => number;
  /** IAM for every invocation (see aws-authorization.ts); without it nothing is checked. */
  authorize?: Authorize;
}

export interface LambdaStandIn {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  region: string;
  /** Ready for `new LambdaClient(clientConfig)`: this endpoint, its region, dummy static keys. */
  clientConfig: StandInClientConfig;
  /** Adds (or replaces) a function; `name` is the bare function name. */
  register(name: string, handler: LambdaHandler, options?: FunctionOptions): void;
  /** Sets a registered function's FunctionEventInvokeConfig (replacing any before), as infra/hand-off.ts does. */
  configureEventInvoke(name: string, config: EventInvokeConfig): void;
  /** Event invocations of `name` wait in its queue, as with reserved concurrency 0, until releaseEvents. */
  holdEvents(name: string): void;
  releaseEvents(name: string): void;
  /** Every accepted invocation, updated in place as Event invocations finish. */
  readonly invocations: ReadonlyArray<Readonly<LambdaInvocation>>;
  /** Every request received, refused ones included, for tests that assert on the protocol. */
  readonly requests: ReadonlyArray<{ method: string; path: string; status: number }>;
  /**
   * Resolves when every accepted Event invocation has finished: retries and the on-failure
   * destination included, held ones (holdEvents) aside.
   */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REQUEST_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT_ID = "000000000000";
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
// name, full ARN or partial ARN, each with an optional `:qualifier` (ignored when running: no
// versions here; part of the ARN IAM authorizes).
const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_.-]+))?$/;

class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** The body, when it is not Lambda's own `{Type, message}` (the IAM layer's refusals). */
    readonly body?: Record<string, string>,
  ) {
    super(message);
  }
}

/**
 * The ARN Lambda authorizes an invocation of `requested` (a name, full or partial ARN, with an
 * optional `:qualifier`, or the `Qualifier` query parameter) against: qualified when a version or
 * alias was asked for, so a grant on the bare function ARN does not cover it, as on AWS.
 */
function functionArnOf(region: string, requested: string, qualifierParam: string | null): string {
  const match = FUNCTION_NAME.exec(requested);
  const name = match?.[1] ?? requested;
  const qualifier = match?.[2] ?? qualifierParam;
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
}

/** What Lambda answers an invocation of `functionArn` that `decision` refuses; undefined when allowed. */
function accessRefusal(decision: AccessDecision, functionArn: string): LambdaError | undefined {
  switch (decision.kind) {
    case "allowed":
      return undefined;
    case "unknown-key":
      return new LambdaError(403, UNRECOGNIZED_CLIENT.type, UNRECOGNIZED_CLIENT.message, {
        message: UNRECOGNIZED_CLIENT.message,
      });
    case "denied": {
      const message = notAuthorizedMessage(decision.caller, "lambda:InvokeFunction", functionArn);
      return new LambdaError(403, "AccessDeniedException", message, { Message: message });
    }
  }
}

function sendJson(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  sendText(res, status, "application/json", text, headers);
}

/**
 * AWS's error shape: the type in `x-amzn-errortype` (which the SDK reads), `Type` and `message` in the
 * body. What is not a LambdaError answers 500 ServiceException.
 */
function sendError(res: ServerResponse, requestId: string, thrown: unknown): void {
  const error =
    thrown instanceof LambdaError ? thrown : new LambdaError(500, "ServiceException", standInFailure(thrown));
  const body = JSON.stringify(
    error.body ?? { Type: error.status >= 500 ? "Service" : "User", message: error.message },
  );
  sendJson(res, error.status, body, { "x-amzn-requestid": requestId, "x-amzn-errortype": error.type });
}

function checkSignature(header: string | undefined, region: string): void {
  const refusal = sigV4JsonRefusal(header, region, "lambda");
  if (refusal) throw new LambdaError(403, refusal.type, refusal.message);
}

function invocationTypeOf(header: string | undefined): InvocationType {
  const type = header ?? "RequestResponse";
  if (type === "Event" || type === "RequestResponse" || type === "DryRun") return type;
  throw new LambdaError(
    400,
    "InvalidParameterValueException",
    `X-Amz-Invocation-Type must be Event, RequestResponse or DryRun (got '${type}')`,
  );
}

function describeThrown(error: unknown): FunctionErrorPayload {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message, trace: [] }
    : { errorType: "Error", errorMessage: String(error), trace: [] };
}

export async function startLambdaStandIn(options: LambdaStandInOptions = {}): Promise<LambdaStandIn> {
  const region = options.region ?? "us-east-1";
  const maxEvent = options.maxEventPayloadBytes ?? DEFAULT_MAX_EVENT_PAYLOAD_BYTES;
  const maxRequestResponse =
    options.maxRequestResponsePayloadBytes ?? DEFAULT_MAX_REQUEST_RESPONSE_PAYLOAD_BYTES;
  const functions = new Map<string, LambdaHandler>();
  const timeouts = new Map<string, number>();
  const invocations: LambdaInvocation[] = [];
  const requests: Array<{ method: string; path: string; status: number }> = [];
  const events = createEventQueue({
    now: options.now ?? Date.now,
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
  });

  /** Runs the function once and records the outcome; returns its error (thrown or timed out), if any. */
  async function execute(
    invocation: LambdaInvocation,
    handler: LambdaHandler,
  ): Promise<FunctionErrorPayload | undefined> {
    invocation.status = "running";
    const timeoutSeconds = timeouts.get(invocation.functionName);
    const outcome = await runWithTimeout(() => handler(invocation.event), timeoutSeconds);
    if (outcome.kind === "returned") {
      invocation.result = outcome.value;
      invocation.status = "succeeded";
      return undefined;
    }
    const failure =
      outcome.kind === "threw"
        ? describeThrown(outcome.error)
        : timeoutError(invocation.requestId, timeoutSeconds ?? 0);
    invocation.status = "failed";
    invocation.error = `${failure.errorType}: ${failure.errorMessage}`;
    return failure;
  }

  async function handle({ req, res, requestId }: Exchange<unknown>): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const route = req.method === "POST" ? INVOKE_PATH.exec(url.pathname) : null;
    if (!route?.[1]) {
      throw new LambdaError(
        404,
        "UnknownOperationException",
        `Unknown operation ${req.method} ${url.pathname}`,
      );
    }
    checkSignature(req.headers.authorization, region);
    const requested = decodeURIComponent(route[1]);
    const functionArn = functionArnOf(region, requested, url.searchParams.get("Qualifier"));
    const decision = decideAccess(
      options.authorize,
      req.headers.authorization,
      "lambda:InvokeFunction",
      functionArn,
    );
    const refusal = accessRefusal(decision, functionArn);
    if (refusal) throw refusal;

    const invocationType = invocationTypeOf(req.headers["x-amz-invocation-type"] as string | undefined);
    const limit = invocationType === "Event" ? maxEvent : maxRequestResponse;
    const { body, tooLarge } = await readBodyBytes(req, limit);
    if (tooLarge) {
      throw new LambdaError(
        413,
        "RequestTooLargeException",
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
      );
    }

    const functionName = FUNCTION_NAME.exec(requested)?.[1];
    const handler = functionName === undefined ? undefined : functions.get(functionName);
    if (functionName === undefined || !handler) {
      const arn = `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName ?? requested}`;
      throw new LambdaError(404, "ResourceNotFoundException", `Function not found: ${arn}`);
    }

    let event: unknown = {};
    if (body.length > 0) {
      try {
        event = JSON.parse(body.toString("utf8"));
      } catch {
        throw new LambdaError(
          400,
          "InvalidRequestContentException",
          "Could not parse request body into json",
        );
      }
    }

    const headers = { "x-amzn-requestid": requestId, "x-amz-executed-version": "$LATEST" };
    if (invocationType === "DryRun") {
      res.writeHead(204, headers);
      res.end();
      return;
    }

    const invocation: LambdaInvocation = {
      requestId,
      functionName,
      invocationType,
      event,
      status: "running",
    };
    invocations.push(invocation);

    if (invocationType === "Event") {
      res.writeHead(202, { ...headers, "content-length": 0 });
      res.end();
      const queued = {
        requestId,
        functionName,
        functionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName}`,
        event,
      };
      invocation.attempts = 0;
      // Each attempt runs the function's current code, as Lambda runs $LATEST.
      const attempt = () => {
        invocation.attempts = (invocation.attempts ?? 0) + 1;
        return execute(invocation, functions.get(functionName) ?? handler);
      };
      void events.enqueue(queued, attempt).then((outcome) => {
        if (outcome && outcome.condition !== "Success") {
          invocation.condition = outcome.condition;
          if (outcome.destinationError) invocation.destinationError = outcome.destinationError;
          // Aged out before it ran: failed without an error of its own.
          if (outcome.attempts === 0) invocation.status = "failed";
        }
      });
      return;
    }

    const thrown = await execute(invocation, handler);
    if (thrown) {
      // Lambda answers 200 and flags the failure in a header; the body is the runtime's error object.
      const text = JSON.stringify(thrown);
      sendJson(res, 200, text, { ...headers, "x-amz-function-error": "Unhandled" });
      return;
    }
    sendJson(res, 200, JSON.stringify(invocation.result ?? null), headers);
  }

  const server = await startLoopbackServer(options, requests, {
    record: (req) => ({ method: req.method ?? "", path: req.url ?? "", status: 0 }),
    handle,
    refuse: ({ res, requestId }, error) => sendError(res, requestId, error),
  });
  const { endpoint } = server;

  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials: standInCredentials() },
    register(name, handler, functionOptions = {}) {
      const { timeoutSeconds } = functionOptions;
      if (timeoutSeconds !== undefined && !(timeoutSeconds > 0 && timeoutSeconds <= MAX_TIMEOUT_SECONDS)) {
        throw new Error(
          `timeoutSeconds must be more than 0 and at most ${MAX_TIMEOUT_SECONDS} (got ${timeoutSeconds})`,
        );
      }
      functions.set(name, handler);
      if (timeoutSeconds === undefined) timeouts.delete(name);
      else timeouts.set(name, timeoutSeconds);
    },
    configureEventInvoke(name, config) {
      if (!functions.has(name)) {
        throw new Error(
          `configureEventInvoke: Function not found: arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`,
        );
      }
      events.configure(name, config);
    },
    holdEvents(name) {
      events.hold(name);
    },
    releaseEvents(name) {
      events.release(name);
    },
    invocations,
    requests,
    idle() {
      return events.idle();
    },
    close() {
      events.close();
      return server.close();
    },
  };
}
