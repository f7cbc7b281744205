import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  METRICS,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_DIMENSION,
} from "@victoria/core/observability/metric-names";
import { recordConfig } from "@victoria/twin/config-recording";
import { describeValue, isComponentRef, isDeclaredValue } from "@victoria/twin/declared-value";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * Evaluates sst.config.ts and infra/*.ts the way SST does (`app()`, then `await run()`), with
 * recording stand-ins for SST's globals (`$config`, `$app`, `sst`, `aws`, `$interpolate`), and
 * checks what the deployment declares: functions, handlers, environment, grants, async plumbing,
 * outputs and per-stage settings. Component outputs (`fn.arn`, `bucket.name`, …) are opaque
 * references that refuse to be used in a plain template string, as Pulumi outputs should not be.
 * The evaluation is the twin's (`@victoria/twin/config-recording`, one fresh worker per call).
 */

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** Recorded arguments, read loosely: each assertion states the shape it expects. */
// biome-ignore lint/suspicious/noExplicitAny: the config's arguments are checked by value, not by type.
type Args = Record<string, any>;

/** Outputs as their text (`{Worker.name}`, `{Execute.url}execute`), components as `<kind Name>`, deeply. */
function resolved(value: unknown): unknown {
  if (isDeclaredValue(value) && typeof value !== "string") return describeValue(value);
  if (isComponentRef(value)) return `<${value.kind} ${value.component}>`;
  if (Array.isArray(value)) return value.map(resolved);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v)]));
  }
  return value;
}

