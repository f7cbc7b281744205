import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPROVAL_EXPIRY_JOB } from "@victoria/core/approvals/approval-jobs";
import { REMIND_JOB } from "@victoria/core/deadletter/dead-letter-reminders";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigRecording } from "./config-recording";
import {
  type DeclaredFunction,
  type DeploymentModel,
  deploymentModelOf,
  describeValue,
  evaluateDeployment,
  parseDuration,
  parseSize,
  resolveValue,
  scheduleInput,
  type TwinRef,
} from "./deployment-model";

const ref = (component: string, property: string): TwinRef => ({ component, property });
const SECRET_ARN = ref("VictoriaConfig", "arn");
const READ_SECRET = "secretsmanager:GetSecretValue {VictoriaConfig.arn}";

/** A function's grants as sorted `action resource` lines. */
function grantLines(fn: DeclaredFunction): string[] {
  return fn.permissions
    .flatMap((grant) =>
      grant.actions.flatMap((action) => grant.resources.map((r) => `${action} ${describeValue(r)}`)),
    )
    .sort();
}

function functionOf(model: DeploymentModel, id: string): DeclaredFunction {
  const found = model.functions.filter((fn) => fn.id === id);
  expect(found, id).toHaveLength(1);
  return found[0] as DeclaredFunction;
}

