import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type StandInClientConfig, sigV4Fault, standInCredentials } from "./aws-sigv4";
import { header, readBodyBytes, sendText } from "./http-io";
import { type Exchange, standInFailure, startLoopbackServer } from "./loopback-server";

/**
 * A loopback, in-memory stand-in for Amazon SQS's AWS JSON 1.0 protocol, as
 * `@aws-sdk/client-sqs` v3 speaks it: `POST /` with `X-Amz-Target: AmazonSQS.<Operation>` and
 * `Content-Type: application/x-amz-json-1.0`. Enough to send to and read a standard queue:
 * SendMessage (DelaySeconds, MessageAttributes), ReceiveMessage (MaxNumberOfMessages 1–10,
 * VisibilityTimeout, long polling with WaitTimeSeconds 0–20, system and message attributes),
 * DeleteMessage, GetQueueUrl and GetQueueAttributes (ApproximateNumberOfMessages and friends).
 * Queues exist from the start (`queues`); other operations answer 501.
 *
 * Errors are SQS's JSON shape: `{"__type": "com.amazonaws.sqs#<Type>", "message"}` with the
 * query-protocol code in `x-amzn-query-error: <Code>;Sender`, which the SDK (query-compatible)
 * reads: an unknown queue is `QueueDoesNotExist` with `Code` `AWS.SimpleQueueService.NonExistentQueue`.
 * Requests must carry a SigV4 `Authorization` header scoped to this region and the `sqs` service;
 * the signature itself is not verified. Messages are kept until deleted (no retention period),
 * and a queue hands out visible messages in the order they were sent.
 */
export interface SqsStandInOptions {
  host?: string;
  port?: number;
  /** The region signatures must be scoped to and queue ARNs name. */
  region?: string;
  /** Queues that exist from the start, by name. */
  queues?: string[];
  /** The queues' MaximumMessageSize: body plus message attributes, 1,024–1,048,576 (SQS default 262,144). */
  maximumMessageSize?: number;
  /** The queues' default VisibilityTimeout in seconds (SQS default 30). */
  visibilityTimeoutSeconds?: number;
}

/** A message as the queue holds it; `messages(queueName)` gives these. */
export interface SqsMessage {
  messageId: string;
  body: string;
  /** Epoch milliseconds. */
  sentTimestamp: number;
  receiveCount: number;
  /** Whether a receiver holds it (received, visibility timeout not yet over) or it is still delayed. */
  inFlight: boolean;
  messageAttributes: Record<string, SqsMessageAttribute>;
}

export interface SqsMessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64, as the JSON protocol carries it. */
  BinaryValue?: string;
}

export interface SqsRequest {
  method: string;
  /** The `X-Amz-Target` header, e.g. `AmazonSQS.SendMessage`. */
  target: string;
  queueName?: string;
  status: number;
  errorType?: string;
}

export interface SqsStandIn {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  region: string;
  /** Ready for `new SQSClient(clientConfig)`: this endpoint, its region, dummy static keys. */
  clientConfig: StandInClientConfig;
  /** `http://127.0.0.1:<port>/000000000000/<name>`. */
  queueUrl(name: string): string;
  /** `arn:aws:sqs:<region>:000000000000:<name>`. */
  queueArn(name: string): string;
  /** The messages in a queue not yet deleted, in the order sent; throws for an unknown queue. */
  messages(queueName: string): SqsMessage[];
  /** Every request received, refused ones included. */
  readonly requests: ReadonlyArray<Readonly<SqsRequest>>;
  close(): Promise<void>;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, SqsMessageAttribute>;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** Epoch ms from which it may be received again (delay or visibility timeout). */
  visibleAt: number;
  receiptHandles: Set<string>;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  createdTimestamp: number;
  messages: StoredMessage[];
  /** Long polls waiting for a message; called on every send. */
  waiters: Set<() => void>;
}

const ACCOUNT_ID = "000000000000";
const TARGET_PREFIX = "AmazonSQS.";
const CONTENT_TYPE = "application/x-amz-json-1.0";
export const DEFAULT_MAXIMUM_MESSAGE_SIZE = 262_144;
const MAX_WAIT_SECONDS = 20;
const MAX_VISIBILITY_TIMEOUT = 43_200;
const MAX_DELAY_SECONDS = 900;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
// What SQS accepts in a body: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const SYSTEM_ATTRIBUTES = [
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
] as const;
const QUEUE_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "DelaySeconds",
  "LastModifiedTimestamp",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "QueueArn",
  "ReceiveMessageWaitTimeSeconds",
  "VisibilityTimeout",
] as const;

