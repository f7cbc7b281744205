import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LambdaStandIn, startLambdaStandIn } from "./lambda-invoke";

let lambda: LambdaStandIn;
let client: LambdaClient;
const decoder = new TextDecoder();

beforeAll(async () => {
  // Lambda's default event invoke config (2 retries), with the waits between attempts in ms.
  lambda = await startLambdaStandIn({ maxEventPayloadBytes: 1024, retryDelaysMs: [5, 10] });
  client = new LambdaClient({ ...lambda.clientConfig, maxAttempts: 1 });
  lambda.register("echo", async (event) => ({ echoed: event }));
  lambda.register("fails", async () => {
    throw new RangeError("out of range");
  });
});

afterAll(async () => {
  client?.destroy();
  await lambda?.close();
});

function invokeUrl(name: string): string {
  return `${lambda.endpoint}/2015-03-31/functions/${name}/invocations`;
}

describe("Lambda Invoke stand-in, unsigned requests", () => {
  it("answers 403 MissingAuthenticationTokenException without an Authorization header", async () => {
    const response = await fetch(invokeUrl("echo"), {
      method: "POST",
      headers: { "x-amz-invocation-type": "Event" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(lambda.invocations.some((i) => i.functionName === "echo" && i.invocationType === "Event")).toBe(
      false,
    );
  });

  it("answers 403 IncompleteSignatureException for an Authorization header that is not SigV4", async () => {
    const response = await fetch(invokeUrl("echo"), {
      method: "POST",
      headers: { authorization: "Bearer abc" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toBe("IncompleteSignatureException");
  });

  it("answers 404 for other paths", async () => {
    const response = await fetch(`${lambda.endpoint}/2015-03-31/functions/echo`, { method: "GET" });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
  });
});

describe("Lambda Invoke stand-in, through the AWS SDK", () => {
  it("answers RequestResponse with the function's result", async () => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: "echo", Payload: JSON.stringify({ a: [1, "b"] }) }),
    );
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(JSON.parse(decoder.decode(response.Payload))).toEqual({ echoed: { a: [1, "b"] } });
  });

  it("flags a thrown error with FunctionError and the runtime's error object", async () => {
    const response = await client.send(new InvokeCommand({ FunctionName: "fails", Payload: "{}" }));
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe("Unhandled");
    expect(JSON.parse(decoder.decode(response.Payload))).toEqual({
      errorType: "RangeError",
      errorMessage: "out of range",
      trace: [],
    });
  });

  it("answers Event with 202 before running the function, and records the outcome", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    lambda.register("held", async () => {
      await held;
      return "done";
    });
    const response = await client.send(
      new InvokeCommand({ FunctionName: "held", InvocationType: "Event", Payload: '{"x":1}' }),
    );
    expect(response.StatusCode).toBe(202);
    const record = lambda.invocations.find((i) => i.functionName === "held");
    expect(record).toMatchObject({ invocationType: "Event", event: { x: 1 }, status: "running" });

    release();
    await lambda.idle();
    expect(record).toMatchObject({ status: "succeeded", result: "done" });
  });

  it("records a failed Event invocation", async () => {
    const before = lambda.invocations.length;
    await client.send(new InvokeCommand({ FunctionName: "fails", InvocationType: "Event", Payload: "{}" }));
    await lambda.idle();
    expect(lambda.invocations[before]).toMatchObject({
      status: "failed",
      error: "RangeError: out of range",
      attempts: 3,
      condition: "RetriesExhausted",
    });
  });

  it("answers 404 ResourceNotFoundException for an unknown function, as AWS does", async () => {
    const error = await client
      .send(new InvokeCommand({ FunctionName: "ghost", InvocationType: "Event", Payload: "{}" }))
      .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } });
    expect(error).toMatchObject({
      name: "ResourceNotFoundException",
      Type: "User",
      message: `Function not found: arn:aws:lambda:${lambda.region}:000000000000:function:ghost`,
    });
    expect((error as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(404);
  });

  it("answers 413 RequestTooLargeException over the Event payload limit", async () => {
    const error = await client
      .send(
        new InvokeCommand({
          FunctionName: "echo",
          InvocationType: "Event",
          Payload: JSON.stringify("z".repeat(2000)),
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RequestTooLargeException" });
    // The same payload is fine for RequestResponse, whose limit is 6 MB.
    const response = await client.send(
      new InvokeCommand({ FunctionName: "echo", Payload: JSON.stringify("z".repeat(2000)) }),
    );
    expect(response.StatusCode).toBe(200);
  });

  it("answers 400 InvalidRequestContentException for a payload that is not JSON", async () => {
    const error = await client
      .send(new InvokeCommand({ FunctionName: "echo", InvocationType: "Event", Payload: "not json" }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "InvalidRequestContentException" });
  });

  it("answers DryRun with 204 without running anything", async () => {
    const before = lambda.invocations.length;
    const response = await client.send(new InvokeCommand({ FunctionName: "echo", InvocationType: "DryRun" }));
    expect(response.StatusCode).toBe(204);
    expect(lambda.invocations.length).toBe(before);
  });
});