describe("evaluateDeployment: the repository's sst.config.ts", () => {
  let dev: DeploymentModel;
  let prod: DeploymentModel;

  beforeAll(async () => {
    // Both at once: each evaluation has its own worker, globals and module instances.
    [dev, prod] = await Promise.all([
      evaluateDeployment({ env: { AWS_REGION: undefined } }),
      evaluateDeployment({ stage: "prod", env: { AWS_REGION: undefined } }),
    ]);
  });

  it("dev: named per stage, removed with the stage, unprotected, in eu-west-2", () => {
    expect(dev.app).toEqual({
      name: "serverless-victoria",
      stage: "dev",
      removal: "remove",
      protect: false,
      region: "eu-west-2",
    });
  });

  it("prod: retained and protected, its own secret name", () => {
    expect(prod.app).toEqual({
      name: "serverless-victoria",
      stage: "prod",
      removal: "retain",
      protect: true,
      region: "eu-west-2",
    });
    expect(prod.secrets).toEqual([{ id: "VictoriaConfig", name: "serverless-victoria/prod/config" }]);
    expect(prod.functions.map((fn) => fn.id)).toEqual(dev.functions.map((fn) => fn.id));
  });

  it("the six functions with their handler, timeout, memory, URL and retries", () => {
    const summary = Object.fromEntries(
      dev.functions.map((fn) => [
        fn.id,
        {
          handler: fn.handler,
          timeoutSeconds: fn.timeoutSeconds,
          memoryMB: fn.memoryMB,
          url: fn.url,
          retries: fn.retries,
        },
      ]),
    );
    const handler = (file: string) => `packages/functions/src/lambda/${file}.handler`;
    expect(summary).toEqual({
      Execute: {
        handler: handler("execute"),
        timeoutSeconds: 60,
        memoryMB: 1024,
        url: true,
        retries: undefined,
      },
      Worker: {
        handler: handler("worker"),
        timeoutSeconds: 300,
        memoryMB: 1024,
        url: false,
        retries: undefined,
      },
      Authenticate: {
        handler: handler("authenticate"),
        timeoutSeconds: 10,
        memoryMB: 256,
        url: true,
        retries: undefined,
      },
      Resolve: {
        handler: handler("resolve"),
        timeoutSeconds: 10,
        memoryMB: 256,
        url: true,
        retries: undefined,
      },
      Listener: {
        handler: handler("listener"),
        timeoutSeconds: 10,
        memoryMB: 256,
        url: true,
        retries: undefined,
      },
      RetryFailedRequests: {
        handler: handler("retry-failed-requests"),
        timeoutSeconds: 120,
        memoryMB: 512,
        url: false,
        retries: 0,
      },
    });
    expect("retries" in functionOf(dev, "Worker")).toBe(false);
  });

  it("environment: resource names and ARNs as component outputs, the execute URL as an interpolation", () => {
    const executeUrl = { parts: [ref("Execute", "url"), "execute"] };
    expect(functionOf(dev, "Worker").environment).toEqual({
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_EXECUTE_URL: executeUrl,
      VAULT_BUCKET: ref("Vault", "name"),
      AUDIT_BUCKET: ref("Audit", "name"),
    });
    expect(functionOf(dev, "Authenticate").environment).toEqual({
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_WORKER_FUNCTION: ref("Worker", "name"),
      DEDUPE_BUCKET: ref("Dedupe", "name"),
    });
    expect(functionOf(dev, "Execute").environment).toEqual({
      VICTORIA_SECRET_ID: SECRET_ARN,
      VAULT_BUCKET: ref("Vault", "name"),
    });
    expect(functionOf(dev, "RetryFailedRequests").environment).toEqual({
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_EXECUTE_URL: executeUrl,
    });
  });

  it("grants: each function's allow statements, outputs and interpolations as declared", () => {
    expect(functionOf(dev, "Worker").permissions).toContainEqual({
      actions: ["s3:GetObject", "s3:PutObject"],
      resources: [{ parts: [ref("Vault", "arn"), "/*"] }],
    });
    expect(grantLines(functionOf(dev, "Worker"))).toEqual(
      [
        "s3:DeleteObject {Vault.arn}/approvals/pending/*",
        "s3:DeleteObject {Vault.arn}/index/*",
        "s3:GetObject {Audit.arn}/*",
        "s3:GetObject {Vault.arn}/*",
        "s3:ListBucket {Vault.arn}",
        "s3:PutObject {Audit.arn}/*",
        "s3:PutObject {Vault.arn}/*",
        READ_SECRET,
        "sqs:SendMessage {WorkerFailures.arn}",
      ].sort(),
    );
    expect(grantLines(functionOf(dev, "Authenticate"))).toEqual(
      [
        "lambda:InvokeFunction {Worker.arn}",
        "s3:DeleteObject {Dedupe.arn}/*",
        "s3:GetObject {Dedupe.arn}/*",
        "s3:PutObject {Dedupe.arn}/*",
        "s3:ListBucket {Dedupe.arn}",
        READ_SECRET,
      ].sort(),
    );
    expect(grantLines(functionOf(dev, "Listener"))).toEqual([
      "lambda:InvokeFunction {Worker.arn}",
      READ_SECRET,
    ]);
    // The Repair… dialog is pre-filled from the vault record: one record read, no list or write.
    expect(grantLines(functionOf(dev, "Resolve"))).toEqual(
      ["lambda:InvokeFunction {Worker.arn}", READ_SECRET, "s3:GetObject {Vault.arn}/records/*"].sort(),
    );
    expect(grantLines(functionOf(dev, "RetryFailedRequests"))).toEqual([READ_SECRET]);
    // Deleting in the vault: approval markers (the worker alone) and the search index's compacted
    // changes and segments (the functions that search); never a record.
    const vaultDeletes = dev.functions.flatMap((fn) =>
      grantLines(fn)
        .filter((line) => line.startsWith("s3:DeleteObject {Vault.arn}"))
        .map((line) => `${fn.id} ${line}`),
    );
    expect(vaultDeletes.sort()).toEqual([
      "Execute s3:DeleteObject {Vault.arn}/index/*",
      "Worker s3:DeleteObject {Vault.arn}/approvals/pending/*",
      "Worker s3:DeleteObject {Vault.arn}/index/*",
    ]);
  });

  it("the alarms' topic, named per stage (the twin runs no alarms; it resolves the topic's outputs)", () => {
    expect(dev.topics).toEqual([{ id: "Alarms", name: "serverless-victoria-dev-alarms" }]);
    expect(prod.topics).toEqual([{ id: "Alarms", name: "serverless-victoria-prod-alarms" }]);
  });

  it("buckets, the failures queue and the config secret", () => {
    expect(dev.buckets).toEqual([
      { id: "Vault", versioning: true },
      { id: "Audit", versioning: true },
      { id: "Dedupe", versioning: false },
    ]);
    expect(dev.queues).toEqual([{ id: "WorkerFailures", messageRetentionSeconds: 14 * 24 * 60 * 60 }]);
    expect(dev.secrets).toEqual([{ id: "VictoriaConfig", name: "serverless-victoria/dev/config" }]);
  });

  it("the worker's invoke config: no retry, 30 minutes, failures to WorkerFailures", () => {
    expect(dev.invokeConfigs).toEqual([
      {
        functionId: "Worker",
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: 1800,
        onFailureDestination: ref("WorkerFailures", "arn"),
      },
    ]);
  });

  it("the schedules: retry consumer; the approval sweep and the dead-letter reminders as worker jobs (their events)", () => {
    expect(dev.schedules).toEqual([
      { id: "RetryFailedRequestsSchedule", functionId: "RetryFailedRequests", schedule: "rate(5 minutes)" },
      {
        id: "ApprovalExpirySchedule",
        functionId: "Worker",
        schedule: "rate(1 minute)",
        event: { kind: "expire-approvals", payload: {} },
      },
      {
        id: "DeadLetterReminderSchedule",
        functionId: "Worker",
        schedule: "rate(15 minutes)",
        event: { kind: REMIND_JOB, payload: {} },
      },
    ]);
  });

  it("the approval sweep's event is the worker's expire-approvals job; the retry consumer gets {}", () => {
    const byId = (id: string) => dev.schedules.find((s) => s.id === id);
    const sweep = byId("ApprovalExpirySchedule");
    expect(sweep?.event).toEqual({ kind: APPROVAL_EXPIRY_JOB, payload: {} });
    expect(sweep && JSON.parse(scheduleInput(sweep))).toEqual({ kind: "expire-approvals", payload: {} });
    const retry = byId("RetryFailedRequestsSchedule");
    expect(retry && "event" in retry).toBe(false);
    expect(retry && scheduleInput(retry)).toBe("{}");
  });

  it("outputs: the route URLs as interpolations of the functions' url, names as outputs", () => {
    expect(dev.outputs).toEqual({
      authenticateUrl: { parts: [ref("Authenticate", "url"), "authenticate"] },
      resolveUrl: { parts: [ref("Resolve", "url"), "resolve"] },
      listenerUrl: { parts: [ref("Listener", "url"), "listener"] },
      executeUrl: { parts: [ref("Execute", "url"), "execute"] },
      workerName: ref("Worker", "name"),
      retryFunctionName: ref("RetryFailedRequests", "name"),
      secretName: ref("VictoriaConfig", "name"),
      secretArn: SECRET_ARN,
      vaultBucket: ref("Vault", "name"),
      auditBucket: ref("Audit", "name"),
      dedupeBucket: ref("Dedupe", "name"),
      workerFailuresQueue: ref("WorkerFailures", "url"),
      alarmsTopicArn: ref("Alarms", "arn"),
      alarmsTopicName: ref("Alarms", "name"),
    });
  });

  it("is plain data: survives JSON unchanged", () => {
    expect(JSON.parse(JSON.stringify(dev))).toEqual(dev);
  });

  it("takes the region from the env option, leaving this process's environment alone", async () => {
    const before = process.env.AWS_REGION;
    const model = await evaluateDeployment({ env: { AWS_REGION: "eu-west-1" } });
    expect(model.app.region).toBe("eu-west-1");
    expect(process.env.AWS_REGION).toBe(before);
  });
});

