import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AsyncInvocationFailureRecord } from "./lambda-async";
import { type LambdaStandIn, startLambdaStandIn } from "./lambda-invoke";
import { type SqsStandIn, startSqsStandIn } from "./sqs";

/**
 * The worker's hand-off as infra/hand-off.ts declares it, on loopback: Event invocations through
 * `@aws-sdk/client-lambda`, failures delivered to the SQS stand-in's queue as Lambda delivers them
 * to an SQS destination, and read back with `@aws-sdk/client-sqs`.
 */

const QUEUE = "WorkerFailures";
/** infra/hand-off.ts's WORKER_MAX_EVENT_AGE_SECONDS (that module needs SST's globals to load). */
const WORKER_MAX_EVENT_AGE_SECONDS = 1800;
const RETRY_DELAYS_MS = [20, 40] as const;

let lambda: LambdaStandIn;
let sqs: SqsStandIn;
let lambdaClient: LambdaClient;
let sqsClient: SQSClient;
let clockOffsetMs = 0;
const decoder = new TextDecoder();

beforeAll(async () => {
  sqs = await startSqsStandIn({ queues: [QUEUE] });
  lambda = await startLambdaStandIn({
    retryDelaysMs: RETRY_DELAYS_MS,
    now: () => Date.now() + clockOffsetMs,
  });
  lambdaClient = new LambdaClient({ ...lambda.clientConfig, maxAttempts: 1 });
  sqsClient = new SQSClient({ ...sqs.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  lambdaClient?.destroy();
  sqsClient?.destroy();
  await lambda?.close();
  await sqs?.close();
});

beforeEach(() => {
  clockOffsetMs = 0;
});

/** Lambda's SQS destination: the record, as JSON, is the message body. */
function toQueue(queueName: string) {
  return async (record: AsyncInvocationFailureRecord) => {
    await sqsClient.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl(queueName), MessageBody: JSON.stringify(record) }),
    );
  };
}

/** The hand-off's event invoke config: no retries unless told, the 30-minute age, failures to the queue. */
function configure(name: string, maximumRetryAttempts = 0) {
  lambda.configureEventInvoke(name, {
    maximumRetryAttempts,
    maximumEventAgeInSeconds: WORKER_MAX_EVENT_AGE_SECONDS,
    onFailure: toQueue(QUEUE),
  });
}

async function invokeEvent(name: string, event: unknown): Promise<string> {
  const response = await lambdaClient.send(
    new InvokeCommand({ FunctionName: name, InvocationType: "Event", Payload: JSON.stringify(event) }),
  );
  expect(response.StatusCode).toBe(202);
  const requestId = response.$metadata.requestId;
  expect(requestId).toBeDefined();
  return requestId as string;
}

