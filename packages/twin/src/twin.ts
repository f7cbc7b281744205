import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type LambdaStandIn, startLambdaStandIn } from "@victoria/emulators/lambda-invoke";
import { type S3StandIn, startS3StandIn } from "@victoria/emulators/s3";
import { type SecretsManagerStandIn, startSecretsManagerStandIn } from "@victoria/emulators/secrets-manager";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { type ReceivedMail, type SmtpStandIn, startSmtpStandIn } from "@victoria/emulators/smtp";
import { type SqsStandIn, startSqsStandIn } from "@victoria/emulators/sqs";
import {
  LOCAL_BOT_USER_ID,
  LOCAL_CLUSTER,
  LOCAL_DEMO_QUEUE,
  LOCAL_SLACK_USERS,
} from "@victoria/functions/local-server";
import { buildLambdas, type LambdaFunctionName } from "../../functions/scripts/build-lambdas";
import {
  type DeclaredFunction,
  type DeploymentModel,
  evaluateDeployment,
  resolveValue,
  scheduleInput,
  type TwinRef,
} from "./deployment-model";
import { createFunctionHost, type FunctionHost, type InvocationOutcome } from "./function-host";
import { type FunctionUrl, serveFunctionUrl } from "./function-url";
import { createIamAuthority, type IamAuthority } from "./iam-policy";
import { missingSecretKeys, TwinConfigError } from "./twin-secret";

/*
 * The deployment as sst.config.ts declares it, on loopback: each function built as `sst deploy`
 * builds it and run in its own process with exactly its declared environment and its own AWS
 * identity; Function URLs; the worker invoked asynchronously with its FunctionEventInvokeConfig and
 * on-failure queue; the schedule; the secret; the buckets; and IAM checked on every AWS call.
 */

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ACCOUNT = "000000000000";
/** Every function's "role" signs with its own key id, so the stand-ins know who calls. */
const SECRET_ACCESS_KEY = "twin-secret-access-key";
const SCHEDULER_KEY = "AKIATWINSCHEDULER";
const OPERATOR_KEY = "AKIATWINOPERATOR";

export interface TwinOptions {
  stage?: string;
  /** The secret's value, as an operator puts it in Secrets Manager (same keys as production). */
  secret: Record<string, unknown>;
  /** Rewrites the evaluated model before it runs (tests remove a grant to see AccessDenied). */
  transformModel?: (model: DeploymentModel) => DeploymentModel;
  /** Schedules tick at their declared rate; a number ticks every N ms instead; false: only `tick()`. */
  scheduleTicks?: boolean | number;
  /** Lambda's waits before the first and second retry of an async event (AWS: ~1 and ~2 minutes). */
  retryDelaysMs?: readonly [number, number];
  /**
   * VICTORIA_SECRET_TTL_SECONDS on every function: how soon a rotated secret is read (production's
   * default is 5 minutes; tests rotate in seconds).
   */
  secretTtlSeconds?: number;
  /** Where the stack outputs are written (default `.victoria/twin/outputs.json`). */
  outputsFile?: string;
  /** Where the bundles are built (default `.victoria/twin/<stage>/lambda`). */
  buildDir?: string;
  log?: (line: string) => void;
  /** SLACK_API_URL, SERVICE_BUS_CONNECTIONS…: real endpoints when set, else embedded stand-ins. */
  env?: Record<string, string | undefined>;
  /**
   * PEM certificates the functions trust besides the public roots (HTTPS stand-ins such as Key
   * Vault's), given to them as NODE_EXTRA_CA_CERTS as Lambda honours it; the twin's own
   * NODE_EXTRA_CA_CERTS file is added too.
   */
  trustedCertificates?: readonly string[];
}

