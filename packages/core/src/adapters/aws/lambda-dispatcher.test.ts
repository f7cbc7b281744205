import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { type LambdaStandIn, startLambdaStandIn } from "@victoria/emulators/lambda-invoke";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobRouter, DispatchError } from "../../dispatch/job-router";
import { ASYNC_INVOKE_MAX_PAYLOAD_BYTES, createLambdaDispatcher } from "./lambda-dispatcher";

const WORKER = "victoria-worker";
let lambda: LambdaStandIn;
let client: LambdaClient;
const received: Array<{ kind: string; payload: unknown }> = [];
let hold: Promise<void> = Promise.resolve();

beforeAll(async () => {
  lambda = await startLambdaStandIn({ region: "eu-west-1" });
  client = new LambdaClient(lambda.clientConfig);
  // The worker Lambda's entry: the job router over the shared handler map.
  const router = createJobRouter({
    "slack.command": async (payload) => {
      await hold;
      received.push({ kind: "slack.command", payload });
    },
  });
  lambda.register(WORKER, (event) => router.run(event));
});

afterAll(async () => {
  client?.destroy();
  await lambda?.close();
});

async function dispatchError(promise: Promise<unknown>): Promise<DispatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DispatchError);
  return error as DispatchError;
}

describe("createLambdaDispatcher against the Lambda stand-in", () => {
  it("queues the job as an Event invocation that the worker runs through the job router", async () => {
    received.length = 0;
    let release!: () => void;
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const dispatcher = createLambdaDispatcher({
      functionName: WORKER,
      client,
      now: () => new Date("2026-02-03T04:05:06.789Z"),
    });
    const payload = {
      channel: "C0123",
      user: "U0456",
      text: 'config view --name "quoted ünïcødé ✓"',
      args: ["config", "view"],
      nested: { n: 1.5, flag: false, none: null },
    };
    const before = lambda.invocations.length;

    await dispatcher.dispatch({ kind: "slack.command", payload });
    // Acknowledged (202) while the worker is still held: the hand-off does not wait for the job.
    expect(received).toEqual([]);
    const invocation = lambda.invocations[before];
    expect(invocation).toMatchObject({ functionName: WORKER, invocationType: "Event" });
    expect(invocation?.event).toEqual({
      kind: "slack.command",
      payload,
      dispatchedAt: "2026-02-03T04:05:06.789Z",
    });

    release();
    await lambda.idle();
    expect(received).toEqual([{ kind: "slack.command", payload }]);
    expect(lambda.invocations[before]?.status).toBe("succeeded");
    expect(lambda.requests.at(-1)).toMatchObject({ method: "POST", status: 202 });
  });

  it("accepts a function ARN", async () => {
    received.length = 0;
    hold = Promise.resolve();
    const dispatcher = createLambdaDispatcher({
      functionName: `arn:aws:lambda:eu-west-1:123456789012:function:${WORKER}`,
      client,
    });
    await dispatcher.dispatch({ kind: "slack.command", payload: { n: 1 } });
    await lambda.idle();
    expect(received).toEqual([{ kind: "slack.command", payload: { n: 1 } }]);
  });

  it("names the function and the AWS error when the function does not exist, never the payload", async () => {
    const dispatcher = createLambdaDispatcher({ functionName: "no-such-worker", client });
    const error = await dispatchError(
      dispatcher.dispatch({ kind: "slack.command", payload: { token: "xoxb-secret-token" } }),
    );
    expect(error.message).toContain("'no-such-worker'");
    expect(error.message).toContain("ResourceNotFoundException");
    expect(error.message).not.toContain("xoxb-secret-token");
    expect(error).toMatchObject({
      reason: "invoke-failed",
      awsErrorName: "ResourceNotFoundException",
      httpStatus: 404,
    });
  });

  it("refuses a payload over the asynchronous invoke limit before sending anything", async () => {
    const dispatcher = createLambdaDispatcher({ functionName: WORKER, client });
    const requestsBefore = lambda.requests.length;
    const error = await dispatchError(
      dispatcher.dispatch({ kind: "slack.command", payload: "x".repeat(ASYNC_INVOKE_MAX_PAYLOAD_BYTES) }),
    );
    expect(error.reason).toBe("too-large");
    expect(error.message).toContain(`'${WORKER}'`);
    expect(error.message).toContain(`${ASYNC_INVOKE_MAX_PAYLOAD_BYTES}-byte limit`);
    expect(lambda.requests.length).toBe(requestsBefore);
  });

  it("counts UTF-8 bytes, not characters, against the limit", async () => {
    const dispatcher = createLambdaDispatcher({ functionName: WORKER, client, maxPayloadBytes: 1000 });
    // 400 characters, 1200 bytes.
    const error = await dispatchError(
      dispatcher.dispatch({ kind: "slack.command", payload: "€".repeat(400) }),
    );
    expect(error.reason).toBe("too-large");
  });

  it("reports Lambda's own 413 when the service limit is lower than the dispatcher's", async () => {
    const dispatcher = createLambdaDispatcher({
      functionName: WORKER,
      client,
      maxPayloadBytes: 2 * ASYNC_INVOKE_MAX_PAYLOAD_BYTES,
    });
    const error = await dispatchError(
      dispatcher.dispatch({
        kind: "slack.command",
        payload: "y".repeat(ASYNC_INVOKE_MAX_PAYLOAD_BYTES + 10),
      }),
    );
    expect(error).toMatchObject({ awsErrorName: "RequestTooLargeException", httpStatus: 413 });
  });

  it("reports a signature scoped to the wrong region", async () => {
    const wrongRegion = new LambdaClient({ ...lambda.clientConfig, region: "us-west-2" });
    try {
      const dispatcher = createLambdaDispatcher({ functionName: WORKER, client: wrongRegion });
      const error = await dispatchError(dispatcher.dispatch({ kind: "slack.command", payload: {} }));
      expect(error).toMatchObject({ awsErrorName: "InvalidSignatureException", httpStatus: 403 });
    } finally {
      wrongRegion.destroy();
    }
  });

  it("builds its own client from clientConfig", async () => {
    received.length = 0;
    hold = Promise.resolve();
    const dispatcher = createLambdaDispatcher({ functionName: WORKER, clientConfig: lambda.clientConfig });
    await dispatcher.dispatch({ kind: "slack.command", payload: "own client" });
    await lambda.idle();
    expect(received).toEqual([{ kind: "slack.command", payload: "own client" }]);
  });

  it("reports a network failure with its code", async () => {
    const closed = await startLambdaStandIn();
    const endpoint = closed.endpoint;
    await closed.close();
    const dispatcher = createLambdaDispatcher({
      functionName: WORKER,
      clientConfig: { ...lambda.clientConfig, endpoint, maxAttempts: 1 },
    });
    const error = await dispatchError(dispatcher.dispatch({ kind: "slack.command", payload: {} }));
    expect(error.reason).toBe("invoke-failed");
    expect(error.message).toContain("ECONNREFUSED");
  });
});

