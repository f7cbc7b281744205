import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { type EntraGraphStandIn, startEntraGraphStandIn } from "@victoria/emulators/entra-graph";
import { type KeyVaultStandIn, startKeyVaultStandIn } from "@victoria/emulators/key-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Twin } from "../src/twin";
import { startTwinWorkbench } from "../src/twin-workbench";
import { sendSlash, startTestTwin, TEST_SECRET, type TestTwin } from "./twin-fixture";

/*
 * The deployment, proven over the wire: requests go to the twin's Function URLs, each function runs
 * its built bundle in its own process with its declared environment, and every AWS call it makes
 * passes through IAM as sst.config.ts grants it.
 */

const SECRET = TEST_SECRET;
let twin: Twin;
let eventually: TestTwin["eventually"];
let answerAt: TestTwin["answerAt"];
/** Azure, as an operator's Key Vault and Entra app would be: HTTPS, its own certificates, real tokens. */
const AZURE = {
  tenant: "11111111-2222-3333-4444-555555555555",
  client: "victoria-app",
  secret: "app-secret",
};
const VAULT_RESOURCE = "https://vault.azure.net";
let entra: EntraGraphStandIn;
let keyVault: KeyVaultStandIn;

beforeAll(async () => {
  entra = await startEntraGraphStandIn({
    tenantId: AZURE.tenant,
    clientId: AZURE.client,
    clientSecret: AZURE.secret,
    resources: [VAULT_RESOURCE],
  });
  keyVault = await startKeyVaultStandIn({
    tenantId: AZURE.tenant,
    authorityHost: entra.authorityHost,
    acceptToken: (token) => entra.acceptsToken(token, VAULT_RESOURCE),
  });
  keyVault.createKey("victoria-kek");
  ({ twin, eventually, answerAt } = await startTestTwin({
    secretTtlSeconds: 1,
    trustedCertificates: [entra.ca as string, keyVault.ca as string],
  }));
}, 120_000);

afterAll(async () => {
  await twin?.close();
  await keyVault?.close();
  await entra?.close();
});

/** A new secret value, waited on until every function's cache has expired. */
async function rotateSecret(value: Record<string, string>) {
  twin.putSecret(value);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
}

const slash = (user: string, text: string) => sendSlash(twin, { user, text });

