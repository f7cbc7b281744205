import { mkdtemp, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { startLambdaStandIn } from "@victoria/emulators/lambda-invoke";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import type { APIGatewayProxyResult, LambdaContext } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../app";
import { createCommandRunner } from "../execute-runner";
import { executeRoute } from "../routes/execute";

/**
 * The AWS path of /authenticate: the authenticate function acknowledges and invokes the worker
 * asynchronously through the real LambdaClient (against the Lambda stand-in); the worker runs the
 * command through /execute over HTTP and answers in the Slack stand-in.
 */
const SIGNING_SECRET = "lambda-signing-secret";
const SHARED_SECRET = "lambda-shared-secret";
let slack: SlackStandIn;
let lambda: Awaited<ReturnType<typeof startLambdaStandIn>>;
let executeServer: ReturnType<typeof serve>;
let executeUrl: string;
let auditFile: string;

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: "xoxb-lambda",
    users: [{ id: "U0MEMBER", email: "sre@example.com" }],
  });
  lambda = await startLambdaStandIn();
  const logger = createMemoryLogger();
  const runner = createCommandRunner({
    sharedSecret: SHARED_SECRET,
    configPath: null,
    victoriaBin: undefined,
    timeoutMs: 5_000,
  });
  const app = createApp({
    logger,
    routes: [
      {
        path: "/execute",
        method: "POST",
        router: executeRoute({ runner, sharedSecret: SHARED_SECRET, logger }),
      },
    ],
  });
  executeUrl = await new Promise<string>((resolve) => {
    executeServer = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}/execute`),
    );
  });
  auditFile = join(await mkdtemp(join(tmpdir(), "lambda-audit-")), "audit.jsonl");
  const env: Record<string, string> = {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: "xoxb-lambda",
    SLACK_API_URL: slack.url,
    SRE_MEMBERS: "sre@example.com",
    VICTORIA_EXECUTE_URL: executeUrl,
    VICTORIA_SHARED_SECRET: SHARED_SECRET,
    VICTORIA_WORKER_FUNCTION: "victoria-worker",
    AUDIT_LOG_FILE: auditFile,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    AWS_REGION: lambda.region,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  const worker = await import("./worker");
  lambda.register("victoria-worker", (event) => worker.handler(event));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await lambda.close();
  await slack.close();
  await new Promise<void>((resolve) => executeServer.close(() => resolve()));
});

function functionUrlEvent(body: string, headers: Record<string, string>) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/authenticate",
    rawQueryString: "",
    headers: { host: "auth.lambda-url.eu-west-2.on.aws", ...headers },
    requestContext: {
      http: {
        method: "POST",
        path: "/authenticate",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "Slackbot 1.0",
      },
      domainName: "auth.lambda-url.eu-west-2.on.aws",
      requestId: "r1",
      routeKey: "$default",
      stage: "$default",
      timeEpoch: Date.now(),
    },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

describe("authenticate + worker Lambda entries", () => {
  it("acknowledges, hands the command to the worker by async invoke, and the worker answers in Slack", async () => {
    const { handler } = await import("./authenticate");
    const responseUrl = slack.responseUrl();
    const body = new URLSearchParams({
      team_id: "T1",
      channel_id: "C1",
      user_id: "U0MEMBER",
      command: "/victoria",
      text: "config path",
      response_url: responseUrl,
      trigger_id: "trigger-lambda",
    }).toString();
    const event = functionUrlEvent(body, {
      "content-type": "application/x-www-form-urlencoded",
      ...Object.fromEntries(
        Object.entries(signSlackRequest(SIGNING_SECRET, body)).map(([k, v]) => [k.toLowerCase(), v]),
      ),
    });
    const result = (await handler(event as never, {} as LambdaContext)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ response_type: "ephemeral" });
    expect(lambda.invocations.map((i) => i.functionName)).toEqual(["victoria-worker"]);
    await lambda.idle();
    expect(slack.responses(responseUrl)[0]?.body.text).toContain("bundled default config");
    expect(await readFile(auditFile, "utf8")).toContain('"phase":"finished"');
  });
});