export interface Twin {
  model: DeploymentModel;
  /** The stack outputs (`authenticateUrl`, …), resolved. */
  outputs: Record<string, string>;
  /** Function name of a component id (`Worker` → `serverless-victoria-dev-Worker`). */
  functionName(id: string): string;
  iam: IamAuthority;
  lambda: LambdaStandIn;
  s3: S3StandIn;
  secrets: SecretsManagerStandIn;
  sqs: SqsStandIn;
  slack?: SlackStandIn;
  serviceBus?: ServiceBusStandIn;
  /** What the embedded SMTP stand-in received (SMTP_URL given in the secret or env: absent). */
  mail?: readonly ReceivedMail[];
  /** The secret's current value, with the embedded stand-ins' endpoints filled in. */
  readonly secret: Readonly<Record<string, unknown>>;
  /** An operator's keys: read-only on the vault and audit buckets (the workbench's view). */
  operatorCredentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Runs a schedule's target now, as EventBridge Scheduler does: an asynchronous invoke with the
   * schedule's declared event (`{}` without one). Automatic ticks (`scheduleTicks`) call this too.
   */
  tick(scheduleId: string): Promise<void>;
  /** Replaces the secret's value (a rotation). */
  putSecret(value: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** `rate(5 minutes)` in milliseconds; undefined for what the twin does not tick (cron expressions). */
export function rateMs(schedule: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.trim());
  if (!match) return undefined;
  const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[match[2]?.replace(/s$/, "") as "minute"];
  return Number(match[1]) * unit;
}

/** `packages/functions/src/lambda/worker.handler` → `worker`, the bundle build-lambdas makes. */
function bundleName(fn: DeclaredFunction): LambdaFunctionName {
  const match = /src\/lambda\/([\w-]+)\.handler$/.exec(fn.handler);
  if (!match)
    throw new TwinConfigError(`${fn.id}: handler ${fn.handler} is not under packages/functions/src/lambda`);
  return match[1] as LambdaFunctionName;
}

const accessKeyOf = (id: string) => `AKIATWIN${id.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;

export async function startTwin(options: TwinOptions): Promise<Twin> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = options.env ?? process.env;
  const missing = missingSecretKeys(options.secret);
  if (missing.length > 0) {
    throw new TwinConfigError(`The twin's secret lacks ${missing.join(", ")} (same keys as production)`);
  }
  const evaluated = await evaluateDeployment({
    stage: options.stage ?? "dev",
    configFile: join(REPO_ROOT, "sst.config.ts"),
  });
  const model = options.transformModel ? options.transformModel(evaluated) : evaluated;
  const { app } = model;
  const prefix = `${app.name}-${app.stage}`;
  const names = {
    function: (id: string) => `${prefix}-${id}`,
    bucket: (id: string) => `${prefix}-${id}`.toLowerCase(),
    queue: (id: string) => `${prefix}-${id}`,
  };
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };

  try {
    const iam = createIamAuthority({
      onCheck: (check) => {
        if (!check.allowed)
          log(
            `IAM AccessDenied: ${check.principal ?? check.accessKeyId} may not ${check.action} on ${check.resource}`,
          );
      },
    });
    const authorize = iam.authorize;
    const region = app.region;
    const s3 = await startS3StandIn({
      region,
      buckets: model.buckets.map((b) => names.bucket(b.id)),
      authorize,
    });
    closers.push(() => s3.close());
    const secrets = await startSecretsManagerStandIn({ region, authorize });
    closers.push(() => secrets.close());
    const sqs = await startSqsStandIn({ region, queues: model.queues.map((q) => names.queue(q.id)) });
    closers.push(() => sqs.close());
    const lambda = await startLambdaStandIn({
      region,
      authorize,
      ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    });
    closers.push(() => lambda.close());

    // Slack and Service Bus: the operator's real endpoints when given, else the embedded stand-ins.
    const secret: Record<string, unknown> = { ...options.secret };
    let slack: SlackStandIn | undefined;
    let serviceBus: ServiceBusStandIn | undefined;
    if (!secret.SLACK_API_URL && !env.SLACK_API_URL) {
      slack = await startSlackStandIn({
        botToken: String(secret.SLACK_BOT_TOKEN),
        users: [...LOCAL_SLACK_USERS],
        botUserId: LOCAL_BOT_USER_ID,
      });
      closers.push(() => slack?.close() ?? Promise.resolve());
      secret.SLACK_API_URL = slack.url;
      secret.SLACK_BOT_USER_ID ??= LOCAL_BOT_USER_ID;
    } else if (env.SLACK_API_URL) secret.SLACK_API_URL ??= env.SLACK_API_URL;
    if (!secret.SERVICE_BUS_CONNECTIONS && !env.SERVICE_BUS_CONNECTIONS) {
      serviceBus = await startServiceBusStandIn({
        host: "127.0.0.1",
        port: 0,
        queues: [
          { name: String(secret.FAILED_REQUESTS_QUEUE ?? "victoria-failed-requests"), maxDeliveryCount: 3 },
          LOCAL_DEMO_QUEUE,
        ],
      });
      closers.push(() => serviceBus?.close() ?? Promise.resolve());
      secret.SERVICE_BUS_CONNECTIONS = { [LOCAL_CLUSTER]: serviceBus.connectionString };
      // Its management API (subscription rules) speaks HTTPS with a stand-in certificate.
      secret.SERVICE_BUS_MANAGEMENT_CA = serviceBus.ca;
    } else if (env.SERVICE_BUS_CONNECTIONS) secret.SERVICE_BUS_CONNECTIONS ??= env.SERVICE_BUS_CONNECTIONS;
    // SMTP for the Email button: the operator's server when given, else a loopback stand-in.
    let smtp: SmtpStandIn | undefined;
    if (!secret.SMTP_URL && !env.SMTP_URL) {
      smtp = await startSmtpStandIn();
      closers.push(() => smtp?.close() ?? Promise.resolve());
      secret.SMTP_URL = smtp.url;
      secret.MAIL_FROM ??= "Victoria <victoria@twin.example>";
    } else if (env.SMTP_URL) {
      secret.SMTP_URL ??= env.SMTP_URL;
      if (env.MAIL_FROM) secret.MAIL_FROM ??= env.MAIL_FROM;
    }

    let current: Readonly<Record<string, unknown>> = secret;
    const secretArns = new Map<string, string>();
    for (const declared of model.secrets)
      secretArns.set(declared.id, secrets.putSecret(declared.name, secret));

    // URLs first: a function's environment may name another's URL (the worker's VICTORIA_EXECUTE_URL).
    const hosts = new Map<string, FunctionHost>();
    const urls = new Map<string, FunctionUrl>();
    for (const fn of model.functions.filter((f) => f.url)) {
      const late: FunctionHost = {
        id: fn.id,
        functionName: names.function(fn.id),
        get maxMemoryUsedMB() {
          return hosts.get(fn.id)?.maxMemoryUsedMB ?? 0;
        },
        invoke: (event) => (hosts.get(fn.id) as FunctionHost).invoke(event),
        close: async () => {},
      };
      const url = await serveFunctionUrl(late, { log });
      urls.set(fn.id, url);
      closers.push(() => url.close());
    }

    const resolveRef = (ref: TwinRef): string => {
      const { component, property } = ref;
      const fn = model.functions.find((f) => f.id === component);
      if (fn) {
        const name = names.function(component);
        if (property === "name") return name;
        if (property === "arn") return `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;
        if (property === "url") {
          const url = urls.get(component);
          if (url) return url.url;
        }
      }
      if (model.buckets.some((b) => b.id === component)) {
        if (property === "name") return names.bucket(component);
        if (property === "arn") return `arn:aws:s3:::${names.bucket(component)}`;
      }
      if (model.queues.some((q) => q.id === component)) {
        if (property === "url") return sqs.queueUrl(names.queue(component));
        if (property === "arn") return sqs.queueArn(names.queue(component));
        if (property === "name") return names.queue(component);
      }
      const topic = model.topics.find((t) => t.id === component);
      if (topic) {
        if (property === "name") return topic.name;
        if (property === "arn") return `arn:aws:sns:${region}:${ACCOUNT}:${topic.name}`;
      }
      const secretDecl = model.secrets.find((s) => s.id === component);
      if (secretDecl) {
        if (property === "arn") return secretArns.get(component) as string;
        if (property === "name") return secretDecl.name;
      }
      throw new TwinConfigError(`sst.config.ts uses ${component}.${property}, which the twin does not model`);
    };

    // Built exactly as `sst deploy` builds them (minified ESM, split chunks, SDKs bundled).
    const buildDir = options.buildDir ?? join(REPO_ROOT, ".victoria", "twin", app.stage, "lambda");
    const bundles = await buildLambdas(buildDir, {
      functions: [...new Set(model.functions.map(bundleName))],
      sourcemap: false,
    });
    const bundleOf = (fn: DeclaredFunction) =>
      bundles.find((b) => b.name === bundleName(fn))?.outfile as string;

    const extraCaFile = await writeTrustedCertificates(
      join(buildDir, "..", "trusted-certificates.pem"),
      options.trustedCertificates ?? [],
      env.NODE_EXTRA_CA_CERTS,
    );

    const sqsClient = new SQSClient({ ...sqs.clientConfig });
    for (const fn of model.functions) {
      const functionName = names.function(fn.id);
      const accessKeyId = accessKeyOf(fn.id);
      iam.addPrincipal(accessKeyId, {
        name: fn.id,
        grants: fn.permissions.map((grant) => ({
          actions: grant.actions,
          resources: grant.resources.map((resource) => resolveValue(resource, resolveRef)),
        })),
      });
      const declaredEnv = Object.fromEntries(
        Object.entries(fn.environment).map(([name, value]) => [name, resolveValue(value, resolveRef)]),
      );
      const host = createFunctionHost({
        id: fn.id,
        functionName,
        bundle: bundleOf(fn),
        env: {
          ...declaredEnv,
          // What Lambda's runtime sets, and where the twin's AWS is.
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_ACCESS_KEY_ID: accessKeyId,
          AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
          AWS_ENDPOINT_URL_S3: s3.endpoint,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
          AWS_ENDPOINT_URL_SQS: sqs.endpoint,
          ...(options.secretTtlSeconds
            ? { VICTORIA_SECRET_TTL_SECONDS: String(options.secretTtlSeconds) }
            : {}),
          ...(extraCaFile ? { NODE_EXTRA_CA_CERTS: extraCaFile } : {}),
          TZ: ":UTC",
          LANG: "en_US.UTF-8",
          // Quiets the AWS SDK's Node version notice, which Lambda's Node 22 runtime does not print.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
        timeoutSeconds: fn.timeoutSeconds,
        memoryMB: fn.memoryMB,
        log: (line) => log(`[${fn.id}] ${line}`),
      });
      hosts.set(fn.id, host);
      closers.push(() => host.close());
      lambda.register(functionName, async (event) => unwrap(await host.invoke(event)), {
        timeoutSeconds: fn.timeoutSeconds,
      });
      const invokeConfig = model.invokeConfigs.find((c) => c.functionId === fn.id);
      const destination = invokeConfig?.onFailureDestination;
      lambda.configureEventInvoke(functionName, {
        maximumRetryAttempts: invokeConfig?.maximumRetryAttempts ?? fn.retries ?? 2,
        maximumEventAgeInSeconds: invokeConfig?.maximumEventAgeInSeconds ?? 21_600,
        ...(destination === undefined
          ? {}
          : {
              onFailure: async (record) => {
                // Lambda delivers with the function's execution role: its grants decide.
                const queueArn = resolveValue(destination, resolveRef);
                if (!iam.authorize(accessKeyId, "sqs:SendMessage", queueArn).allowed) return;
                const queueName = queueArn.split(":").at(-1) as string;
                await sqsClient.send(
                  new SendMessageCommand({
                    QueueUrl: sqs.queueUrl(queueName),
                    MessageBody: JSON.stringify(record),
                  }),
                );
              },
            }),
      });
    }

    // An operator looking at what the functions stored, without the power to change it.
    iam.addPrincipal(OPERATOR_KEY, {
      name: "Operator",
      grants: model.buckets.flatMap((bucket) => [
        { actions: ["s3:ListBucket"], resources: [`arn:aws:s3:::${names.bucket(bucket.id)}`] },
        { actions: ["s3:GetObject"], resources: [`arn:aws:s3:::${names.bucket(bucket.id)}/*`] },
      ]),
    });

    // EventBridge Scheduler: its role may invoke the scheduled functions, nothing else.
    iam.addPrincipal(SCHEDULER_KEY, {
      name: "Scheduler",
      grants: model.schedules.map((s) => ({
        actions: ["lambda:InvokeFunction"],
        resources: [resolveRef({ component: s.functionId, property: "arn" })],
      })),
    });
    const scheduler = new LambdaClient({
      ...lambda.clientConfig,
      credentials: { accessKeyId: SCHEDULER_KEY, secretAccessKey: SECRET_ACCESS_KEY },
    });
    const tick = async (scheduleId: string) => {
      const schedule = model.schedules.find((s) => s.id === scheduleId);
      if (!schedule) throw new Error(`no schedule ${scheduleId}`);
      await scheduler.send(
        new InvokeCommand({
          FunctionName: names.function(schedule.functionId),
          InvocationType: "Event",
          // The schedule target's input, as SST gives it to EventBridge Scheduler.
          Payload: scheduleInput(schedule),
        }),
      );
    };
    for (const schedule of model.schedules) {
      if (options.scheduleTicks === false) continue;
      const every =
        typeof options.scheduleTicks === "number" ? options.scheduleTicks : rateMs(schedule.schedule);
      if (every === undefined) {
        log(`schedule ${schedule.id} (${schedule.schedule}) is not ticked: the twin ticks rate() only`);
        continue;
      }
      const timer = setInterval(() => {
        tick(schedule.id).catch((error: Error) => log(`schedule ${schedule.id}: ${error.message}`));
      }, every);
      timer.unref();
      closers.push(async () => clearInterval(timer));
    }

    const outputs = Object.fromEntries(
      Object.entries(model.outputs).map(([name, value]) => [name, resolveValue(value, resolveRef)]),
    );
    const outputsFile = options.outputsFile ?? join(REPO_ROOT, ".victoria", "twin", "outputs.json");
    await mkdir(dirname(outputsFile), { recursive: true });
    await writeFile(outputsFile, `${JSON.stringify(outputs, null, 2)}\n`);

    return {
      model,
      outputs,
      functionName: names.function,
      iam,
      lambda,
      s3,
      secrets,
      sqs,
      ...(slack ? { slack } : {}),
      ...(serviceBus ? { serviceBus } : {}),
      ...(smtp ? { mail: smtp.received } : {}),
      tick,
      get secret() {
        return current;
      },
      operatorCredentials: { accessKeyId: OPERATOR_KEY, secretAccessKey: SECRET_ACCESS_KEY },
      putSecret: (value) => {
        current = { ...secret, ...value };
        for (const declared of model.secrets) secrets.putSecret(declared.name, current);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One PEM bundle of what the functions must trust; undefined when there is nothing to add. */
async function writeTrustedCertificates(
  file: string,
  certificates: readonly string[],
  operatorFile: string | undefined,
): Promise<string | undefined> {
  const pems = [...certificates];
  if (operatorFile) pems.push(await readFile(operatorFile, "utf8"));
  if (pems.length === 0) return undefined;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, pems.map((pem) => pem.trim()).join("\n"));
  return file;
}

/** A Lambda handler's outcome as the stand-in wants it: the result, or the function's error thrown. */
function unwrap(outcome: InvocationOutcome): unknown {
  if (outcome.ok) return outcome.result;
  throw Object.assign(new Error(outcome.error.errorMessage), { name: outcome.error.errorType });
}