describe("the twin of sst.config.ts", () => {
  it("prints the stack outputs: every route's full URL, on its own Function URL", () => {
    for (const name of ["authenticateUrl", "resolveUrl", "listenerUrl", "executeUrl"]) {
      expect(twin.outputs[name]).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/(authenticate|resolve|listener|execute)$/,
      );
    }
    const routes = ["authenticateUrl", "resolveUrl", "listenerUrl", "executeUrl"].map(
      (n) => twin.outputs[n] as string,
    );
    expect(new Set(routes.map((u) => new URL(u).port)).size).toBe(4);
    expect(twin.outputs.workerName).toBe("serverless-victoria-dev-Worker");
    // The alarms' topic: declared, not run (the twin delivers no alarm), but its outputs resolve.
    expect(twin.outputs.alarmsTopicName).toBe("serverless-victoria-dev-alarms");
    expect(twin.outputs.alarmsTopicArn).toMatch(
      /^arn:aws:sns:[a-z0-9-]+:\d{12}:serverless-victoria-dev-alarms$/,
    );
  });

  it("answers a member's slash command through authenticate → worker (async) → execute", async () => {
    const { res, responseUrl } = await slash("U0MEMBER", "config path");
    expect(res.status).toBe(200);
    const answer = await answerAt(responseUrl);
    expect(String(answer.body.text)).toContain("bundled default config");
    const worker = twin.lambda.invocations.find((i) => i.functionName === twin.functionName("Worker"));
    expect(worker).toMatchObject({ invocationType: "Event" });
    // Every AWS call on the way was one the config grants.
    expect(twin.iam.checks.filter((c) => !c.allowed)).toEqual([]);
    expect(twin.iam.checks.map((c) => `${c.principal} ${c.action}`)).toEqual(
      expect.arrayContaining([
        "Authenticate secretsmanager:GetSecretValue",
        "Authenticate lambda:InvokeFunction",
        "Worker secretsmanager:GetSecretValue",
        "Execute secretsmanager:GetSecretValue",
      ]),
    );
  }, 60_000);

  it("answers a mention in its thread", async () => {
    const ts = `${Date.now() / 1000}`;
    const body = JSON.stringify({
      type: "event_callback",
      event_id: `Ev${Date.now()}`,
      team_id: "T0TWIN",
      event: {
        type: "app_mention",
        user: "U0MEMBER",
        channel: "C0OPS",
        ts,
        text: "<@U0VICTORIA> config path",
      },
    });
    const res = await fetch(twin.outputs.authenticateUrl as string, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signSlackRequest(SECRET.SLACK_SIGNING_SECRET, body) },
    });
    expect(res.status).toBe(200);
    const reply = await eventually(() => twin.slack?.messages("C0OPS").find((m) => m.threadTs === ts));
    expect(reply.text).toContain("bundled default config");
  }, 60_000);

  it("picks up a rotated secret after the cache TTL: the old signing secret is then refused", async () => {
    const rotated = "rotated-signing-secret";
    twin.putSecret({ SLACK_SIGNING_SECRET: rotated });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const old = await slash("U0MEMBER", "config path");
    expect(old.res.status).toBe(401);
    const body = new URLSearchParams({ ssl_check: "1", token: "x" }).toString();
    const fresh = await fetch(twin.outputs.authenticateUrl as string, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", ...signSlackRequest(rotated, body) },
    });
    expect(fresh.status).toBe(200);
    twin.putSecret({ SLACK_SIGNING_SECRET: SECRET.SLACK_SIGNING_SECRET });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }, 60_000);

  it("encrypts with Key Vault on the deployed execute (config and credentials from the secret), answering privately", async () => {
    await rotateSecret({
      VICTORIA_CONFIG_YAML: [
        "logging_config: { version: 1 }",
        "storage_providers: {}",
        "plugins_config: {}",
        "plugins_config_location: {}",
        "encryption_provider:",
        "  provider: azure",
        "  config:",
        `    vault_url: ${keyVault.url}`,
        "    key: victoria-kek",
      ].join("\n"),
      AZURE_TENANT_ID: AZURE.tenant,
      AZURE_CLIENT_ID: AZURE.client,
      AZURE_CLIENT_SECRET: AZURE.secret,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
    try {
      const plaintext = "p@ss wörd";
      const encrypted = await slash("U0MEMBER", `encrypt data '${plaintext}'`);
      const envelopeAnswer = await answerAt(encrypted.responseUrl);
      expect(envelopeAnswer.body.response_type).toBe("ephemeral");
      const text = String(envelopeAnswer.body.text);
      const field = (name: string) => new RegExp(`${name}: ([^\\s\\x60]+)`).exec(text)?.[1];
      const envelope = { data: field("data"), iv: field("iv"), key: field("key"), version: field("version") };
      expect(envelope.version, text).toBe(keyVault.latestVersion("victoria-kek"));
      // The data key was wrapped by the vault, with a token Entra issued for the vault.
      expect(keyVault.requests.filter((r) => r.method === "POST" && r.authorized).map((r) => r.path)).toEqual(
        [`/keys/victoria-kek/${envelope.version}/encrypt`],
      );

      const decrypted = await slash("U0MEMBER", `encrypt decrypt --envelope '${JSON.stringify(envelope)}'`);
      const plainAnswer = await answerAt(decrypted.responseUrl);
      expect(plainAnswer.body.response_type).toBe("ephemeral");
      expect(String(plainAnswer.body.text)).toContain(plaintext);
      // Private answers only: what the channel shows of it is the asker's alone.
      const shown = twin.slack?.messages("C0OPS").filter((m) => m.text?.includes(plaintext)) ?? [];
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.filter((m) => !m.ephemeral || m.user !== "U0MEMBER")).toEqual([]);
      expect(twin.iam.checks.filter((c) => !c.allowed)).toEqual([]);
    } finally {
      await rotateSecret({});
    }
  }, 90_000);

  it("serves the workbench against the twin: a command, a dead letter and its alert, the vault read as an operator", async () => {
    const workbench = await startTwinWorkbench(twin);
    const post = (path: string, body: unknown) =>
      fetch(new URL(`workbench/api/${path}`, workbench.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const state = async () =>
      (await (await fetch(new URL("workbench/api/state?user=U0MEMBER", workbench.url))).json()) as {
        messages: Array<{ text?: string; author?: string }>;
        vault: { records: Array<{ entity: string; reason?: string }>; error?: string };
      };
    try {
      const sent = await post("messages", { user: "U0MEMBER", text: "/victoria config path" });
      expect(sent.status, await sent.clone().text()).toBe(200);
      // It went to the authenticate Function URL, and the worker answered through execute.
      expect(((await sent.json()) as { sent: { route: string; status: number } }).sent).toMatchObject({
        route: "/authenticate",
        status: 200,
      });
      await eventually(async () =>
        (await state()).messages.find((m) => m.text?.includes("bundled default config")),
      );

      const trouble = await post("dead-letters", {
        queue: "orders",
        body: '{"order":7}',
        reason: "TwinWorkbench",
      });
      expect(trouble.status, await trouble.clone().text()).toBe(200);
      const alert = await post("alerts", { queue: "orders", kind: "azure-monitor" });
      expect(((await alert.json()) as { sent: { route: string } }).sent.route).toBe("/listener");
      const parked = await eventually(async () => {
        const { vault } = await state();
        return vault.records.find((r) => r.reason === "TwinWorkbench") ?? (vault.error ? vault : undefined);
      });
      expect(parked).toMatchObject({ entity: "orders", reason: "TwinWorkbench" });
      expect(twin.iam.checks.filter((c) => !c.allowed)).toEqual([]);
    } finally {
      await workbench.close();
    }
  }, 90_000);

  it("publishes the App Home from the deployed wiring: the vault through its index, recent commands in home/", async () => {
    const slack = twin.slack;
    if (!slack) throw new Error("the embedded Slack stand-in is not running");
    const { responseUrl } = await slash("U0MEMBER", "config path");
    await answerAt(responseUrl);
    const before = slack.homeView("U0MEMBER")?.publishes ?? 0;
    const body = JSON.stringify({
      type: "event_callback",
      event_id: `EvHome${Date.now()}`,
      team_id: "T0TWIN",
      event: { type: "app_home_opened", user: "U0MEMBER", channel: "D0MEMBER", tab: "home" },
    });
    const res = await fetch(twin.outputs.authenticateUrl as string, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signSlackRequest(SECRET.SLACK_SIGNING_SECRET, body) },
    });
    expect(res.status).toBe(200);
    const home = await eventually(() => {
      const published = slack.homeView("U0MEMBER");
      return published && published.publishes > before ? published : undefined;
    });
    const text = JSON.stringify(home.view.blocks);
    expect(text).toContain("Your recent commands");
    expect(text).toMatch(/`config path` — :white_check_mark: exit 0/);
    expect(text).toContain("/victoria deadletter");
    // Read and written with the worker's own grants: the vault's index, and home/ in the vault bucket.
    expect(twin.iam.checks.filter((c) => !c.allowed)).toEqual([]);
    const worker = twin.iam.checks.filter((c) => c.principal === "Worker");
    expect(
      worker.some((c) => c.action === "s3:PutObject" && /\/home\/U0MEMBER\.json$/.test(c.resource)),
    ).toBe(true);
    expect(
      worker.some((c) => c.action === "s3:GetObject" && /\/home\/U0MEMBER\.json$/.test(c.resource)),
    ).toBe(true);
    expect(
      worker.some((c) => c.action === "s3:GetObject" && /\/index\/manifest\.json$/.test(c.resource)),
    ).toBe(true);
  }, 60_000);

  it("refuses a guest, telling them why", async () => {
    const { responseUrl } = await slash("U0GUEST", "config view");
    const refusal = await eventually(() =>
      twin.slack?.responses(responseUrl).find((r) => String(r.body.text).includes("not a member")),
    );
    expect(refusal.body.response_type).toBe("ephemeral");
  }, 60_000);

  it("delivers a worker job that failed, with its event, to WorkerFailures (no retry)", async () => {
    // Invoked as the front doors invoke it, with Authenticate's own identity.
    const asAuthenticate = new LambdaClient({
      ...twin.lambda.clientConfig,
      credentials: { accessKeyId: "AKIATWINAUTHENTICATE", secretAccessKey: "twin-secret-access-key" },
    });
    const event = { kind: "no-such-job", payload: { marker: "lost-job" } };
    await asAuthenticate.send(
      new InvokeCommand({
        FunctionName: twin.functionName("Worker"),
        InvocationType: "Event",
        Payload: JSON.stringify(event),
      }),
    );
    const message = await eventually(() =>
      twin.sqs.messages("serverless-victoria-dev-WorkerFailures").find((m) => m.body.includes("lost-job")),
    );
    const record = JSON.parse(message.body) as {
      requestContext: { condition: string; approximateInvokeCount: number };
      requestPayload: unknown;
      responsePayload: { errorMessage: string };
    };
    expect(record.requestContext).toMatchObject({ condition: "RetriesExhausted", approximateInvokeCount: 1 });
    expect(record.requestPayload).toEqual(event);
    expect(record.responsePayload.errorMessage).toContain("no-such-job");
  }, 60_000);
});