describe("createLambdaDispatcher against a Lambda that does not answer 202", () => {
  let server: Server;
  let endpoint: string;
  let reply: { status: number; headers: Record<string, string>; body: string };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function dispatcher() {
    return createLambdaDispatcher({
      functionName: WORKER,
      clientConfig: {
        endpoint,
        region: "eu-west-1",
        credentials: { accessKeyId: "TEST", secretAccessKey: "TEST" },
      },
    });
  }

  it("treats a function error as a failed hand-off, without quoting the function's output", async () => {
    reply = {
      status: 200,
      headers: { "x-amz-function-error": "Unhandled" },
      body: JSON.stringify({ errorMessage: "user said xoxb-leaked", errorType: "Error" }),
    };
    const error = await dispatchError(dispatcher().dispatch({ kind: "slack.command", payload: {} }));
    expect(error.message).toContain("function error 'Unhandled'");
    expect(error.message).not.toContain("xoxb-leaked");
  });

  it("treats a 200 (a synchronous answer) as not queued", async () => {
    reply = { status: 200, headers: {}, body: "null" };
    const error = await dispatchError(dispatcher().dispatch({ kind: "slack.command", payload: {} }));
    expect(error).toMatchObject({ reason: "invoke-failed", httpStatus: 200 });
    expect(error.message).toContain("unexpected status 200");
  });
});