class SqsError extends Error {
  constructor(
    readonly status: number,
    /** The `__type` short name (the SDK's error name when it models it). */
    readonly type: string,
    message: string,
    /** The query-protocol code for `x-amzn-query-error`. */
    readonly code: string = type,
  ) {
    super(message);
  }
}

const queueDoesNotExist = () =>
  new SqsError(
    400,
    "QueueDoesNotExist",
    "The specified queue does not exist.",
    "AWS.SimpleQueueService.NonExistentQueue",
  );

function invalidParameter(message: string): SqsError {
  return new SqsError(400, "InvalidParameterValue", message);
}

function missingParameter(name: string): SqsError {
  return new SqsError(400, "MissingParameter", `The request must contain the parameter ${name}.`);
}

function checkSignature(authorization: string | undefined, region: string): void {
  const fault = sigV4Fault(authorization, region, "sqs");
  if (fault?.kind === "missing") {
    throw new SqsError(
      403,
      "MissingAuthenticationTokenException",
      "Missing Authentication Token",
      "MissingAuthenticationToken",
    );
  }
  if (fault?.kind === "malformed") {
    throw new SqsError(
      400,
      "IncompleteSignatureException",
      "Authorization header requires 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'",
      "IncompleteSignature",
    );
  }
  if (fault?.kind === "wrong-scope") {
    throw new SqsError(
      403,
      "InvalidSignatureException",
      `Credential should be scoped to region '${region}' and service 'sqs' (got '${fault.region}', '${fault.service}')`,
      "SignatureDoesNotMatch",
    );
  }
}

function parseRequest(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new SqsError(400, "SerializationException", "The request body is not valid JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new SqsError(400, "SerializationException", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

/** An optional integer parameter within [min, max]; SQS's InvalidParameterValue otherwise. */
function integerParameter(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
    );
  }
  return value;
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new SqsError(400, "SerializationException", `${name} must be a list of strings`);
  }
  return value as string[];
}

/**
 * The message attributes of a SendMessage, checked as SQS checks them, with their size (name,
 * type and value bytes count towards MaximumMessageSize).
 */
function messageAttributesOf(value: unknown): {
  attributes: Record<string, SqsMessageAttribute>;
  size: number;
} {
  if (value === undefined || value === null) return { attributes: {}, size: 0 };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SqsError(400, "SerializationException", "MessageAttributes must be a map");
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 10) {
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const attributes: Record<string, SqsMessageAttribute> = {};
  let size = 0;
  for (const [name, raw] of entries) {
    const attribute = (raw ?? {}) as Record<string, unknown>;
    const dataType = attribute.DataType;
    if (typeof dataType !== "string" || !/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw invalidParameter(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    const binary = dataType.startsWith("Binary");
    const stringValue = attribute.StringValue;
    const binaryValue = attribute.BinaryValue;
    if (binary ? typeof binaryValue !== "string" : typeof stringValue !== "string" || stringValue === "") {
      throw invalidParameter(
        `Message (user) attribute '${name}' must contain a non-empty value of type '${dataType}'.`,
      );
    }
    attributes[name] = binary
      ? { DataType: dataType, BinaryValue: binaryValue as string }
      : { DataType: dataType, StringValue: stringValue as string };
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(dataType) +
      (binary
        ? Buffer.from(binaryValue as string, "base64").length
        : Buffer.byteLength(stringValue as string));
  }
  return { attributes, size };
}

/**
 * SQS's MD5OfMessageAttributes: over the attributes sorted by name, each as length-prefixed
 * name, length-prefixed data type, a transport byte (1 string, 2 binary) and length-prefixed value.
 */
function md5OfMessageAttributes(attributes: Record<string, SqsMessageAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name] as SqsMessageAttribute;
    prefixed(Buffer.from(name, "utf8"));
    prefixed(Buffer.from(attribute.DataType, "utf8"));
    const binary = attribute.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    prefixed(
      binary
        ? Buffer.from(attribute.BinaryValue as string, "base64")
        : Buffer.from(attribute.StringValue ?? "", "utf8"),
    );
  }
  return md5Hex(Buffer.concat(parts));
}

