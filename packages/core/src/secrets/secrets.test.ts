import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSecretsManagerSource } from "../adapters/aws/secrets-manager-source";
import { createMemoryLogger } from "../logging/json-logger";
import {
  cachedSecretSource,
  MissingSecretKeysError,
  requireKeys,
  type SecretSource,
  SecretSourceError,
} from "./secrets";

const TTL = 60_000;
const GRACE = 120_000;
const RETRY = 10_000;
const FIRST = { SLACK_BOT_TOKEN: "xoxb-first-token-value", LISTENER_TOKEN: "listener-first-value" };
const SECOND = { SLACK_BOT_TOKEN: "xoxb-second-token-value", LISTENER_TOKEN: "listener-second-value" };

let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;
let secretId = "";
let counter = 0;
let clock = 0;
let logger: ReturnType<typeof createMemoryLogger>;

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({ region: "eu-west-2" });
  client = new SecretsManagerClient({ ...standIn.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await standIn?.close();
});

beforeEach(() => {
  counter += 1;
  secretId = `victoria/cache-${counter}`;
  standIn.putSecret(secretId, FIRST);
  clock = 1_000_000;
  logger = createMemoryLogger();
});

/** A cached source over the wire, on the test's clock; `calls()` counts requests for this secret. */
function cached(): SecretSource {
  return cachedSecretSource(createSecretsManagerSource({ secretId, client }), {
    ttlMs: TTL,
    staleGraceMs: GRACE,
    retryAfterFailureMs: RETRY,
    now: () => clock,
    logger,
  });
}

function calls(): number {
  return standIn.requests.filter((request) => request.secretId === secretId).length;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe("cachedSecretSource", () => {
  it("fetches once for many gets within the TTL", async () => {
    const source = cached();
    for (let i = 0; i < 5; i += 1) {
      expect(await source.get()).toEqual(FIRST);
      clock += TTL / 10;
    }
    expect(calls()).toBe(1);
  });

  it("refreshes once the TTL has passed", async () => {
    const source = cached();
    await source.get();
    standIn.putSecret(secretId, SECOND);
    clock += TTL - 1;
    expect(await source.get()).toEqual(FIRST);
    clock += 1;
    expect(await source.get()).toEqual(SECOND);
    expect(calls()).toBe(2);
  });

  it("fetches anew when asked to, whatever the TTL", async () => {
    const source = cached();
    await source.get();
    standIn.putSecret(secretId, SECOND);
    expect(await source.get({ forceFetch: true })).toEqual(SECOND);
    expect(calls()).toBe(2);
  });

  it("shares one request among concurrent callers, at first and after expiry", async () => {
    const source = cached();
    const first = await Promise.all(Array.from({ length: 10 }, () => source.get()));
    expect(first.every((values) => values.SLACK_BOT_TOKEN === FIRST.SLACK_BOT_TOKEN)).toBe(true);
    expect(calls()).toBe(1);
    clock += TTL;
    await Promise.all([source.get(), source.get({ forceFetch: true }), source.get()]);
    expect(calls()).toBe(2);
  });

  it("hands out values that callers cannot change for one another", async () => {
    const source = cached();
    const values = await source.get();
    expect(() => {
      values.SLACK_BOT_TOKEN = "changed";
    }).toThrow(TypeError);
    expect((await source.get()).SLACK_BOT_TOKEN).toBe(FIRST.SLACK_BOT_TOKEN);
  });

  it("fails when the first fetch fails, and does not cache the failure", async () => {
    const source = cached();
    standIn.failNext(1, "InternalServiceError");
    const errors = await Promise.all([rejection(source.get()), rejection(source.get())]);
    expect(errors[0]).toBe(errors[1]);
    expect(errors[0]).toBeInstanceOf(SecretSourceError);
    expect(calls()).toBe(1);
    expect(await source.get()).toEqual(FIRST);
    expect(calls()).toBe(2);
  });

  it("rides out a transient refresh failure on stale values, bounded, with a warning", async () => {
    const source = cached();
    await source.get();
    clock += TTL;
    standIn.failNext(1, "InternalServiceError");
    expect(await source.get()).toEqual(FIRST);
    expect(calls()).toBe(2);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "secret refresh failed; serving the cached configuration",
        errorName: "InternalServiceError",
        cachedAgeMs: TTL,
      }),
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain(FIRST.SLACK_BOT_TOKEN);

    // No new attempt (and no SDK retries per request) until the retry delay has passed.
    clock += RETRY - 1;
    expect(await source.get()).toEqual(FIRST);
    expect(calls()).toBe(2);
    clock += 1;
    standIn.putSecret(secretId, SECOND);
    expect(await source.get()).toEqual(SECOND);
    expect(calls()).toBe(3);
  });

  it("fails once the grace period past the TTL is over", async () => {
    const source = cached();
    await source.get();
    clock += TTL + GRACE - RETRY;
    standIn.failNext(1, "ThrottlingException");
    expect(await source.get()).toEqual(FIRST);
    clock += RETRY;
    standIn.failNext(1, "ThrottlingException");
    const error = await rejection(source.get());
    expect(error.message).toContain("ThrottlingException");
    expect(calls()).toBe(3);
  });

  it("fails at once on a definitive refresh failure, cache or not", async () => {
    const source = cached();
    await source.get();
    clock += TTL;
    standIn.failNext(1, "AccessDeniedException");
    const error = await rejection(source.get());
    expect(error.message).toContain("AccessDeniedException");
    expect(error.message).not.toContain(FIRST.SLACK_BOT_TOKEN);
    expect(logger.lines).toEqual([]);
  });

  it("recovers when the source throws synchronously", async () => {
    let fail = true;
    const source = cachedSecretSource(
      {
        get() {
          if (fail) throw new Error("boom");
          return Promise.resolve(FIRST);
        },
      },
      { now: () => clock, logger },
    );
    await expect(source.get()).rejects.toThrow("boom");
    fail = false;
    expect(await source.get()).toEqual(FIRST);
  });
});

describe("requireKeys", () => {
  it("returns the required values", () => {
    expect(requireKeys({ A: "1", B: "2", C: "3" }, ["A", "B"])).toEqual({ A: "1", B: "2" });
  });

  it("names every missing or empty key, never a value", () => {
    let thrown: unknown;
    try {
      requireKeys({ A: "value-of-a", B: "" }, ["A", "B", "C"], { secretId: "victoria/prod" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingSecretKeysError);
    const error = thrown as MissingSecretKeysError;
    expect(error.missingKeys).toEqual(["B", "C"]);
    expect(error.message).toBe(
      "Missing configuration: B, C (not set in secret 'victoria/prod' or the environment)",
    );
    expect(error.message).not.toContain("value-of-a");
  });
});
