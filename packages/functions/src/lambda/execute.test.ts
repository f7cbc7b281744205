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
      message: "Server misconfigured: VICTORIA_SHARED_SECRET is not set",
    });
  });
});