describe("evaluateDeployment: a config that fails names the file and line", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twin-config-"));
    await mkdir(join(dir, "infra"));
    await writeFile(
      join(dir, "sst.config.ts"),
      [
        "export default $config({",
        '  app: () => ({ name: "broken", removal: "remove" }),',
        "  async run() {",
        '    const { fn } = await import("./infra/functions");',
        "    return { name: fn.name };",
        "  },",
        "});",
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function failureOf(infra: string): Promise<string> {
    await writeFile(join(dir, "infra/functions.ts"), infra);
    const error = await evaluateDeployment({ configFile: join(dir, "sst.config.ts") }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }

  it("an error thrown in an infra file", async () => {
    const message = await failureOf(
      ["const limit: number = 3;", "", 'if (limit > 2) throw new Error("too many functions");', ""].join(
        "\n",
      ),
    );
    expect(message).toContain("(stage dev) failed in run() at infra/functions.ts:3:");
    expect(message).toContain("too many functions");
  });

  it("an output used in a plain string", async () => {
    const message = await failureOf(
      [
        'const bucket = new sst.aws.Bucket("Store", {});',
        'export const fn = new sst.aws.Function("Fn", {',
        '  handler: "src/fn.handler",',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own source, a template literal.
        "  environment: { STORE: `${bucket.name}` },",
        "});",
        "",
      ].join("\n"),
    );
    expect(message).toMatch(/at infra\/functions\.ts:4:\d+: Output \{Store\.name\} used in a plain string/);
  });

  it("a function declared without timeout or memory gets SST's defaults", async () => {
    await writeFile(
      join(dir, "infra/functions.ts"),
      'export const fn = new sst.aws.Function("Fn", { handler: "src/fn.handler" });\n',
    );
    const model = await evaluateDeployment({ configFile: join(dir, "sst.config.ts"), stage: "qa" });
    expect(model.functions).toEqual([
      {
        id: "Fn",
        handler: "src/fn.handler",
        environment: {},
        timeoutSeconds: 20,
        memoryMB: 1024,
        url: false,
        permissions: [],
      },
    ]);
    expect(model.app).toMatchObject({ name: "broken", stage: "qa", removal: "remove", protect: false });
    expect(model.outputs).toEqual({ name: ref("Fn", "name") });
  });
});

describe("deploymentModelOf: what the twin cannot run as declared", () => {
  const recording = (args: Record<string, unknown>): ConfigRecording => ({
    configFile: "/x/sst.config.ts",
    stage: "dev",
    settings: { name: "x" },
    components: [
      { kind: "sst.aws.Function", id: "Fn", args: { handler: "h.handler", ...args }, opts: undefined },
    ],
    outputs: {},
  });

  it("refuses a Deny statement or a conditional grant, naming the function", () => {
    expect(() =>
      deploymentModelOf(
        recording({ permissions: [{ effect: "deny", actions: ["s3:*"], resources: ["*"] }] }),
      ),
    ).toThrow(/Fn permissions\[0\]: effect "deny"/);
    expect(() =>
      deploymentModelOf(
        recording({
          permissions: [{ actions: ["s3:GetObject"], resources: ["*"], conditions: [{ test: "x" }] }],
        }),
      ),
    ).toThrow(/Fn permissions\[0\]: conditions/);
  });

  it("refuses an output of a component inside a schedule's event, naming the schedule", () => {
    const withSchedule = (event: unknown): ConfigRecording => {
      const base = recording({});
      return {
        ...base,
        components: [
          ...base.components,
          {
            kind: "sst.aws.CronV2",
            id: "Sweep",
            args: {
              function: { component: "Fn", kind: "sst.aws.Function" },
              schedule: "rate(1 minute)",
              event,
            },
            opts: undefined,
          },
        ],
      };
    };
    expect(deploymentModelOf(withSchedule({ kind: "k", payload: { n: [1, true, null] } })).schedules).toEqual(
      [
        {
          id: "Sweep",
          functionId: "Fn",
          schedule: "rate(1 minute)",
          event: { kind: "k", payload: { n: [1, true, null] } },
        },
      ],
    );
    expect(() => deploymentModelOf(withSchedule({ kind: "k", payload: { to: ref("Fn", "name") } }))).toThrow(
      /Sweep event\.payload\.to: .*outputs of components in an event are not modelled/,
    );
  });

  it("refuses a size or duration it cannot read", () => {
    expect(() => deploymentModelOf(recording({ memory: "1 TB" }))).toThrow(/Fn memory: "1 TB"/);
    expect(() => deploymentModelOf(recording({ timeout: 30 }))).toThrow(/Fn timeout: 30/);
  });
});

describe("parseDuration and parseSize", () => {
  it.each([
    ["10 seconds", 10],
    ["1 second", 1],
    ["2 minutes", 120],
    ["5 minutes", 300],
    ["1 hour", 3600],
  ])("%s is %i s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ["256 MB", 256],
    ["1024 MB", 1024],
    ["1 GB", 1024],
    ["1.5 GB", 1536],
  ])("%s is %i MB", (text, mb) => {
    expect(parseSize(text)).toBe(mb);
  });
});

describe("scheduleInput: what EventBridge Scheduler sends, as SST's CronV2 sets it", () => {
  const schedule = { id: "S", functionId: "Fn", schedule: "rate(1 minute)" };
  it("the declared event as JSON; {} without one, or for one SST drops (`args.event || {}`)", () => {
    expect(scheduleInput({ ...schedule, event: { kind: "k", payload: {} } })).toBe(
      '{"kind":"k","payload":{}}',
    );
    expect(scheduleInput(schedule)).toBe("{}");
    expect(scheduleInput({ ...schedule, event: null })).toBe("{}");
    expect(scheduleInput({ ...schedule, event: "" })).toBe("{}");
  });
});

describe("resolveValue", () => {
  const urls: Record<string, string> = {
    "Execute.url": "http://127.0.0.1:4001/",
    "Worker.name": "serverless-victoria-dev-Worker",
  };
  const lookup = (r: TwinRef) => {
    const text = urls[`${r.component}.${r.property}`];
    if (text === undefined) throw new Error(`unknown ${r.component}.${r.property}`);
    return text;
  };

  it("plain text is itself, without asking", () => {
    expect(resolveValue("eu-west-2", () => expect.fail("no output to resolve"))).toBe("eu-west-2");
  });

  it("an output is what resolve() gives for it", () => {
    expect(resolveValue(ref("Worker", "name"), lookup)).toBe("serverless-victoria-dev-Worker");
  });

  it("an interpolation joins its text and its resolved outputs in order", () => {
    expect(resolveValue({ parts: [ref("Execute", "url"), "execute"] }, lookup)).toBe(
      "http://127.0.0.1:4001/execute",
    );
    expect(resolveValue({ parts: ["arn:", ref("Worker", "name"), "/", ref("Worker", "name")] }, lookup)).toBe(
      "arn:serverless-victoria-dev-Worker/serverless-victoria-dev-Worker",
    );
  });

  it("an unknown output fails through resolve()", () => {
    expect(() => resolveValue({ parts: [ref("Nope", "url"), "x"] }, lookup)).toThrow("unknown Nope.url");
  });
});
