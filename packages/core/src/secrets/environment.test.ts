import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSecretsManagerSource } from "../adapters/aws/secrets-manager-source";
import { createMemoryLogger } from "../logging/json-logger";
import {
  getEnvironment,
  resetSecretSources,
  resolveEnvironment,
  type SecretSourceFactory,
} from "./environment";
import { cachedSecretSource, MissingSecretKeysError } from "./secrets";

const SECRET = "victoria/env";
const SECRET_VALUES = {
  SLACK_SIGNING_SECRET: "from-secret-signing-value",
  SLACK_BOT_TOKEN: "xoxb-from-secret-token",
  SERVICE_BUS_CONNECTIONS: { uksprod1: "Endpoint=sb://x/;SharedAccessKey=bus-key-from-secret" },
};
const ENV_SECRET_TEXTS = ["env-signing-value", "env-listener-value"];
const ALL_SECRET_TEXTS = [
  ...ENV_SECRET_TEXTS,
  SECRET_VALUES.SLACK_SIGNING_SECRET,
  SECRET_VALUES.SLACK_BOT_TOKEN,
  "bus-key-from-secret",
];
const messages: string[] = [];

let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({ region: "eu-west-2", secrets: { [SECRET]: SECRET_VALUES } });
  client = new SecretsManagerClient({ ...standIn.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await standIn?.close();
});

beforeEach(() => resetSecretSources());

const standInSource = (secretId: string) => createSecretsManagerSource({ secretId, client });

function calls(secretId: string): number {
  return standIn.requests.filter((request) => request.secretId === secretId).length;
}

async function missing(promise: Promise<unknown>): Promise<MissingSecretKeysError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MissingSecretKeysError);
  messages.push((error as Error).message);
  return error as MissingSecretKeysError;
}

describe("resolveEnvironment without VICTORIA_SECRET_ID", () => {
  const env = {
    SLACK_SIGNING_SECRET: "env-signing-value",
    LISTENER_TOKEN: "env-listener-value",
    PORT: "3000",
  };

  it("is the environment alone and calls no secret source", async () => {
    const before = standIn.requests.length;
    const source = { get: () => Promise.reject(new Error("must not be called")) };
    expect(await resolveEnvironment(env, { source, requiredKeys: ["SLACK_SIGNING_SECRET"] })).toEqual(env);
    expect(standIn.requests.length).toBe(before);
  });

  it("names the required keys missing from the environment", async () => {
    const error = await missing(
      resolveEnvironment(env, { requiredKeys: ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SRE_GROUP_ID"] }),
    );
    expect(error.missingKeys).toEqual(["SLACK_BOT_TOKEN", "SRE_GROUP_ID"]);
    expect(error.message).toBe(
      "Missing configuration: SLACK_BOT_TOKEN, SRE_GROUP_ID (not set in the environment)",
    );
  });

  it("treats an empty VICTORIA_SECRET_ID as unset", async () => {
    expect(await resolveEnvironment({ ...env, VICTORIA_SECRET_ID: "" })).toEqual({
      ...env,
      VICTORIA_SECRET_ID: "",
    });
  });
});

describe("resolveEnvironment with VICTORIA_SECRET_ID", () => {
  const env = {
    VICTORIA_SECRET_ID: SECRET,
    SLACK_SIGNING_SECRET: "env-signing-value",
    LISTENER_TOKEN: "env-listener-value",
    VAULT_DIR: "/tmp/vault",
  };

  it("overlays the secret on the environment; the secret wins", async () => {
    const resolved = await resolveEnvironment(env, { source: standInSource(SECRET) });
    expect(resolved).toEqual({
      VICTORIA_SECRET_ID: SECRET,
      SLACK_SIGNING_SECRET: SECRET_VALUES.SLACK_SIGNING_SECRET,
      SLACK_BOT_TOKEN: SECRET_VALUES.SLACK_BOT_TOKEN,
      SERVICE_BUS_CONNECTIONS: JSON.stringify(SECRET_VALUES.SERVICE_BUS_CONNECTIONS),
      LISTENER_TOKEN: "env-listener-value",
      VAULT_DIR: "/tmp/vault",
    });
  });

  it("names the keys missing from both the secret and the environment, never values", async () => {
    const error = await missing(
      resolveEnvironment(env, {
        source: standInSource(SECRET),
        requiredKeys: ["SLACK_BOT_TOKEN", "LISTENER_TOKEN", "VICTORIA_SHARED_SECRET", "SRE_GROUP_ID"],
      }),
    );
    expect(error.missingKeys).toEqual(["VICTORIA_SHARED_SECRET", "SRE_GROUP_ID"]);
    expect(error.secretId).toBe(SECRET);
    expect(error.message).toBe(
      `Missing configuration: VICTORIA_SHARED_SECRET, SRE_GROUP_ID (not set in secret '${SECRET}' or the environment)`,
    );
  });

  it("passes the source's failure on", async () => {
    const error = await resolveEnvironment(
      { VICTORIA_SECRET_ID: "victoria/absent" },
      { source: standInSource("victoria/absent") },
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("'victoria/absent'");
    expect(error?.message).toContain("ResourceNotFoundException");
    messages.push(error?.message ?? "");
  });
});

describe("getEnvironment", () => {
  const logger = createMemoryLogger();
  let created: string[] = [];
  const createSource: SecretSourceFactory = (secretId) => {
    created.push(secretId);
    return cachedSecretSource(standInSource(secretId), { logger });
  };

  beforeEach(() => {
    created = [];
  });

  it("fetches the secret once per container for warm invocations", async () => {
    const env = { VICTORIA_SECRET_ID: SECRET };
    const before = calls(SECRET);
    for (let i = 0; i < 3; i += 1) {
      const resolved = await getEnvironment(["SLACK_BOT_TOKEN"], { env, createSource });
      expect(resolved.SLACK_BOT_TOKEN).toBe(SECRET_VALUES.SLACK_BOT_TOKEN);
    }
    expect(calls(SECRET) - before).toBe(1);
    expect(created).toEqual([SECRET]);
  });

  it("keeps one cached source per secret id", async () => {
    const other = "victoria/other";
    standIn.putSecret(other, { SLACK_BOT_TOKEN: "xoxb-other" });
    await getEnvironment([], { env: { VICTORIA_SECRET_ID: SECRET }, createSource });
    await getEnvironment([], { env: { VICTORIA_SECRET_ID: other }, createSource });
    await getEnvironment([], { env: { VICTORIA_SECRET_ID: SECRET }, createSource });
    expect(created).toEqual([SECRET, other]);
    expect(calls(other)).toBe(1);
  });

  it("checks the required keys on every call", async () => {
    const env = { VICTORIA_SECRET_ID: SECRET };
    await getEnvironment([], { env, createSource });
    await missing(getEnvironment(["LISTENER_TOKEN"], { env, createSource }));
  });

  it("reads the environment alone without VICTORIA_SECRET_ID", async () => {
    expect(await getEnvironment(["PORT"], { env: { PORT: "3000" }, createSource })).toEqual({ PORT: "3000" });
    expect(created).toEqual([]);
  });
});

describe("error messages", () => {
  it("never contain a secret value", () => {
    expect(messages.length).toBeGreaterThanOrEqual(4);
    for (const message of messages) {
      for (const text of ALL_SECRET_TEXTS) expect(message).not.toContain(text);
    }
  });
});
