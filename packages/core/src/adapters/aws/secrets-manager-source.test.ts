import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretSourceError } from "../../secrets/secrets";
import { createSecretsManagerSource, parseSecretString } from "./secrets-manager-source";

const SECRET = "victoria/test";
const VALUES = {
  SLACK_SIGNING_SECRET: "s3cr3t-signing-value",
  SLACK_BOT_TOKEN: "xoxb-very-secret-token",
  VICTORIA_SHARED_SECRET: "shared-hmac-secret-value",
};
const CONNECTIONS = {
  uksprod1: "Endpoint=sb://gw-icap-sb-uksprod1.servicebus.windows.net/;SharedAccessKey=sb-key-value",
};
/** Every value a test stored; none may appear in any error message. */
const SECRET_TEXTS = [...Object.values(VALUES), CONNECTIONS.uksprod1, "pw-9f3k", "sb-key-value"];
const messages: string[] = [];

let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({ region: "eu-west-2" });
  // One attempt: the stand-in's request count is then exactly the adapter's calls.
  client = new SecretsManagerClient({ ...standIn.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await standIn?.close();
});

async function failure(promise: Promise<unknown>): Promise<SecretSourceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretSourceError);
  messages.push((error as Error).message);
  return error as SecretSourceError;
}

function source(secretId: string) {
  return createSecretsManagerSource({ secretId, client });
}

describe("createSecretsManagerSource over the wire", () => {
  it("reads the JSON secret's keys", async () => {
    standIn.putSecret(SECRET, VALUES);
    const before = standIn.requests.length;
    expect(await source(SECRET).get()).toEqual(VALUES);
    expect(standIn.requests.slice(before)).toEqual([
      expect.objectContaining({ target: "secretsmanager.GetSecretValue", secretId: SECRET, status: 200 }),
    ]);
  });

  it("finds the secret by ARN too", async () => {
    const arn = standIn.putSecret("victoria/by-arn", VALUES);
    expect(await source(arn).get()).toEqual(VALUES);
  });

  it("keeps SERVICE_BUS_CONNECTIONS given as an object as its JSON text", async () => {
    standIn.putSecret("victoria/bus", { ...VALUES, SERVICE_BUS_CONNECTIONS: CONNECTIONS });
    const values = await source("victoria/bus").get();
    expect(typeof values.SERVICE_BUS_CONNECTIONS).toBe("string");
    expect(JSON.parse(values.SERVICE_BUS_CONNECTIONS ?? "")).toEqual(CONNECTIONS);
    expect(values.SLACK_BOT_TOKEN).toBe(VALUES.SLACK_BOT_TOKEN);
  });

  it("accepts SERVICE_BUS_CONNECTIONS already written as a JSON string", async () => {
    standIn.putSecret("victoria/bus-text", { SERVICE_BUS_CONNECTIONS: JSON.stringify(CONNECTIONS) });
    expect(await source("victoria/bus-text").get()).toEqual({
      SERVICE_BUS_CONNECTIONS: JSON.stringify(CONNECTIONS),
    });
  });

  it("refuses a secret that is not JSON, naming the secret but not its content", async () => {
    standIn.putSecret("victoria/plain", "pw-9f3k");
    const error = await failure(source("victoria/plain").get());
    expect(error.message).toContain("'victoria/plain'");
    expect(error.message).toContain("not valid JSON");
    expect(error.message).not.toContain("pw-9f3k");
    expect(error.transient).toBe(false);
    expect(error.cause).toBeUndefined();
  });

  it("refuses a binary secret", async () => {
    standIn.putSecret("victoria/binary", new Uint8Array([1, 2, 3]));
    const error = await failure(source("victoria/binary").get());
    expect(error.message).toContain("'victoria/binary'");
    expect(error.message).toContain("SecretBinary");
    expect(error.transient).toBe(false);
  });

  it("names the AWS error and the secret for an unknown secret", async () => {
    const error = await failure(source("victoria/missing").get());
    expect(error.message).toContain("'victoria/missing'");
    expect(error.message).toContain("ResourceNotFoundException");
    expect(error.awsErrorName).toBe("ResourceNotFoundException");
    expect(error.transient).toBe(false);
  });

  it.each([
    ["AccessDeniedException", "secretsmanager:GetSecretValue"],
    ["DecryptionFailure", "KMS"],
  ] as const)("names %s and what it means", async (type, hint) => {
    standIn.failNext(1, type);
    const error = await failure(source(SECRET).get());
    expect(error.message).toContain(`'${SECRET}'`);
    expect(error.message).toContain(type);
    expect(error.message).toContain(hint);
    expect(error.transient).toBe(false);
  });

  it("marks AWS's server errors and throttling as transient", async () => {
    standIn.failNext(1, "InternalServiceError");
    const serverError = await failure(source(SECRET).get());
    expect(serverError.message).toContain("InternalServiceError (HTTP 500)");
    expect(serverError.transient).toBe(true);
    standIn.failNext(1, "ThrottlingException");
    expect((await failure(source(SECRET).get())).transient).toBe(true);
  });

  it("marks an unreachable endpoint as transient", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = createSecretsManagerSource({
      secretId: SECRET,
      clientConfig: { ...standIn.clientConfig, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 },
    });
    const error = await failure(offline.get());
    expect(error.message).toContain(`'${SECRET}'`);
    expect(error.transient).toBe(true);
  });
});

describe("parseSecretString", () => {
  it.each([
    ["[]", "not an array"],
    ['"a string"', "not a string"],
    ["null", "not null"],
    ['{"SLACK_BOT_TOKEN": 42}', "SLACK_BOT_TOKEN must be a string, not a number"],
    ['{"LISTENER_TOKEN": {"a": "b"}}', "LISTENER_TOKEN must be a string, not an object"],
    ['{"SERVICE_BUS_CONNECTIONS": ["x"]}', "SERVICE_BUS_CONNECTIONS must be a string or a JSON object"],
    ['{"SERVICE_BUS_CONNECTIONS": {"uksprod1": 1}}', "SERVICE_BUS_CONNECTIONS.uksprod1 must be a string"],
  ])("refuses %s", (text, expected) => {
    let thrown: unknown;
    try {
      parseSecretString("victoria/x", text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SecretSourceError);
    expect((thrown as Error).message).toContain("'victoria/x' is malformed");
    expect((thrown as Error).message).toContain(expected);
    messages.push((thrown as Error).message);
  });

  it("accepts an empty object (required keys are checked by the caller)", () => {
    expect(parseSecretString("victoria/x", "{}")).toEqual({});
  });
});

describe("error messages", () => {
  it("never contain a secret value", () => {
    expect(messages.length).toBeGreaterThan(10);
    for (const message of messages) {
      for (const text of SECRET_TEXTS) expect(message).not.toContain(text);
    }
  });
});
