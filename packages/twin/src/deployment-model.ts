import {
  type ConfigRecording,
  type RecordedComponent,
  type RecordOptions,
  recordConfig,
} from "./config-recording";
import {
  type DeclaredValue,
  describeValue,
  isComponentRef,
  isDeclaredValue,
  isInterpolation,
  isTwinRef,
} from "./declared-value";

/**
 * What `sst.config.ts` declares, as the twin runs it: the functions with their handlers, sizes,
 * environment and grants, the buckets, queues and secrets, the asynchronous plumbing between
 * them, and the outputs. Built from a recording of the config (./config-recording) and nothing
 * else: values that are outputs of components stay references, for the twin to resolve.
 */

export type { DeclaredValue, Interpolation, TwinRef } from "./declared-value";
export { describeValue, resolveValue } from "./declared-value";

/** One Allow statement of a function's role: any of `actions` on any of `resources`. */
export interface DeclaredGrant {
  actions: string[];
  resources: DeclaredValue[];
}

export interface DeclaredFunction {
  /** The component name: "Execute", "Worker", … */
  id: string;
  /** `packages/functions/src/lambda/execute.handler`, relative to the config's folder. */
  handler: string;
  environment: Record<string, DeclaredValue>;
  /** SST's `timeout` ("10 seconds", "5 minutes"); SST's default 20 s. */
  timeoutSeconds: number;
  /** SST's `memory` ("256 MB", "1 GB"); SST's default 1024 MB. */
  memoryMB: number;
  /** Has a Function URL. */
  url: boolean;
  /** The `retries` argument, if given (asynchronous invocations; Lambda's default is 2). */
  retries?: number;
  permissions: DeclaredGrant[];
}

/** An `aws.lambda.FunctionEventInvokeConfig`: how asynchronous invocations of a function end. */
export interface DeclaredInvokeConfig {
  functionId: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  onFailureDestination?: DeclaredValue;
}

/** `sst.aws.CronV2` (or `sst.aws.Cron`): "rate(5 minutes)" / "cron(…)" on a function. */
export interface DeclaredSchedule {
  id: string;
  functionId: string;
  schedule: string;
  /**
   * CronV2's `event` as declared: the JSON EventBridge Scheduler invokes the function with.
   * Undefined when none is declared; see `scheduleInput` for what is sent then.
   */
  event?: unknown;
}

/**
 * The payload EventBridge Scheduler invokes a schedule's function with, verbatim: SST's CronV2
 * sets the schedule target's `input` to `JSON.stringify(args.event || {})`.
 */
export function scheduleInput(schedule: DeclaredSchedule): string {
  return JSON.stringify(schedule.event || {});
}

export interface DeploymentModel {
  app: { name: string; stage: string; removal: string; protect: boolean; region: string };
  functions: DeclaredFunction[];
  buckets: { id: string; versioning: boolean }[];
  queues: { id: string; messageRetentionSeconds?: number }[];
  /** `aws.secretsmanager.Secret`s, their names as text ("serverless-victoria/dev/config"). */
  secrets: { id: string; name: string }[];
  invokeConfigs: DeclaredInvokeConfig[];
  schedules: DeclaredSchedule[];
  /**
   * `aws.sns.Topic`s (the alarms' topic), their names as text. The twin runs no alarms and
   * delivers nothing to a topic: it only resolves a topic's `arn` and `name` in the outputs.
   */
  topics: { id: string; name: string }[];
  /** What `run()` returns. */
  outputs: Record<string, DeclaredValue>;
}

export type EvaluateOptions = RecordOptions;