describe("a grant removed from the config", () => {
  let denied: Twin;
  let deniedLogs: string[] = [];

  beforeAll(async () => {
    ({ twin: denied, logs: deniedLogs } = await startTestTwin({
      // Authenticate may no longer invoke the worker.
      transformModel: (model) => ({
        ...model,
        functions: model.functions.map((fn) =>
          fn.id === "Authenticate"
            ? {
                ...fn,
                permissions: fn.permissions.filter((g) => !g.actions.includes("lambda:InvokeFunction")),
              }
            : fn,
        ),
      }),
    }));
  }, 120_000);

  afterAll(async () => {
    await denied?.close();
  });

  it("fails that flow with AccessDenied, as AWS would, and logs it", async () => {
    const { res } = await sendSlash(denied, { user: "U0MEMBER", text: "config path" });
    // Slack is told at once, privately, that the command could not start.
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ text: expect.stringContaining("could not start your command") });
    expect(denied.iam.checks).toContainEqual(
      expect.objectContaining({ principal: "Authenticate", action: "lambda:InvokeFunction", allowed: false }),
    );
    expect(deniedLogs.join("\n")).toMatch(/IAM AccessDenied: Authenticate may not lambda:InvokeFunction/);
    expect(denied.lambda.invocations).toEqual([]);
  }, 60_000);
});