/** Every record on the queue, read and deleted with the SDK. */
async function drainFailures(): Promise<AsyncInvocationFailureRecord[]> {
  const url = sqs.queueUrl(QUEUE);
  const records: AsyncInvocationFailureRecord[] = [];
  for (;;) {
    const { Messages = [] } = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) return records;
    for (const message of Messages) {
      records.push(JSON.parse(message.Body ?? "null") as AsyncInvocationFailureRecord);
      await sqsClient.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

async function queuedCount(): Promise<string | undefined> {
  const { Attributes } = await sqsClient.send(
    new GetQueueAttributesCommand({
      QueueUrl: sqs.queueUrl(QUEUE),
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  return Attributes?.ApproximateNumberOfMessages;
}

function invocation(requestId: string) {
  return lambda.invocations.find((i) => i.requestId === requestId);
}

describe("Lambda asynchronous invocation, failures to an SQS destination", () => {
  it("runs a throwing handler once with 0 retries and sends Lambda's record to the queue", async () => {
    let runs = 0;
    lambda.register("worker-throws", async () => {
      runs += 1;
      throw new TypeError("cannot read the command");
    });
    configure("worker-throws");
    const event = { kind: "slack.command", payload: { text: "victoria config view", n: 1.5 } };
    const requestId = await invokeEvent("worker-throws", event);
    await lambda.idle();

    expect(runs).toBe(1);
    expect(invocation(requestId)).toMatchObject({
      status: "failed",
      attempts: 1,
      condition: "RetriesExhausted",
    });
    const records = await drainFailures();
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      requestContext: {
        requestId,
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:worker-throws:$LATEST",
        condition: "RetriesExhausted",
        approximateInvokeCount: 1,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "TypeError", errorMessage: "cannot read the command", trace: [] },
    });
    expect(Math.abs(Date.parse(record?.timestamp ?? "") - Date.now())).toBeLessThan(60_000);
    expect(await queuedCount()).toBe("0");
  });

  it("retries twice, after the configured delays, before sending one record", async () => {
    const startedAt: number[] = [];
    lambda.register("worker-retried", async () => {
      startedAt.push(Date.now());
      throw new Error(`attempt ${startedAt.length}`);
    });
    configure("worker-retried", 2);
    const requestId = await invokeEvent("worker-retried", { n: 2 });
    await lambda.idle();

    expect(startedAt).toHaveLength(3);
    expect((startedAt[1] ?? 0) - (startedAt[0] ?? 0)).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0] - 2);
    expect((startedAt[2] ?? 0) - (startedAt[1] ?? 0)).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[1] - 2);
    expect(invocation(requestId)).toMatchObject({ attempts: 3, status: "failed", error: "Error: attempt 3" });
    const records = await drainFailures();
    expect(records).toHaveLength(1);
    expect(records[0]?.requestContext).toMatchObject({
      requestId,
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
    });
    expect(records[0]?.responsePayload).toMatchObject({ errorMessage: "attempt 3" });
  });

  it("uses Lambda's default of 2 retries for a function with no event invoke config", async () => {
    let runs = 0;
    lambda.register("unconfigured", async () => {
      runs += 1;
      throw new Error("no config");
    });
    const requestId = await invokeEvent("unconfigured", {});
    await lambda.idle();
    expect(runs).toBe(3);
    expect(invocation(requestId)).toMatchObject({ attempts: 3, condition: "RetriesExhausted" });
    // No destination: the event is dropped.
    expect(await drainFailures()).toEqual([]);
  });

  it("drops an event past its maximum age without running it: EventAgeExceeded", async () => {
    let runs = 0;
    lambda.register("worker-throttled", async () => {
      runs += 1;
      return "ran";
    });
    configure("worker-throttled");
    // Reserved concurrency 0: the event waits in Lambda's queue.
    lambda.holdEvents("worker-throttled");
    const requestId = await invokeEvent("worker-throttled", { late: true });
    await lambda.idle();
    expect(invocation(requestId)).toMatchObject({ status: "running", attempts: 0 });

    clockOffsetMs = (WORKER_MAX_EVENT_AGE_SECONDS + 1) * 1000;
    lambda.releaseEvents("worker-throttled");
    await lambda.idle();

    expect(runs).toBe(0);
    expect(invocation(requestId)).toMatchObject({
      status: "failed",
      attempts: 0,
      condition: "EventAgeExceeded",
    });
    const records = await drainFailures();
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      version: "1.0",
      timestamp: expect.any(String),
      requestContext: {
        requestId,
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:worker-throttled:$LATEST",
        condition: "EventAgeExceeded",
        approximateInvokeCount: 0,
      },
      requestPayload: { late: true },
    });
    // The record is stamped with the (advanced) clock it was sent at.
    expect(Date.parse(records[0]?.timestamp ?? "")).toBeGreaterThan(Date.now() + 1_700_000);
  });

  it("runs a held event that is still young enough once released", async () => {
    let runs = 0;
    lambda.register("worker-held", async () => {
      runs += 1;
    });
    configure("worker-held");
    lambda.holdEvents("worker-held");
    const requestId = await invokeEvent("worker-held", {});
    clockOffsetMs = (WORKER_MAX_EVENT_AGE_SECONDS - 1) * 1000;
    lambda.releaseEvents("worker-held");
    await lambda.idle();
    expect(runs).toBe(1);
    expect(invocation(requestId)).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(await drainFailures()).toEqual([]);
  });

  it("stops retrying once the event ages out between attempts, with the last error in the record", async () => {
    lambda.register("worker-slow-retry", async () => {
      // The next retry comes after the event's maximum age.
      clockOffsetMs += 61_000;
      throw new Error("transient");
    });
    lambda.configureEventInvoke("worker-slow-retry", {
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 60,
      onFailure: toQueue(QUEUE),
    });
    const requestId = await invokeEvent("worker-slow-retry", { n: 3 });
    await lambda.idle();
    const [record] = await drainFailures();
    expect(record?.requestContext).toMatchObject({
      requestId,
      condition: "EventAgeExceeded",
      approximateInvokeCount: 1,
    });
    expect(record?.responsePayload).toEqual({ errorType: "Error", errorMessage: "transient", trace: [] });
  });

  it("fails an invocation running past its timeout with Lambda's timeout error", async () => {
    lambda.register("worker-hangs", () => new Promise(() => undefined), { timeoutSeconds: 0.05 });
    configure("worker-hangs");
    const requestId = await invokeEvent("worker-hangs", { slow: true });
    await lambda.idle();

    const timedOut = {
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 0.05 seconds`,
    };
    expect(invocation(requestId)).toMatchObject({
      status: "failed",
      attempts: 1,
      error: `Sandbox.Timedout: ${timedOut.errorMessage}`,
    });
    const [record] = await drainFailures();
    expect(record?.requestContext).toMatchObject({ requestId, condition: "RetriesExhausted" });
    expect(record?.responseContext).toEqual({
      statusCode: 200,
      executedVersion: "$LATEST",
      functionError: "Unhandled",
    });
    expect(record?.responsePayload).toEqual(timedOut);

    // A synchronous invocation times out the same way.
    const response = await lambdaClient.send(
      new InvokeCommand({ FunctionName: "worker-hangs", Payload: "{}" }),
    );
    expect(response.FunctionError).toBe("Unhandled");
    expect(JSON.parse(decoder.decode(response.Payload))).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${response.$metadata.requestId} Error: Task timed out after 0.05 seconds`,
    });
  });

  it("sends nothing to the queue for a handler that succeeds, at once or on a retry", async () => {
    lambda.register("worker-ok", async (event) => ({ done: event }), { timeoutSeconds: 5 });
    configure("worker-ok", 2);
    const first = await invokeEvent("worker-ok", { ok: 1 });

    let runs = 0;
    lambda.register("worker-flaky", async () => {
      runs += 1;
      if (runs === 1) throw new Error("first attempt fails");
      return "second attempt succeeds";
    });
    configure("worker-flaky", 2);
    const second = await invokeEvent("worker-flaky", { ok: 2 });
    await lambda.idle();

    expect(invocation(first)).toMatchObject({
      status: "succeeded",
      attempts: 1,
      result: { done: { ok: 1 } },
    });
    expect(invocation(second)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(invocation(second)?.condition).toBeUndefined();
    expect(await queuedCount()).toBe("0");
    expect(sqs.messages(QUEUE)).toEqual([]);
  });

  it("records a destination that cannot be delivered to", async () => {
    lambda.register("worker-lost", async () => {
      throw new Error("lost");
    });
    lambda.configureEventInvoke("worker-lost", { maximumRetryAttempts: 0, onFailure: toQueue("Deleted") });
    const requestId = await invokeEvent("worker-lost", {});
    await lambda.idle();
    expect(invocation(requestId)).toMatchObject({
      condition: "RetriesExhausted",
      destinationError: "QueueDoesNotExist: The specified queue does not exist.",
    });
  });

  it("refuses an event invoke config outside Lambda's ranges, or for an unknown function", () => {
    lambda.register("worker-config", async () => null);
    expect(() => lambda.configureEventInvoke("worker-config", { maximumRetryAttempts: 3 })).toThrow(
      /maximumRetryAttempts must be an integer from 0 to 2/,
    );
    expect(() => lambda.configureEventInvoke("worker-config", { maximumEventAgeInSeconds: 59 })).toThrow(
      /maximumEventAgeInSeconds must be an integer from 60 to 21600/,
    );
    expect(() => lambda.configureEventInvoke("ghost", {})).toThrow(/Function not found/);
    expect(() => lambda.register("worker-config", async () => null, { timeoutSeconds: 901 })).toThrow(
      /timeoutSeconds/,
    );
  });
});
