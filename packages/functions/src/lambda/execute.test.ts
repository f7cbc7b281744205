import { signServiceRequest } from "@victoria/core/security/service-signature";
import type { APIGatewayProxyResult, LambdaContext } from "hono/aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";

const SECRET = "lambda-test-secret";

/** A Lambda Function URL event (payload format 2.0), as AWS delivers it. */
function functionUrlEvent(body: string, headers: Record<string, string>, base64: boolean) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/execute",
    rawQueryString: "",
    headers: { host: "abc123.lambda-url.eu-west-2.on.aws", "content-type": "application/json", ...headers },
    requestContext: {
      accountId: "anonymous",
      apiId: "abc123",
      domainName: "abc123.lambda-url.eu-west-2.on.aws",
      domainPrefix: "abc123",
      http: {
        method: "POST",
        path: "/execute",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "test",
      },
      requestId: "6b0e4c1e-0000-4000-8000-000000000000",
      routeKey: "$default",
      stage: "$default",
      time: "22/Nov/2026:12:00:00 +0000",
      timeEpoch: Date.now(),
    },
    body: base64 ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: base64,
  };
}

const lambdaContext = { awsRequestId: "ctx-1", functionName: "execute" } as unknown as LambdaContext;

async function loadHandler(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const { handler } = await import("./execute");
  return handler;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("execute Lambda entry (Function URL, payload v2)", () => {
  it.each([true, false])("runs a signed command from a body with isBase64Encoded=%s", async (base64) => {
    const handler = await loadHandler({
      VICTORIA_SHARED_SECRET: SECRET,
      VICTORIA_CONFIG: "",
      VICTORIA_BIN: "",
    });
    const body = JSON.stringify({ args: ["config", "view"] });
    const event = functionUrlEvent(body, signServiceRequest(SECRET, body), base64);
    const result = (await handler(event as never, lambdaContext)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(200);
    const text = result.isBase64Encoded ? Buffer.from(result.body, "base64").toString() : result.body;
    expect(JSON.parse(text)).toContain("indent: 2");
  });

  it("refuses an unsigned event with 401", async () => {
    const handler = await loadHandler({ VICTORIA_SHARED_SECRET: SECRET });
    const event = functionUrlEvent(JSON.stringify({ args: ["config", "view"] }), {}, true);
    const result = (await handler(event as never, lambdaContext)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(401);
  });

  it("fails closed, naming the missing setting, when VICTORIA_SHARED_SECRET is not set", async () => {
    const handler = await loadHandler({ VICTORIA_SHARED_SECRET: "" });
    const body = JSON.stringify({ args: ["config", "view"] });
    const event = functionUrlEvent(body, signServiceRequest("dev-victoria-shared-secret", body), false);
    const result = (await handler(event as never, lambdaContext)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: "Internal error",
      message: expect.stringContaining("VICTORIA_SHARED_SECRET"),
    });
  });
});

describe("execute Lambda entry with its configuration in Secrets Manager", () => {
  it("reads VICTORIA_SHARED_SECRET from the secret named by VICTORIA_SECRET_ID, over the wire", async () => {
    const { startSecretsManagerStandIn } = await import("@victoria/emulators/secrets-manager");
    const { resetSecretSources } = await import("@victoria/core/secrets/environment");
    const standIn = await startSecretsManagerStandIn();
    try {
      standIn.putSecret("victoria/test", { VICTORIA_SHARED_SECRET: "from-the-secret" });
      resetSecretSources();
      const handler = await loadHandler({
        VICTORIA_SECRET_ID: "victoria/test",
        VICTORIA_SHARED_SECRET: "stale-env-value",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.endpoint,
        AWS_REGION: standIn.region,
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      });
      const body = JSON.stringify({ args: ["config", "path"] });
      const ok = (await handler(
        functionUrlEvent(body, signServiceRequest("from-the-secret", body), false) as never,
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(ok.statusCode).toBe(200);
      const stale = (await handler(
        functionUrlEvent(body, signServiceRequest("stale-env-value", body), false) as never,
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(stale.statusCode).toBe(401);
      // Cached per container: two invocations, one fetch.
      expect(standIn.requests.filter((r) => r.status === 200)).toHaveLength(1);

      standIn.putSecret("victoria/other", { SLACK_BOT_TOKEN: "xoxb-not-this-one" });
      resetSecretSources();
      const missing = await loadHandler({ VICTORIA_SECRET_ID: "victoria/other", VICTORIA_SHARED_SECRET: "" });
      const result = (await missing(
        functionUrlEvent(body, {}, false) as never,
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(result.statusCode).toBe(500);
      expect(result.body).toContain("VICTORIA_SHARED_SECRET");
      expect(result.body).not.toContain("xoxb-not-this-one");
    } finally {
      resetSecretSources();
      await standIn.close();
    }
  });
});

describe("execute Lambda entry: failed commands reach the failed-requests queue (as the local server's do)", () => {
  it("publishes a transient failure to FAILED_REQUESTS_QUEUE on the configured cluster, over AMQP", async () => {
    const { startServiceBusStandIn } = await import("@victoria/emulators/service-bus/broker");
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const broker = await startServiceBusStandIn({ queues: ["victoria-failed-requests"] });
    try {
      // An S3 store nobody listens on: the command fails the way a network blip makes it fail.
      const dir = await mkdtemp(join(tmpdir(), "lambda-execute-"));
      const config = join(dir, "victoria.yaml");
      await writeFile(
        config,
        "logging_config: {}\nstorage_providers:\n  s3: {bucket: b, region: us-east-1, endpoint: 'http://127.0.0.1:9', force_path_style: true, access_key_id: AKIDEXAMPLE, secret_access_key: secret}\n",
      );
      const handler = await loadHandler({
        VICTORIA_SHARED_SECRET: SECRET,
        VICTORIA_CONFIG: config,
        VICTORIA_BIN: "",
        SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: broker.connectionString }),
      });
      const body = JSON.stringify({ args: ["store", "s3", "ls"] });
      const result = (await handler(
        functionUrlEvent(body, signServiceRequest(SECRET, body), false) as never,
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body)).toMatchObject({ failureClass: "transient" });
      const [queued] = broker.peekAll("victoria-failed-requests");
      expect(queued).toBeDefined();
    } finally {
      await broker.close();
    }
  }, 20_000);
});

describe("execute Lambda entry: the engine's configuration on AWS", () => {
  const yaml =
    "logging_config: {}\nplugins_config:\n  config:\n    indent: 4\nstorage_providers:\n  s3: {bucket: team-files}\n";

  it("reads victoria.yaml from the secret (VICTORIA_CONFIG_YAML)", async () => {
    const handler = await loadHandler({
      VICTORIA_SHARED_SECRET: SECRET,
      VICTORIA_CONFIG: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG_YAML: yaml,
    });
    for (const [args, expected] of [
      [["config", "view"], "storage_providers:\n    s3:\n        bucket: team-files"],
      [["config", "path"], "VICTORIA_CONFIG_YAML (the configuration secret)"],
    ] as const) {
      const body = JSON.stringify({ args });
      const result = (await handler(
        functionUrlEvent(body, signServiceRequest(SECRET, body), false) as never,
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body)).toContain(expected);
    }
  });

  it("reads victoria.yaml from the vault bucket (VICTORIA_CONFIG=s3://…), over the wire, naming a missing one", async () => {
    const { startS3StandIn } = await import("@victoria/emulators/s3");
    const { S3Client, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = await startS3StandIn({ buckets: ["victoria-vault"] });
    try {
      await new S3Client(s3.clientConfig).send(
        new PutObjectCommand({ Bucket: "victoria-vault", Key: "config/victoria.yaml", Body: yaml }),
      );
      const env = {
        VICTORIA_SHARED_SECRET: SECRET,
        VICTORIA_BIN: "",
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      };
      const run = async (handler: Awaited<ReturnType<typeof loadHandler>>, args: string[]) => {
        const body = JSON.stringify({ args });
        return (await handler(
          functionUrlEvent(body, signServiceRequest(SECRET, body), false) as never,
          lambdaContext,
        )) as APIGatewayProxyResult;
      };
      const found = await loadHandler({
        ...env,
        VICTORIA_CONFIG: "s3://victoria-vault/config/victoria.yaml",
      });
      const view = await run(found, ["config", "view"]);
      expect(view.statusCode).toBe(200);
      expect(JSON.parse(view.body)).toContain("bucket: team-files");

      const missing = await loadHandler({ ...env, VICTORIA_CONFIG: "s3://victoria-vault/config/nope.yaml" });
      const failed = await run(missing, ["config", "view"]);
      expect(failed.statusCode).toBe(500);
      expect(JSON.parse(failed.body)).toMatchObject({
        failureClass: "configuration",
        message: expect.stringContaining(
          "Error opening config 's3://victoria-vault/config/nope.yaml': No such key",
        ),
      });
    } finally {
      await s3.close();
    }
  });
});
