import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type SQSServiceException,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsStandIn, startSqsStandIn } from "./sqs";

let sqs: SqsStandIn;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqsStandIn({
    region: "eu-west-2",
    queues: ["basics", "visibility", "polling", "counted", "limits", "attributes"],
  });
  client = new SQSClient({ ...sqs.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await sqs?.close();
});

async function awsError(promise: Promise<unknown>): Promise<SQSServiceException & { Code?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as SQSServiceException & { Code?: string };
}

async function receive(queue: string, extra: Record<string, unknown> = {}) {
  const answer = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl(queue), ...extra }));
  return answer.Messages ?? [];
}

describe("SQS stand-in, through the AWS SDK", () => {
  it("answers GetQueueUrl with the queue's URL, and QueueDoesNotExist for an unknown name", async () => {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: "basics" }));
    expect(QueueUrl).toBe(`${sqs.endpoint}/000000000000/basics`);
    expect(QueueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/basics$/);
    expect(sqs.queueArn("basics")).toBe("arn:aws:sqs:eu-west-2:000000000000:basics");

    const error = await awsError(client.send(new GetQueueUrlCommand({ QueueName: "ghost" })));
    expect(error.name).toBe("QueueDoesNotExist");
    expect(error.Code).toBe("AWS.SimpleQueueService.NonExistentQueue");
    expect(error.message).toBe("The specified queue does not exist.");
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it("sends, receives and deletes a message, with the MD5s the SDK checks", async () => {
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl("basics"), MessageBody: '{"hello":"wörld 🌏"}' }),
    );
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sqs.messages("basics")).toMatchObject([
      { body: '{"hello":"wörld 🌏"}', receiveCount: 0, inFlight: false },
    ]);

    const [message, ...rest] = await receive("basics", { MessageSystemAttributeNames: ["All"] });
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"hello":"wörld 🌏"}' });
    expect(message?.Attributes).toMatchObject({ ApproximateReceiveCount: "1", SenderId: "000000000000" });
    expect(Number(message?.Attributes?.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(sqs.messages("basics")).toMatchObject([{ receiveCount: 1, inFlight: true }]);

    await client.send(
      new DeleteMessageCommand({ QueueUrl: sqs.queueUrl("basics"), ReceiptHandle: message?.ReceiptHandle }),
    );
    expect(sqs.messages("basics")).toEqual([]);
    // Deleting again with a handle SQS issued is not an error.
    await client.send(
      new DeleteMessageCommand({ QueueUrl: sqs.queueUrl("basics"), ReceiptHandle: message?.ReceiptHandle }),
    );
    const error = await awsError(
      client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl("basics"), ReceiptHandle: "made-up" })),
    );
    expect(error.name).toBe("ReceiptHandleIsInvalid");
  });

  it("hides a received message for its visibility timeout", async () => {
    const url = sqs.queueUrl("visibility");
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "once" }));
    expect(await receive("visibility", { VisibilityTimeout: 1 })).toHaveLength(1);
    expect(await receive("visibility")).toEqual([]);
    // A long poll is answered when the message becomes visible again, about a second later.
    const started = Date.now();
    const [again] = await receive("visibility", {
      WaitTimeSeconds: 5,
      VisibilityTimeout: 0,
      AttributeNames: ["ApproximateReceiveCount"],
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(again?.Attributes).toEqual({ ApproximateReceiveCount: "2" });
    // VisibilityTimeout 0 leaves it visible at once.
    expect(await receive("visibility", { VisibilityTimeout: 0 })).toHaveLength(1);
    expect(await receive("visibility", { VisibilityTimeout: 0 })).toHaveLength(1);
  });

  it("waits up to WaitTimeSeconds for a message and answers as soon as one is sent", async () => {
    const url = sqs.queueUrl("polling");
    const started = Date.now();
    const polled = receive("polling", { WaitTimeSeconds: 10 });
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "late" })), 100);
    expect((await polled).map((m) => m.Body)).toEqual(["late"]);
    expect(Date.now() - started).toBeLessThan(5000);

    const error = await awsError(receive("polling", { WaitTimeSeconds: 21 }));
    expect(error.name).toBe("InvalidParameterValue");
    expect(error.message).toMatch(/WaitTimeSeconds/);
  });

  it("delays a message by DelaySeconds", async () => {
    const url = sqs.queueUrl("polling");
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "delayed", DelaySeconds: 1 }));
    const attributes = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessagesDelayed"],
      }),
    );
    expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessagesDelayed: "1" });
    expect(await receive("polling")).toEqual([]);
    expect((await receive("polling", { WaitTimeSeconds: 5 })).map((m) => m.Body)).toEqual(["delayed"]);
  });

  it("answers up to MaxNumberOfMessages, and counts messages in GetQueueAttributes", async () => {
    const url = sqs.queueUrl("counted");
    for (const body of ["a", "b", "c"]) {
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    }
    const count = async () =>
      (
        await client.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        )
      ).Attributes;
    expect(await count()).toEqual({
      ApproximateNumberOfMessages: "3",
      ApproximateNumberOfMessagesNotVisible: "0",
    });
    expect((await receive("counted", { MaxNumberOfMessages: 2 })).map((m) => m.Body)).toEqual(["a", "b"]);
    expect(await count()).toEqual({
      ApproximateNumberOfMessages: "1",
      ApproximateNumberOfMessagesNotVisible: "2",
    });
    expect((await receive("counted", { MaxNumberOfMessages: 10 })).map((m) => m.Body)).toEqual(["c"]);

    const all = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }));
    expect(all.Attributes).toMatchObject({
      QueueArn: "arn:aws:sqs:eu-west-2:000000000000:counted",
      MaximumMessageSize: "262144",
      VisibilityTimeout: "30",
    });
    const unknown = await awsError(
      client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["Colour" as "All"] })),
    );
    expect(unknown.name).toBe("InvalidAttributeName");
    const tooMany = await awsError(receive("counted", { MaxNumberOfMessages: 11 }));
    expect(tooMany.name).toBe("InvalidParameterValue");
  });

  it("refuses what SQS refuses: a body over 256 KiB, invalid characters, an unknown queue URL", async () => {
    const url = sqs.queueUrl("limits");
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x".repeat(262_144) }));
    const tooLong = await awsError(
      client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x".repeat(262_145) })),
    );
    expect(tooLong.name).toBe("InvalidParameterValue");
    expect(tooLong.message).toBe(
      "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.",
    );
    const invalid = await awsError(
      client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "bell \u0007" })),
    );
    expect(invalid.name).toBe("InvalidMessageContents");
    const ghost = await awsError(
      client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl("ghost"), MessageBody: "x" })),
    );
    expect(ghost.name).toBe("QueueDoesNotExist");
    expect(sqs.messages("limits")).toHaveLength(1);
    expect(() => sqs.messages("ghost")).toThrow(/no queue ghost/);
  });

  it("keeps message attributes and sends their MD5 as SQS computes it", async () => {
    const url = sqs.queueUrl("attributes");
    // The digest moto's SQS tests pin as AWS's for this attribute.
    const pinned = await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "pinned",
        MessageAttributes: { timestamp: { DataType: "Number", StringValue: "1493147359900" } },
      }),
    );
    expect(pinned.MD5OfMessageAttributes).toBe("235c5c510d26fb653d073faed50ae77c");
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: "with attributes",
        MessageAttributes: {
          condition: { DataType: "String", StringValue: "RetriesExhausted" },
          raw: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    const [first, second] = await receive("attributes", {
      MaxNumberOfMessages: 2,
      MessageAttributeNames: ["All"],
    });
    expect(first?.MD5OfMessageAttributes).toBe(pinned.MD5OfMessageAttributes);
    expect(second?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(second?.MessageAttributes?.condition).toEqual({
      DataType: "String",
      StringValue: "RetriesExhausted",
    });
    expect([...(second?.MessageAttributes?.raw?.BinaryValue ?? [])]).toEqual([1, 2, 3]);
    // Attributes not asked for are not sent.
    const [plain] = await receive("attributes", { VisibilityTimeout: 0, WaitTimeSeconds: 0 });
    expect(plain).toBeUndefined();
  });
});

describe("SQS stand-in, unsigned and malformed requests", () => {
  const target = (operation: string) => ({
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `AmazonSQS.${operation}`,
  });

  it("answers 403 MissingAuthenticationToken without an Authorization header", async () => {
    const response = await fetch(`${sqs.endpoint}/`, {
      method: "POST",
      headers: target("GetQueueUrl"),
      body: JSON.stringify({ QueueName: "basics" }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-query-error")).toBe("MissingAuthenticationToken;Sender");
    expect(await response.json()).toMatchObject({ message: "Missing Authentication Token" });
  });

  it("answers 403 for a credential scoped to another region", async () => {
    const response = await fetch(`${sqs.endpoint}/`, {
      method: "POST",
      headers: {
        ...target("GetQueueUrl"),
        authorization: `AWS4-HMAC-SHA256 Credential=STANDIN/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
      },
      body: JSON.stringify({ QueueName: "basics" }),
    });
    expect(response.status).toBe(403);
    expect(sqs.requests.at(-1)).toMatchObject({ target: "AmazonSQS.GetQueueUrl", status: 403 });
  });
});
