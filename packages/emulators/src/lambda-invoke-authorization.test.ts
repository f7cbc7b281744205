import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessAnswer } from "./aws-authorization";
import { type LambdaStandIn, startLambdaStandIn } from "./lambda-invoke";

const WORKER_ARN = "arn:aws:lambda:eu-west-2:000000000000:function:app-dev-Worker";

let lambda: LambdaStandIn;
const checks: Array<{ accessKeyId: string; action: string; resource: string }> = [];
const clients: LambdaClient[] = [];

/** Resolve may invoke the worker (its bare ARN, as infra/functions.ts grants it); nothing else. */
function authorize(accessKeyId: string, action: string, resource: string): AccessAnswer {
  checks.push({ accessKeyId, action, resource });
  if (accessKeyId === "AKIDRESOLVE") {
    return { allowed: action === "lambda:InvokeFunction" && resource === WORKER_ARN, principal: "Resolve" };
  }
  if (accessKeyId === "AKIDWORKER") return { allowed: false, principal: "Worker" };
  return { allowed: false };
}

function clientFor(accessKeyId: string): LambdaClient {
  const client = new LambdaClient({
    ...lambda.clientConfig,
    credentials: { accessKeyId, secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  lambda = await startLambdaStandIn({ region: "eu-west-2", authorize });
  lambda.register("app-dev-Worker", async (event) => ({ ran: event }));
  lambda.register("app-dev-Other", async () => "other");
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await lambda?.close();
});

/** What the SDK made of a failed call. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to fail");
}

function denial(principal: string, resource: string): string {
  return `User: arn:aws:sts::000000000000:assumed-role/${principal}/${principal} is not authorized to perform: lambda:InvokeFunction on resource: ${resource} because no identity-based policy allows the lambda:InvokeFunction action`;
}

describe("Lambda Invoke stand-in with authorize", () => {
  it("authorizes lambda:InvokeFunction on the function's ARN, by name or by ARN", async () => {
    const resolve = clientFor("AKIDRESOLVE");
    const before = checks.length;
    const byName = await resolve.send(
      new InvokeCommand({ FunctionName: "app-dev-Worker", InvocationType: "Event", Payload: "{}" }),
    );
    expect(byName.StatusCode).toBe(202);
    const byArn = await resolve.send(new InvokeCommand({ FunctionName: WORKER_ARN, Payload: '{"a":1}' }));
    expect(JSON.parse(new TextDecoder().decode(byArn.Payload))).toEqual({ ran: { a: 1 } });
    const dryRun = await resolve.send(
      new InvokeCommand({ FunctionName: "app-dev-Worker", InvocationType: "DryRun" }),
    );
    expect(dryRun.StatusCode).toBe(204);
    expect(checks.slice(before)).toEqual(
      Array.from({ length: 3 }, () => ({
        accessKeyId: "AKIDRESOLVE",
        action: "lambda:InvokeFunction",
        resource: WORKER_ARN,
      })),
    );
    await lambda.idle();
  });

  it("refuses a function no grant covers with 403 AccessDeniedException, running nothing", async () => {
    const before = lambda.invocations.length;
    const resolve = clientFor("AKIDRESOLVE");
    expect(
      await failure(
        resolve.send(new InvokeCommand({ FunctionName: "app-dev-Other", InvocationType: "Event" })),
      ),
    ).toEqual({
      name: "AccessDeniedException",
      status: 403,
      message: denial("Resolve", "arn:aws:lambda:eu-west-2:000000000000:function:app-dev-Other"),
    });
    const worker = clientFor("AKIDWORKER");
    expect(await failure(worker.send(new InvokeCommand({ FunctionName: "app-dev-Worker" })))).toEqual({
      name: "AccessDeniedException",
      status: 403,
      message: denial("Worker", WORKER_ARN),
    });
    expect(lambda.invocations.length).toBe(before);
  });

  it("authorizes a qualified invocation on the qualified ARN, which the bare ARN does not cover", async () => {
    const resolve = clientFor("AKIDRESOLVE");
    expect(
      await failure(resolve.send(new InvokeCommand({ FunctionName: "app-dev-Worker", Qualifier: "live" }))),
    ).toMatchObject({ name: "AccessDeniedException", status: 403 });
    expect(checks.at(-1)?.resource).toBe(`${WORKER_ARN}:live`);
    await failure(resolve.send(new InvokeCommand({ FunctionName: "app-dev-Worker:7" })));
    expect(checks.at(-1)?.resource).toBe(`${WORKER_ARN}:7`);
  });

  it("answers AccessDenied, not ResourceNotFound, for a missing function the caller may not invoke", async () => {
    const resolve = clientFor("AKIDRESOLVE");
    expect(await failure(resolve.send(new InvokeCommand({ FunctionName: "ghost" })))).toMatchObject({
      name: "AccessDeniedException",
      status: 403,
    });
  });

  it("refuses over the wire in Lambda's shape: x-amzn-ErrorType and a JSON Message", async () => {
    const response = await fetch(`${lambda.endpoint}/2015-03-31/functions/app-dev-Other/invocations`, {
      method: "POST",
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDWORKER/20261205/eu-west-2/lambda/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
      },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toBe("AccessDeniedException");
    expect(await response.json()).toEqual({
      Message: denial("Worker", "arn:aws:lambda:eu-west-2:000000000000:function:app-dev-Other"),
    });
  });

  it("refuses an access key id no one holds with 403 UnrecognizedClientException", async () => {
    const stranger = clientFor("STANDIN");
    expect(await failure(stranger.send(new InvokeCommand({ FunctionName: "app-dev-Worker" })))).toEqual({
      name: "UnrecognizedClientException",
      status: 403,
      message: "The security token included in the request is invalid.",
    });
  });
});