interface AppConfig {
  name: string;
  home: string;
  removal: string;
  protect: boolean;
  providers: { aws: { region: string; version: string } };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Loads the config afresh and runs it for `stage`, as `sst deploy --stage <stage>` would. */
async function evaluate(stage: string) {
  const recording = await recordConfig({ stage });
  const resources = recording.components.map((c) => ({
    kind: c.kind,
    name: c.id,
    args: resolved(c.args) as Args,
    opts: resolved(c.opts) as Args | undefined,
  }));
  const find = (kind: string, name: string) => {
    const found = resources.filter((r) => r.kind === kind && r.name === name);
    expect(found, `${kind} ${name} declared once`).toHaveLength(1);
    return found[0] as (typeof resources)[number];
  };
  const functions = resources.filter((r) => r.kind === "sst.aws.Function");
  const settings = recording.settings as unknown as AppConfig;
  return { settings, resources, functions, find, outputs: resolved(recording.outputs) };
}

/** A function's grants as sorted `action resource` lines (effect must be allow). */
function grants(fn: { args: Args }): string[] {
  const lines: string[] = [];
  for (const permission of fn.args.permissions ?? []) {
    expect(permission.effect ?? "allow").toBe("allow");
    for (const action of permission.actions) {
      for (const resource of permission.resources) lines.push(`${action} ${resource}`);
    }
  }
  return lines.sort();
}

const SECRET_ARN = "{VictoriaConfig.arn}";
const READ_SECRET = `secretsmanager:GetSecretValue ${SECRET_ARN}`;
const VAULT_RW = ["s3:GetObject {Vault.arn}/*", "s3:ListBucket {Vault.arn}", "s3:PutObject {Vault.arn}/*"];
/** Compacting the vault's search index: removes its change markers and replaced segments. */
const VAULT_INDEX = "s3:DeleteObject {Vault.arn}/index/*";
const INVOKE_WORKER = "lambda:InvokeFunction {Worker.arn}";

/** What each function must be declared with: handler file, size, URL, environment and grants. */
const EXPECTED = {
  Authenticate: {
    file: "authenticate",
    memory: "256 MB",
    timeout: "10 seconds",
    url: true,
    environment: {
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_WORKER_FUNCTION: "{Worker.name}",
      DEDUPE_BUCKET: "{Dedupe.name}",
    },
    grants: [
      INVOKE_WORKER,
      "s3:DeleteObject {Dedupe.arn}/*",
      "s3:GetObject {Dedupe.arn}/*",
      "s3:PutObject {Dedupe.arn}/*",
      "s3:ListBucket {Dedupe.arn}",
      READ_SECRET,
    ],
  },
  Resolve: {
    file: "resolve",
    memory: "256 MB",
    timeout: "10 seconds",
    url: true,
    environment: {
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_WORKER_FUNCTION: "{Worker.name}",
      VAULT_BUCKET: "{Vault.name}",
    },
    // The Repair… dialog is pre-filled from the record: read one by id, nothing more.
    grants: [INVOKE_WORKER, READ_SECRET, "s3:GetObject {Vault.arn}/records/*"],
  },
  Listener: {
    file: "listener",
    memory: "256 MB",
    timeout: "10 seconds",
    url: true,
    environment: { VICTORIA_SECRET_ID: SECRET_ARN, VICTORIA_WORKER_FUNCTION: "{Worker.name}" },
    grants: [INVOKE_WORKER, READ_SECRET],
  },
  Execute: {
    file: "execute",
    memory: "1024 MB",
    timeout: "60 seconds",
    url: true,
    environment: { VICTORIA_SECRET_ID: SECRET_ARN, VAULT_BUCKET: "{Vault.name}" },
    grants: [...VAULT_RW, VAULT_INDEX, READ_SECRET],
  },
  Worker: {
    file: "worker",
    memory: "1024 MB",
    timeout: "5 minutes",
    url: false,
    environment: {
      VICTORIA_SECRET_ID: SECRET_ARN,
      VICTORIA_EXECUTE_URL: "{Execute.url}execute",
      VAULT_BUCKET: "{Vault.name}",
      AUDIT_BUCKET: "{Audit.name}",
    },
    grants: [
      // Approval requests' pending markers and the search index: its only deletes in the vault.
      "s3:DeleteObject {Vault.arn}/approvals/pending/*",
      VAULT_INDEX,
      "s3:GetObject {Audit.arn}/*",
      "s3:GetObject {Vault.arn}/*",
      "s3:ListBucket {Vault.arn}",
      "s3:PutObject {Audit.arn}/*",
      "s3:PutObject {Vault.arn}/*",
      READ_SECRET,
      "sqs:SendMessage {WorkerFailures.arn}",
    ],
  },
  RetryFailedRequests: {
    file: "retry-failed-requests",
    memory: "512 MB",
    timeout: "2 minutes",
    url: false,
    environment: { VICTORIA_SECRET_ID: SECRET_ARN, VICTORIA_EXECUTE_URL: "{Execute.url}execute" },
    grants: [READ_SECRET],
  },
} as const;

describe("sst.config.ts: the deployment", () => {
  it("declares exactly the six functions, each on an existing handler that exports `handler`", async () => {
    const { functions } = await evaluate("dev");
    expect(functions.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [name, expected] of Object.entries(EXPECTED)) {
      const fn = functions.find((f) => f.name === name);
      expect(fn?.args.handler, name).toBe(`packages/functions/src/lambda/${expected.file}.handler`);
      const source = join(REPO_ROOT, "packages/functions/src/lambda", `${expected.file}.ts`);
      expect(existsSync(source), source).toBe(true);
      expect(readFileSync(source, "utf8")).toMatch(/export (const|async function|function) handler\b/);
    }
  });

  it.each(Object.entries(EXPECTED))(
    "%s: runtime, size, URL, environment and grants",
    async (name, expected) => {
      const { find } = await evaluate("dev");
      const fn = find("sst.aws.Function", name);
      expect(fn.args.runtime).toMatch(/^nodejs(20|22)\.x$/);
      expect(fn.args.nodejs).toMatchObject({ splitting: true });
      expect(fn.args.logging).toEqual({ retention: "1 month" });
      expect(fn.args.memory).toBe(expected.memory);
      expect(fn.args.timeout).toBe(expected.timeout);
      if (expected.url) {
        // Public, each route checks its caller in code (for /execute: the v1 HMAC signature).
        expect(fn.args.url === true || fn.args.url?.authorization === "none").toBe(true);
      } else {
        expect(fn.args.url ?? false).toBe(false);
      }
      expect(fn.args.environment).toEqual(expected.environment);
      expect(grants(fn)).toEqual([...expected.grants].sort());
      // `link` would grant s3:* / secretsmanager:* on the linked resource: grants are explicit.
      expect(fn.args.link).toBeUndefined();
    },
  );

  it("keeps each store to the functions that need it", async () => {
    const { functions } = await evaluate("dev");
    const touching = (resource: string) =>
      functions
        .filter((f) => grants(f).some((line) => line.includes(`{${resource}.`)))
        .map((f) => f.name)
        .sort();
    const writing = (resource: string) =>
      functions
        .filter((f) =>
          grants(f).some((line) => line.startsWith("s3:PutObject") && line.includes(`{${resource}.`)),
        )
        .map((f) => f.name)
        .sort();
    expect(touching("Vault")).toEqual(["Execute", "Resolve", "Worker"]);
    expect(writing("Vault")).toEqual(["Execute", "Worker"]);
    expect(touching("Audit")).toEqual(["Worker"]);
    expect(writing("Audit")).toEqual(["Worker"]);
    expect(touching("Dedupe")).toEqual(["Authenticate"]);
    expect(touching("Worker")).toEqual(["Authenticate", "Listener", "Resolve"]);
    // The audit trail is append-only for the worker: create and read back, no list or delete.
    const worker = functions.find((f) => f.name === "Worker");
    expect(grants(worker ?? { args: {} }).filter((line) => line.includes("{Audit."))).toEqual([
      "s3:GetObject {Audit.arn}/*",
      "s3:PutObject {Audit.arn}/*",
    ]);
    for (const fn of functions) {
      for (const line of grants(fn)) expect(line, `${fn.name}: no wildcard actions`).not.toMatch(/^\S*\*/);
    }
  });

  it("declares the config secret per stage, read by every function and given to them by ARN", async () => {
    const { find, functions } = await evaluate("dev");
    const secret = find("aws.secretsmanager.Secret", "VictoriaConfig");
    expect(secret.args.name).toBe("serverless-victoria/dev/config");
    for (const fn of functions) {
      expect(fn.args.environment.VICTORIA_SECRET_ID, fn.name).toBe(SECRET_ARN);
      expect(grants(fn), fn.name).toContain(READ_SECRET);
    }
  });

  it("declares the vault, audit and dedupe buckets; the audit trail cannot be overwritten", async () => {
    const { find } = await evaluate("dev");
    expect(find("sst.aws.Bucket", "Vault").args.versioning).toBe(true);
    const audit = find("sst.aws.Bucket", "Audit");
    expect(audit.args.versioning).toBe(true);
    expect(audit.args.policy).toContainEqual(
      expect.objectContaining({
        effect: "deny",
        principals: "*",
        actions: ["s3:PutObject"],
        conditions: [{ test: "Null", variable: "s3:if-none-match", values: ["true"] }],
      }),
    );
    expect(find("sst.aws.Bucket", "Dedupe").args.lifecycle).toEqual([
      expect.objectContaining({ expiresIn: "1 day" }),
    ]);
  });

  it("hands off to the worker with no automatic retry, keeping failed hand-offs on a queue", async () => {
    const { find } = await evaluate("dev");
    find("sst.aws.Queue", "WorkerFailures");
    const config = find("aws.lambda.FunctionEventInvokeConfig", "WorkerHandOff");
    expect(config.args.functionName).toBe("{Worker.name}");
    expect(config.args.maximumRetryAttempts).toBe(0);
    expect(config.args.maximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(config.args.maximumEventAgeInSeconds).toBeLessThanOrEqual(21_600);
    expect(config.args.destinationConfig).toEqual({ onFailure: { destination: "{WorkerFailures.arn}" } });
    // Lambda sends the failed event with the worker's own role.
    expect(grants(find("sst.aws.Function", "Worker"))).toContain("sqs:SendMessage {WorkerFailures.arn}");
  });

  it("runs the retry consumer every 5 minutes, and no more than once per tick", async () => {
    const { resources, find } = await evaluate("dev");
    const crons = resources.filter((r) => r.kind === "sst.aws.CronV2" || r.kind === "sst.aws.Cron");
    expect(crons).toHaveLength(3);
    expect(crons[0]?.args.function).toBe("<sst.aws.Function RetryFailedRequests>");
    expect(crons[0]?.args.schedule).toBe("rate(5 minutes)");
    expect(find("sst.aws.Function", "RetryFailedRequests").args.retries).toBe(0);
  });

  it("sweeps approval requests every minute: the worker's expire-approvals job", async () => {
    const { resources } = await evaluate("dev");
    const sweep = resources.find((r) => r.kind === "sst.aws.CronV2" && r.name === "ApprovalExpirySchedule");
    expect(sweep?.args).toMatchObject({
      function: "<sst.aws.Function Worker>",
      schedule: "rate(1 minute)",
      event: { kind: "expire-approvals", payload: {} },
    });
  });

  it("reminds about dead letters parked too long every 15 minutes: the worker's remind-dead-letters job", async () => {
    const { resources } = await evaluate("dev");
    const reminders = resources.find(
      (r) => r.kind === "sst.aws.CronV2" && r.name === "DeadLetterReminderSchedule",
    );
    expect(reminders?.args).toMatchObject({
      function: "<sst.aws.Function Worker>",
      schedule: "rate(15 minutes)",
      event: { kind: "remind-dead-letters", payload: {} },
    });
  });

  it("outputs the four route URLs, the worker, the secret and the buckets", async () => {
    const { outputs } = await evaluate("dev");
    expect(outputs).toMatchObject({
      authenticateUrl: "{Authenticate.url}authenticate",
      resolveUrl: "{Resolve.url}resolve",
      listenerUrl: "{Listener.url}listener",
      executeUrl: "{Execute.url}execute",
      workerName: "{Worker.name}",
      secretName: "{VictoriaConfig.name}",
      secretArn: SECRET_ARN,
      vaultBucket: "{Vault.name}",
      auditBucket: "{Audit.name}",
      dedupeBucket: "{Dedupe.name}",
    });
  });
});

describe("sst.config.ts: app() and stages", () => {
  it("names the app, keeps state in AWS, and pins the AWS provider in eu-west-2 by default", async () => {
    vi.stubEnv("AWS_REGION", "");
    const { settings } = await evaluate("dev");
    expect(settings).toMatchObject({ name: "serverless-victoria", home: "aws" });
    expect(settings.providers.aws.region).toBe("eu-west-2");
    expect(settings.providers.aws.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("takes the region from AWS_REGION", async () => {
    vi.stubEnv("AWS_REGION", "eu-west-1");
    const { settings } = await evaluate("dev");
    expect(settings.providers.aws.region).toBe("eu-west-1");
  });

  it("removes a dev stage entirely, the secret included, so it can be deployed again at once", async () => {
    const { settings, find } = await evaluate("dev");
    expect(settings.removal).toBe("remove");
    expect(settings.protect).toBe(false);
    const secret = find("aws.secretsmanager.Secret", "VictoriaConfig");
    expect(secret.args.recoveryWindowInDays).toBe(0);
    expect(secret.opts?.retainOnDelete).toBe(false);
  });

  it("retains prod's data (the secret too) and protects prod from `sst remove`", async () => {
    const { settings, find } = await evaluate("prod");
    expect(settings.removal).toBe("retain");
    expect(settings.protect).toBe(true);
    const secret = find("aws.secretsmanager.Secret", "VictoriaConfig");
    expect(secret.args.name).toBe("serverless-victoria/prod/config");
    expect(secret.args.recoveryWindowInDays).toBe(30);
    expect(secret.opts?.retainOnDelete).toBe(true);
  });
});

/** The alarms' SNS topic, as its outputs read in a recording. */
const TOPIC_ARN = "{Alarms.arn}";

/** Lambda's own metrics, alarmed per function. */
const LAMBDA_METRICS = ["Errors", "Throttles"] as const;

/**
 * Every alarm by component name: what it watches and when it fires. Each fires above 0 except the
 * parked age, whose threshold is a setting (checked on its own below).
 */
const EXPECTED_ALARMS: Record<string, Args> = {
  WorkerFailuresAlarm: {
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: "{WorkerFailures.nodes.queue.name}" },
    statistic: "Maximum",
    threshold: 0,
    runbook: "alarm-worker-failures",
  },
  DrainErrorsAlarm: {
    namespace: METRICS_NAMESPACE,
    metricName: "DrainErrors",
    dimensions: { [SERVICE_DIMENSION]: "worker" },
    statistic: "Sum",
    threshold: 0,
    runbook: "alarm-drain-errors",
  },
  FailedRequestsDeadLetteredAlarm: {
    namespace: METRICS_NAMESPACE,
    metricName: "FailedRequestsDeadLettered",
    dimensions: { [SERVICE_DIMENSION]: "retry-failed-requests" },
    statistic: "Sum",
    threshold: 0,
    runbook: "alarm-failed-requests-dead-lettered",
  },
  NotificationFailuresAlarm: {
    namespace: METRICS_NAMESPACE,
    metricName: "NotificationFailures",
    dimensions: { [SERVICE_DIMENSION]: "worker" },
    statistic: "Sum",
    threshold: 0,
    runbook: "alarm-notification-failures",
  },
  OldestParkedDeadLetterAlarm: {
    namespace: METRICS_NAMESPACE,
    metricName: "OldestParkedAge",
    dimensions: { [SERVICE_DIMENSION]: "worker" },
    statistic: "Maximum",
    threshold: 48 * 3600,
    runbook: "alarm-oldest-parked-dead-letter",
  },
  ...Object.fromEntries(
    Object.keys(EXPECTED).flatMap((fn) =>
      LAMBDA_METRICS.map((metricName) => [
        `${fn}${metricName}Alarm`,
        {
          namespace: "AWS/Lambda",
          metricName,
          dimensions: { FunctionName: `{${fn}.name}` },
          statistic: "Sum",
          threshold: 0,
          runbook: `alarm-function-${metricName.toLowerCase()}`,
        },
      ]),
    ),
  ),
};

/** "rate(15 minutes)" as seconds. */
function rateSeconds(schedule: string): number {
  const match = /^rate\((\d+) (minute|hour)s?\)$/.exec(schedule);
  expect(match, schedule).not.toBeNull();
  return Number(match?.[1]) * (match?.[2] === "hour" ? 3600 : 60);
}

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

describe("sst.config.ts: the alarms", () => {
  let dev: Awaited<ReturnType<typeof evaluate>>;
  const alarms = () => dev.resources.filter((r) => r.kind === "aws.cloudwatch.MetricAlarm");

  beforeAll(async () => {
    vi.stubEnv("ALARM_OLDEST_PARKED_AGE_HOURS", "");
    dev = await evaluate("dev");
  });

  it("declares one SNS topic per stage for them, and outputs its ARN and name for subscribing", async () => {
    const topics = dev.resources.filter((r) => r.kind === "aws.sns.Topic" || r.kind === "sst.aws.SnsTopic");
    expect(topics.map((t) => t.name)).toEqual(["Alarms"]);
    expect(dev.find("aws.sns.Topic", "Alarms").args.name).toBe("serverless-victoria-dev-alarms");
    // Not under the AWS-managed SNS key, to which CloudWatch cannot publish.
    expect(dev.find("aws.sns.Topic", "Alarms").args.kmsMasterKeyId).toBeUndefined();
    expect(dev.outputs).toMatchObject({ alarmsTopicArn: TOPIC_ARN, alarmsTopicName: "{Alarms.name}" });
  });

  it("declares exactly the expected alarms", () => {
    expect(
      alarms()
        .map((a) => a.name)
        .sort(),
    ).toEqual(Object.keys(EXPECTED_ALARMS).sort());
  });

  it.each(Object.entries(EXPECTED_ALARMS))(
    "%s: metric, dimensions, threshold and runbook",
    (id, expected) => {
      const { args } = dev.find("aws.cloudwatch.MetricAlarm", id);
      const { runbook, ...watched } = expected;
      expect(args).toMatchObject(watched);
      expect(args.dimensions).toEqual(expected.dimensions);
      expect(args.comparisonOperator).toBe("GreaterThanThreshold");
      expect(args.alarmDescription).toMatch(new RegExp(`^Runbook: README\\.md#${runbook}\\. \\S`));
      expect(args.alarmDescription.length).toBeLessThanOrEqual(1024);
    },
  );

  it("every alarm notifies the topic when it fires and when it clears, named per stage", () => {
    for (const { name, args } of alarms()) {
      expect(args.alarmActions, name).toEqual([TOPIC_ARN]);
      expect(args.okActions, name).toEqual([TOPIC_ARN]);
      expect(args.actionsEnabled ?? true, name).toBe(true);
      expect(args.name, name).toBe(`serverless-victoria-dev-${name.replace(/Alarm$/, "")}`);
      // Counts and ages that are absent when all is well: no data is not a breach.
      expect(args.treatMissingData, name).toBe("notBreaching");
      expect(args.evaluationPeriods, name).toBe(1);
      expect(args.period, name).toBeGreaterThanOrEqual(60);
      expect(args.period % 60, name).toBe(0);
    }
  });

  it("one Errors and one Throttles alarm per function, on the function's deployed name", () => {
    const lambda = alarms().filter((a) => a.args.namespace === "AWS/Lambda");
    for (const metricName of LAMBDA_METRICS) {
      const watched = lambda
        .filter((a) => a.args.metricName === metricName)
        .map((a) => a.args.dimensions.FunctionName)
        .sort();
      expect(watched, metricName).toEqual(dev.functions.map((f) => `{${f.name}.name}`).sort());
    }
    expect(lambda).toHaveLength(dev.functions.length * LAMBDA_METRICS.length);
  });

  it("watches only metrics the product emits, with the dimensions it emits them with", () => {
    const services = Object.values(EXPECTED).map((fn) => fn.file);
    const ours = alarms().filter((a) => a.args.namespace === METRICS_NAMESPACE);
    expect(ours.length).toBeGreaterThan(0);
    for (const { name, args } of ours) {
      const metric = METRICS[args.metricName as MetricName];
      expect(metric, `${name}: ${args.metricName} is not in METRICS (metric-names.ts)`).toBeDefined();
      // A metric is emitted with {Service} and, if it has any, {Service, …its dimensions}.
      const keys = Object.keys(args.dimensions).sort();
      expect(
        [[SERVICE_DIMENSION], [SERVICE_DIMENSION, ...(metric?.dimensions ?? [])].sort()],
        name,
      ).toContainEqual(keys);
      // The Service value is a function's logical name: its handler file.
      expect(services, name).toContain(args.dimensions[SERVICE_DIMENSION]);
    }
  });

  it("the parked-age alarm looks at one period of at least one reminder sweep's interval", () => {
    const { args } = dev.find("aws.cloudwatch.MetricAlarm", "OldestParkedDeadLetterAlarm");
    const sweep = dev.find("sst.aws.CronV2", "DeadLetterReminderSchedule");
    expect(args.period).toBeGreaterThanOrEqual(rateSeconds(sweep.args.schedule));
    expect(METRICS.OldestParkedAge.unit).toBe("Seconds");
  });

  it("takes the parked-age threshold from ALARM_OLDEST_PARKED_AGE_HOURS at deploy time", async () => {
    vi.stubEnv("ALARM_OLDEST_PARKED_AGE_HOURS", "72");
    const { find } = await evaluate("prod");
    const { args } = find("aws.cloudwatch.MetricAlarm", "OldestParkedDeadLetterAlarm");
    expect(args.threshold).toBe(72 * 3600);
    expect(args.alarmDescription).toContain("72 hours");
  });

  it("refuses a parked-age threshold that is not a positive number of hours", async () => {
    for (const value of ["0", "-1", "1d", "soon"]) {
      vi.stubEnv("ALARM_OLDEST_PARKED_AGE_HOURS", value);
      await expect(evaluate("dev"), value).rejects.toThrow(
        /ALARM_OLDEST_PARKED_AGE_HOURS must be a positive/,
      );
    }
  });

  it("points every alarm at a runbook section the README has", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6}\s+(.+)$/gm)].map((heading) => anchorOf(heading[1] as string)),
    );
    const runbooks = new Set(
      alarms().map((a) => /^Runbook: README\.md#([^.\s]+)/.exec(a.args.alarmDescription)?.[1]),
    );
    const missing = [...runbooks].filter((anchor) => !anchor || !anchors.has(anchor));
    expect(missing, 'README.md lacks these sections (see "Alarms and what to do")').toEqual([]);
  });
});