/** Whether `name` is selected by ReceiveMessage's MessageAttributeNames (`All`, `.*`, `prefix.*`, exact). */
function selected(patterns: string[], name: string): boolean {
  return patterns.some(
    (pattern) =>
      pattern === "All" ||
      pattern === ".*" ||
      pattern === name ||
      (pattern.endsWith(".*") && name.startsWith(pattern.slice(0, -1))),
  );
}

function sendJson(res: ServerResponse, body: unknown, requestId: string): void {
  sendText(res, 200, CONTENT_TYPE, JSON.stringify(body), { "x-amzn-requestid": requestId });
}

export async function startSqsStandIn(options: SqsStandInOptions = {}): Promise<SqsStandIn> {
  const region = options.region ?? "us-east-1";
  const maximumMessageSize = options.maximumMessageSize ?? DEFAULT_MAXIMUM_MESSAGE_SIZE;
  if (!Number.isInteger(maximumMessageSize) || maximumMessageSize < 1024 || maximumMessageSize > 1_048_576) {
    throw new Error(`maximumMessageSize must be an integer from 1024 to 1048576 (got ${maximumMessageSize})`);
  }
  const visibilityTimeout = options.visibilityTimeoutSeconds ?? 30;
  if (
    !Number.isInteger(visibilityTimeout) ||
    visibilityTimeout < 0 ||
    visibilityTimeout > MAX_VISIBILITY_TIMEOUT
  ) {
    throw new Error(`visibilityTimeoutSeconds must be an integer from 0 to ${MAX_VISIBILITY_TIMEOUT}`);
  }
  const queues = new Map<string, Queue>();
  const requests: SqsRequest[] = [];
  /** Every receipt handle handed out, so a stale one can be told from one never issued. */
  const issuedHandles = new Set<string>();
  let closed = false;

  for (const name of options.queues ?? []) {
    if (!QUEUE_NAME.test(name)) {
      throw new Error(
        `queue name '${name}': up to 80 letters, digits, '-' or '_' (FIFO queues are not supported)`,
      );
    }
  }

  function queueOfUrl(url: unknown, record: SqsRequest): Queue {
    if (typeof url !== "string" || url === "") throw missingParameter("QueueUrl");
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw new SqsError(404, "InvalidAddress", `The address ${url} is not valid for this endpoint.`);
    }
    const match = /^\/(\d{12})\/([^/]+)$/.exec(path);
    if (!match)
      throw new SqsError(404, "InvalidAddress", `The address ${url} is not valid for this endpoint.`);
    record.queueName = match[2];
    const queue = match[1] === ACCOUNT_ID ? queues.get(match[2] as string) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  function sendMessage(queue: Queue, body: Record<string, unknown>) {
    const text = body.MessageBody;
    if (typeof text !== "string" || text === "") throw missingParameter("MessageBody");
    const { attributes, size } = messageAttributesOf(body.MessageAttributes);
    if (Buffer.byteLength(text) + size > maximumMessageSize) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${maximumMessageSize} bytes.`,
      );
    }
    if (INVALID_CHARACTER.test(text)) {
      throw new SqsError(
        400,
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
      );
    }
    const delay = integerParameter(body, "DelaySeconds", 0, MAX_DELAY_SECONDS) ?? 0;
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body: text,
      md5OfBody: md5Hex(text),
      messageAttributes: attributes,
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
      receiptHandles: new Set(),
    };
    queue.messages.push(message);
    for (const wake of queue.waiters) wake();
    const md5Attributes = md5OfMessageAttributes(attributes);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(md5Attributes ? { MD5OfMessageAttributes: md5Attributes } : {}),
    };
  }

  function take(queue: Queue, max: number, visibilitySeconds: number): StoredMessage[] {
    const now = Date.now();
    const taken: StoredMessage[] = [];
    for (const message of queue.messages) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      taken.push(message);
    }
    return taken;
  }

  /** Resolves on the next send to `queue`, after `ms`, or when the stand-in closes. */
  function waitForChange(queue: Queue, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        queue.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      queue.waiters.add(wake);
    });
  }

  async function receiveMessage(queue: Queue, body: Record<string, unknown>) {
    const max = integerParameter(body, "MaxNumberOfMessages", 1, 10) ?? 1;
    const visibility =
      integerParameter(body, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT) ?? visibilityTimeout;
    const waitSeconds = integerParameter(body, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS) ?? 0;
    const systemNames = [
      ...stringList(body, "MessageSystemAttributeNames"),
      ...stringList(body, "AttributeNames"),
    ];
    const attributeNames = stringList(body, "MessageAttributeNames");

    const deadline = Date.now() + waitSeconds * 1000;
    let taken = take(queue, max, visibility);
    while (taken.length === 0 && !closed && Date.now() < deadline) {
      // Wake for a send, for the next delayed or in-flight message to become visible, or at the deadline.
      const nextVisible = Math.min(...queue.messages.map((m) => m.visibleAt));
      await waitForChange(queue, Math.max(1, Math.min(deadline, nextVisible) - Date.now()));
      taken = take(queue, max, visibility);
    }
    if (taken.length === 0) return {};

    return {
      Messages: taken.map((message) => {
        const receiptHandle = randomBytes(48).toString("base64");
        message.receiptHandles.add(receiptHandle);
        issuedHandles.add(receiptHandle);
        const system: Record<string, string> = {
          SenderId: ACCOUNT_ID,
          SentTimestamp: String(message.sentTimestamp),
          ApproximateReceiveCount: String(message.receiveCount),
          ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
        };
        const wantAll = systemNames.includes("All");
        const attributes = Object.fromEntries(
          SYSTEM_ATTRIBUTES.filter((name) => wantAll || systemNames.includes(name)).map((name) => [
            name,
            system[name],
          ]),
        );
        const messageAttributes = Object.fromEntries(
          Object.entries(message.messageAttributes).filter(([name]) => selected(attributeNames, name)),
        );
        const md5Attributes = md5OfMessageAttributes(messageAttributes);
        return {
          MessageId: message.messageId,
          ReceiptHandle: receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
          ...(md5Attributes
            ? { MD5OfMessageAttributes: md5Attributes, MessageAttributes: messageAttributes }
            : {}),
        };
      }),
    };
  }

  function deleteMessage(queue: Queue, body: Record<string, unknown>) {
    const handle = body.ReceiptHandle;
    if (typeof handle !== "string" || handle === "") throw missingParameter("ReceiptHandle");
    const index = queue.messages.findIndex((m) => m.receiptHandles.has(handle));
    if (index >= 0) {
      queue.messages.splice(index, 1);
      return {};
    }
    // A handle this stand-in issued whose message is gone deletes nothing and succeeds, as on SQS.
    if (issuedHandles.has(handle)) return {};
    throw new SqsError(
      404,
      "ReceiptHandleIsInvalid",
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
    );
  }
  function getQueueUrl(body: Record<string, unknown>, record: SqsRequest) {
    const name = body.QueueName;
    if (typeof name !== "string" || name === "") throw missingParameter("QueueName");
    record.queueName = name;
    const owner = body.QueueOwnerAWSAccountId;
    const queue = owner === undefined || owner === ACCOUNT_ID ? queues.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return { QueueUrl: queue.url };
  }

  function getQueueAttributes(queue: Queue, body: Record<string, unknown>) {
    const names = stringList(body, "AttributeNames");
    for (const name of names) {
      if (name !== "All" && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name)) {
        throw new SqsError(400, "InvalidAttributeName", `Unknown Attribute ${name}.`);
      }
    }
    const now = Date.now();
    const count = (test: (m: StoredMessage) => boolean) => String(queue.messages.filter(test).length);
    const values: Record<(typeof QUEUE_ATTRIBUTES)[number], string> = {
      ApproximateNumberOfMessages: count((m) => m.visibleAt <= now),
      ApproximateNumberOfMessagesNotVisible: count((m) => m.visibleAt > now && m.receiveCount > 0),
      ApproximateNumberOfMessagesDelayed: count((m) => m.visibleAt > now && m.receiveCount === 0),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      DelaySeconds: "0",
      LastModifiedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      MaximumMessageSize: String(maximumMessageSize),
      MessageRetentionPeriod: "345600",
      QueueArn: queue.arn,
      ReceiveMessageWaitTimeSeconds: "0",
      VisibilityTimeout: String(visibilityTimeout),
    };
    const wanted = names.includes("All")
      ? QUEUE_ATTRIBUTES
      : QUEUE_ATTRIBUTES.filter((n) => names.includes(n));
    if (wanted.length === 0) return {};
    return { Attributes: Object.fromEntries(wanted.map((name) => [name, values[name]])) };
  }

  async function handle({ req, res, record, requestId }: Exchange<SqsRequest>) {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://stand-in").pathname !== "/") {
      throw new SqsError(404, "UnknownOperationException", `Unknown operation ${req.method} ${req.url}`);
    }
    checkSignature(header(req, "authorization"), region);
    const contentType = header(req, "content-type")?.split(";")[0]?.trim() ?? "";
    if (contentType === "application/x-www-form-urlencoded") {
      throw new SqsError(501, "NotImplemented", "The SQS query protocol is not supported by this stand-in");
    }
    if (contentType !== CONTENT_TYPE) {
      throw new SqsError(
        400,
        "SerializationException",
        `Content-Type must be ${CONTENT_TYPE} (got '${contentType}')`,
      );
    }
    const target = record.target;
    if (!target.startsWith(TARGET_PREFIX)) {
      throw new SqsError(400, "UnknownOperationException", `Unknown operation '${target}'`);
    }
    // Room for a body at the size limit with its JSON escaping, and for attributes.
    const { body: bytes, tooLarge } = await readBodyBytes(req, maximumMessageSize * 6 + 65_536);
    if (tooLarge) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${maximumMessageSize} bytes.`,
      );
    }
    const body = parseRequest(bytes.toString("utf8"));
    const operation = target.slice(TARGET_PREFIX.length);
    let answer: unknown;
    switch (operation) {
      case "SendMessage":
        answer = sendMessage(queueOfUrl(body.QueueUrl, record), body);
        break;
      case "ReceiveMessage":
        answer = await receiveMessage(queueOfUrl(body.QueueUrl, record), body);
        break;
      case "DeleteMessage":
        answer = deleteMessage(queueOfUrl(body.QueueUrl, record), body);
        break;
      case "GetQueueUrl":
        answer = getQueueUrl(body, record);
        break;
      case "GetQueueAttributes":
        answer = getQueueAttributes(queueOfUrl(body.QueueUrl, record), body);
        break;
      default:
        throw new SqsError(501, "NotImplemented", `${target} is not supported by this stand-in`);
    }
    sendJson(res, answer, requestId);
  }

  const server = await startLoopbackServer(options, requests, {
    record: (req): SqsRequest => ({
      method: req.method ?? "",
      target: header(req, "x-amz-target") ?? "",
      status: 0,
    }),
    handle,
    refuse({ res, record, requestId }, error) {
      const failure =
        error instanceof SqsError
          ? error
          : new SqsError(500, "InternalError", standInFailure(error), "InternalError");
      record.errorType = failure.type;
      const fault = failure.status >= 500 ? "Receiver" : "Sender";
      sendText(
        res,
        failure.status,
        CONTENT_TYPE,
        JSON.stringify({ __type: `com.amazonaws.sqs#${failure.type}`, message: failure.message }),
        { "x-amzn-requestid": requestId, "x-amzn-query-error": `${failure.code};${fault}` },
      );
    },
  });
  const { endpoint } = server;

  const queueUrl = (name: string) => `${endpoint}/${ACCOUNT_ID}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`;
  for (const name of options.queues ?? []) {
    queues.set(name, {
      name,
      url: queueUrl(name),
      arn: queueArn(name),
      createdTimestamp: Date.now(),
      messages: [],
      waiters: new Set(),
    });
  }

  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials: standInCredentials() },
    queueUrl,
    queueArn,
    messages(queueName) {
      const queue = queues.get(queueName);
      if (!queue) throw new Error(`messages: no queue ${queueName}`);
      const now = Date.now();
      return queue.messages.map((m) => ({
        messageId: m.messageId,
        body: m.body,
        sentTimestamp: m.sentTimestamp,
        receiveCount: m.receiveCount,
        inFlight: m.visibleAt > now,
        messageAttributes: { ...m.messageAttributes },
      }));
    },
    requests,
    close() {
      closed = true;
      for (const queue of queues.values()) for (const wake of queue.waiters) wake();
      return server.close();
    },
  };
}
