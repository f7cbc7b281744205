import type { ServerResponse } from "node:http";
import { type StandInClientConfig, sigV4JsonRefusal, standInCredentials } from "./aws-sigv4";
import { readBodyBytes, sendText } from "./http-io";
import { type Exchange, standInFailure, startLoopbackServer } from "./loopback-server";

/**
 * A loopback stand-in for the Lambda Invoke REST API (`POST /2015-03-31/functions/{name}/invocations`),
 * enough for `@aws-sdk/client-lambda`'s InvokeCommand: `Event` (202, the function runs after the
 * answer), `RequestResponse` (200 with the result, `X-Amz-Function-Error` when it throws) and
 * `DryRun` (204). Requests must carry a SigV4 `Authorization` header scoped to this region and the
 * `lambda` service; the signature itself is not verified. Event invocations are not retried.
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
  /** `name: message` of what the function threw. */
  error?: string;
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
}

export interface LambdaStandIn {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  region: string;
  /** Ready for `new LambdaClient(clientConfig)`: this endpoint, its region, dummy static keys. */
  clientConfig: StandInClientConfig;
  /** Adds (or replaces) a function; `name` is the bare function name. */
  register(name: string, handler: LambdaHandler): void;
  /** Every accepted invocation, updated in place as Event invocations finish. */
  readonly invocations: ReadonlyArray<Readonly<LambdaInvocation>>;
  /** Every request received, refused ones included, for tests that assert on the protocol. */
  readonly requests: ReadonlyArray<{ method: string; path: string; status: number }>;
  /** Resolves when every accepted Event invocation has finished running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REQUEST_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT_ID = "000000000000";
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
// name, full ARN or partial ARN, each with an optional `:qualifier` (ignored: no versions here).
const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9$_.-]+)?$/;

class LambdaError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
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
  const body = JSON.stringify({ Type: error.status >= 500 ? "Service" : "User", message: error.message });
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

function describeThrown(error: unknown): { errorType: string; errorMessage: string } {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message }
    : { errorType: "Error", errorMessage: String(error) };
}

export async function startLambdaStandIn(options: LambdaStandInOptions = {}): Promise<LambdaStandIn> {
  const region = options.region ?? "us-east-1";
  const maxEvent = options.maxEventPayloadBytes ?? DEFAULT_MAX_EVENT_PAYLOAD_BYTES;
  const maxRequestResponse =
    options.maxRequestResponsePayloadBytes ?? DEFAULT_MAX_REQUEST_RESPONSE_PAYLOAD_BYTES;
  const functions = new Map<string, LambdaHandler>();
  const invocations: LambdaInvocation[] = [];
  const requests: Array<{ method: string; path: string; status: number }> = [];
  const running = new Set<Promise<void>>();

  /** Runs the function and records the outcome; returns what it threw, if it did. */
  async function execute(
    invocation: LambdaInvocation,
    handler: LambdaHandler,
  ): Promise<{ errorType: string; errorMessage: string } | undefined> {
    try {
      invocation.result = await handler(invocation.event);
      invocation.status = "succeeded";
      return undefined;
    } catch (error) {
      const thrown = describeThrown(error);
      invocation.status = "failed";
      invocation.error = `${thrown.errorType}: ${thrown.errorMessage}`;
      return thrown;
    }
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

    const requested = decodeURIComponent(route[1]);
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
      // Like Lambda's queue: the caller has its 202 before the function starts.
      const run = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        await execute(invocation, handler);
      });
      running.add(run);
      void run.finally(() => running.delete(run));
      return;
    }

    const thrown = await execute(invocation, handler);
    if (thrown) {
      // Lambda answers 200 and flags the failure in a header; the body is the runtime's error object.
      const text = JSON.stringify({ ...thrown, trace: [] });
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
    register(name, handler) {
      functions.set(name, handler);
    },
    invocations,
    requests,
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    close() {
      return server.close();
    },
  };
}