/** Evaluates sst.config.ts the way SST does (`app({stage})`, then `await run()`), stage default "dev". */
export async function evaluateDeployment(options: EvaluateOptions = {}): Promise<DeploymentModel> {
  const recording = await recordConfig(options);
  try {
    return deploymentModelOf(recording, { ...process.env, ...options.env });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${recording.configFile} (stage ${recording.stage}): ${message}`, { cause: error });
  }
}

/** SST's defaults for `sst.aws.Function`. */
const DEFAULT_TIMEOUT_SECONDS = 20;
const DEFAULT_MEMORY_MB = 1024;
/** Lambda's defaults for asynchronous invocation. */
const DEFAULT_RETRY_ATTEMPTS = 2;
const DEFAULT_MAX_EVENT_AGE_SECONDS = 21_600;

/**
 * The model of a recorded config. Throws, naming the component, on what the twin cannot run as
 * declared (a Deny or conditional grant, a schedule on an inline function, an unreadable size).
 */
export function deploymentModelOf(
  recording: ConfigRecording,
  env: Record<string, string | undefined> = process.env,
): DeploymentModel {
  const { settings, components, stage } = recording;
  const ofKind = (...kinds: string[]) => components.filter((c) => kinds.includes(c.kind));
  const functionComponents = ofKind("sst.aws.Function");
  const functionIds = new Set(functionComponents.map((c) => c.id));

  /** The function a value refers to: the component, one of its outputs (`worker.name`), or its id. */
  function functionIdOf(value: unknown, where: string): string {
    const id = isComponentRef(value) || isTwinRef(value) ? value.component : value;
    if (typeof id === "string" && functionIds.has(id)) return id;
    throw new Error(`${where}: ${JSON.stringify(value)} is not a function declared with sst.aws.Function`);
  }

  const providers = record(settings.providers);
  const awsProvider = record(providers.aws);
  return {
    app: {
      name: String(settings.name),
      stage,
      removal: typeof settings.removal === "string" ? settings.removal : "retain",
      protect: settings.protect === true,
      region:
        typeof awsProvider.region === "string"
          ? awsProvider.region
          : env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    },
    functions: functionComponents.map(functionOf),
    buckets: ofKind("sst.aws.Bucket").map((c) => ({ id: c.id, versioning: c.args.versioning === true })),
    queues: [...ofKind("sst.aws.Queue"), ...ofKind("aws.sqs.Queue")].map((c) => {
      const retention =
        c.kind === "sst.aws.Queue"
          ? record(record(c.args.transform).queue).messageRetentionSeconds
          : c.args.messageRetentionSeconds;
      return typeof retention === "number" ? { id: c.id, messageRetentionSeconds: retention } : { id: c.id };
    }),
    secrets: ofKind("aws.secretsmanager.Secret").map((c) => ({
      id: c.id,
      name: c.args.name === undefined ? c.id : describeValue(declared(c.args.name, `${c.id} name`)),
    })),
    invokeConfigs: ofKind("aws.lambda.FunctionEventInvokeConfig").map((c) => {
      const onFailure = record(record(c.args.destinationConfig).onFailure).destination;
      return {
        functionId: functionIdOf(c.args.functionName, `${c.id} functionName`),
        maximumRetryAttempts: numberOr(c.args.maximumRetryAttempts, DEFAULT_RETRY_ATTEMPTS, c.id),
        maximumEventAgeInSeconds: numberOr(
          c.args.maximumEventAgeInSeconds,
          DEFAULT_MAX_EVENT_AGE_SECONDS,
          c.id,
        ),
        ...(onFailure === undefined
          ? {}
          : { onFailureDestination: declared(onFailure, `${c.id} onFailure destination`) }),
      };
    }),
    schedules: ofKind("sst.aws.CronV2", "sst.aws.Cron").map((c) => ({
      id: c.id,
      functionId: functionIdOf(c.args.function ?? c.args.job, `${c.id} function`),
      schedule: String(declared(c.args.schedule, `${c.id} schedule`)),
      ...(c.args.event === undefined ? {} : { event: plainJson(c.args.event, `${c.id} event`) }),
    })),
    topics: ofKind("aws.sns.Topic").map((c) => ({
      id: c.id,
      name: c.args.name === undefined ? c.id : describeValue(declared(c.args.name, `${c.id} name`)),
    })),
    outputs: Object.fromEntries(
      Object.entries(recording.outputs).map(([key, value]) => [
        key,
        isDeclaredValue(value) ? value : JSON.stringify(value),
      ]),
    ),
  };
}

function functionOf(component: RecordedComponent): DeclaredFunction {
  const { id, args } = component;
  if (typeof args.handler !== "string")
    throw new Error(`${id}: handler must be text, got ${show(args.handler)}`);
  const environment = Object.fromEntries(
    Object.entries(record(args.environment)).map(([name, value]) => [
      name,
      typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : declared(value, `${id} environment ${name}`),
    ]),
  );
  const fn: DeclaredFunction = {
    id,
    handler: args.handler,
    environment,
    timeoutSeconds:
      args.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : parseDuration(args.timeout, `${id} timeout`),
    memoryMB: args.memory === undefined ? DEFAULT_MEMORY_MB : parseSize(args.memory, `${id} memory`),
    url: args.url !== undefined && args.url !== false,
    permissions: list(args.permissions, `${id} permissions`).map((permission, i) =>
      grantOf(permission, `${id} permissions[${i}]`),
    ),
  };
  if (args.retries !== undefined) fn.retries = numberOr(args.retries, 0, `${id} retries`);
  return fn;
}

function grantOf(permission: unknown, where: string): DeclaredGrant {
  const { effect, actions, resources, conditions } = record(permission);
  if (effect !== undefined && effect !== "allow") {
    throw new Error(`${where}: effect ${show(effect)} is not modelled by the twin (Allow only)`);
  }
  if (conditions !== undefined && list(conditions, where).length > 0) {
    throw new Error(`${where}: conditions are not modelled by the twin`);
  }
  return {
    actions: list(actions, `${where} actions`).map((action) => String(declared(action, `${where} actions`))),
    resources: list(resources, `${where} resources`).map((resource) =>
      declared(resource, `${where} resources`),
    ),
  };
}

const SECONDS_PER_UNIT: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 };

/** "10 seconds", "1 minute", "5 minutes" (SST's `Duration`) as seconds. */
export function parseDuration(value: unknown, where = "duration"): number {
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?) (second|minute|hour|day)s?$/.exec(value) : null;
  const unit = SECONDS_PER_UNIT[match?.[2] ?? ""];
  if (!match || unit === undefined) {
    throw new Error(`${where}: ${show(value)} is not a duration like "10 seconds" or "5 minutes"`);
  }
  return Number(match[1]) * unit;
}

/** "256 MB", "1 GB" (SST's `Size`) as MB. */
export function parseSize(value: unknown, where = "size"): number {
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?) (MB|GB)$/.exec(value) : null;
  if (!match) throw new Error(`${where}: ${show(value)} is not a size like "256 MB" or "1 GB"`);
  return Number(match[1]) * (match[2] === "GB" ? 1024 : 1);
}

function declared(value: unknown, where: string): DeclaredValue {
  if (isDeclaredValue(value)) return value;
  throw new Error(`${where}: ${show(value)} is not text or an output of a component`);
}

/**
 * A schedule's event as the JSON it is sent as. Refuses an output of a component inside it (the
 * twin sends the event as declared and does not resolve outputs there) and what JSON cannot carry.
 */
function plainJson(value: unknown, where: string): unknown {
  if (isTwinRef(value) || isInterpolation(value) || isComponentRef(value)) {
    throw new Error(
      `${where}: ${show(value)}: outputs of components in an event are not modelled by the twin`,
    );
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((item, i) => plainJson(item, `${where}[${i}]`));
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, plainJson(item, `${where}.${key}`)]),
    );
  }
  throw new Error(`${where}: ${show(value)} is not JSON`);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  throw new Error(`${where}: expected a list, got ${show(value)}`);
}

function numberOr(value: unknown, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value === "number") return value;
  throw new Error(`${where}: expected a number, got ${show(value)}`);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
