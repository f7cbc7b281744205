import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessAnswer } from "./aws-authorization";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "./secrets-manager";

let standIn: SecretsManagerStandIn;
let configArn: string;
const checks: Array<{ accessKeyId: string; action: string; resource: string }> = [];
const clients: SecretsManagerClient[] = [];

/** Worker may read the config secret (by its full ARN, as infra/secret.ts grants it); nothing else. */
function authorize(accessKeyId: string, action: string, resource: string): AccessAnswer {
  checks.push({ accessKeyId, action, resource });
  if (accessKeyId === "AKIDWORKER") {
    return {
      allowed: action === "secretsmanager:GetSecretValue" && resource === configArn,
      principal: "Worker",
    };
  }
  if (accessKeyId === "AKIDEXECUTE") return { allowed: false, principal: "Execute" };
  return { allowed: false };
}

function clientFor(accessKeyId: string): SecretsManagerClient {
  const client = new SecretsManagerClient({
    ...standIn.clientConfig,
    credentials: { accessKeyId, secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  standIn = await startSecretsManagerStandIn({
    region: "eu-west-2",
    secrets: { other: "not yours" },
    authorize,
  });
  configArn = standIn.putSecret("app/dev/config", { KEY: "value" });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await standIn?.close();
});

async function awsError(promise: Promise<unknown>): Promise<SecretsManagerServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as SecretsManagerServiceException;
}

function denial(principal: string, secretId: string): string {
  return `User: arn:aws:sts::000000000000:assumed-role/${principal}/${principal} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`;
}

describe("Secrets Manager stand-in with authorize", () => {
  it("authorizes GetSecretValue on the secret's full ARN, however the SecretId names it", async () => {
    const worker = clientFor("AKIDWORKER");
    const before = checks.length;
    for (const secretId of ["app/dev/config", configArn, configArn.slice(0, -7)]) {
      const answer = await worker.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(answer.SecretString).toBe('{"KEY":"value"}');
    }
    expect(checks.slice(before)).toEqual(
      Array.from({ length: 3 }, () => ({
        accessKeyId: "AKIDWORKER",
        action: "secretsmanager:GetSecretValue",
        resource: configArn,
      })),
    );
  });

  it("refuses a secret no grant covers with 400 AccessDeniedException naming the SecretId as sent", async () => {
    const worker = clientFor("AKIDWORKER");
    const error = await awsError(worker.send(new GetSecretValueCommand({ SecretId: "other" })));
    expect(error.name).toBe("AccessDeniedException");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(denial("Worker", "other"));
    expect(checks.at(-1)?.resource).toMatch(
      /^arn:aws:secretsmanager:eu-west-2:000000000000:secret:other-.{6}$/,
    );

    const execute = clientFor("AKIDEXECUTE");
    const byArn = await awsError(execute.send(new GetSecretValueCommand({ SecretId: configArn })));
    expect(byArn.name).toBe("AccessDeniedException");
    expect(byArn.message).toBe(denial("Execute", configArn));
  });

  it("answers AccessDenied, not ResourceNotFound, for a missing secret the caller may not read", async () => {
    const worker = clientFor("AKIDWORKER");
    const error = await awsError(worker.send(new GetSecretValueCommand({ SecretId: "app/dev/missing" })));
    expect(error.name).toBe("AccessDeniedException");
    expect(checks.at(-1)?.resource).toBe(
      "arn:aws:secretsmanager:eu-west-2:000000000000:secret:app/dev/missing",
    );
  });

  it("refuses over the wire in AWS's JSON shape, and records the refusal", async () => {
    const raw = await fetch(standIn.endpoint, {
      method: "POST",
      headers: {
        "x-amz-target": "secretsmanager.GetSecretValue",
        "content-type": "application/x-amz-json-1.1",
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXECUTE/20261205/eu-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
      },
      body: JSON.stringify({ SecretId: "other" }),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get("x-amzn-errortype")).toBe("AccessDeniedException");
    expect(await raw.json()).toEqual({
      __type: "AccessDeniedException",
      Message: denial("Execute", "other"),
    });
    expect(standIn.requests.at(-1)).toMatchObject({
      secretId: "other",
      status: 400,
      errorType: "AccessDeniedException",
    });
  });

  it("refuses an access key id no one holds with 400 UnrecognizedClientException", async () => {
    const stranger = clientFor("STANDIN");
    const error = await awsError(stranger.send(new GetSecretValueCommand({ SecretId: "app/dev/config" })));
    expect(error.name).toBe("UnrecognizedClientException");
    expect(error.message).toBe("The security token included in the request is invalid.");
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it("does not spend an injected failure on a refused call", async () => {
    standIn.failNext(1, "DecryptionFailure");
    const execute = clientFor("AKIDEXECUTE");
    expect((await awsError(execute.send(new GetSecretValueCommand({ SecretId: "other" })))).name).toBe(
      "AccessDeniedException",
    );
    const worker = clientFor("AKIDWORKER");
    expect(
      (await awsError(worker.send(new GetSecretValueCommand({ SecretId: "app/dev/config" })))).name,
    ).toBe("DecryptionFailure");
  });
});
