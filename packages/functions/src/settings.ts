import { parseServiceBusConnections } from "@victoria/core/deadletter/service-bus-connections";
import { parseDuration } from "@victoria/core/policy/duration";

/**
 * Configuration from the environment (docs/configuration.md). The local server fills gaps with the
 * documented development values below; Lambda entries never do, so a deployment that forgot
 * a secret fails closed instead of accepting a publicly known one.
 */
export const DEV_DEFAULTS = {
  PORT: "3000",
  SLACK_SIGNING_SECRET: "dev-slack-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-dev-bot-token",
  SLACK_ALERT_CHANNEL: "C0DEVALERTS",
  SRE_MEMBERS: "sre@example.com",
  VICTORIA_SHARED_SECRET: "dev-victoria-shared-secret",
  LISTENER_TOKEN: "dev-listener-token",
  FAILED_REQUESTS_QUEUE: "victoria-failed-requests",
  VAULT_DIR: ".victoria/vault",
} as const;

/** Seconds a command may run before `/execute` gives up on it (VICTORIA_TIMEOUT_SECONDS). */
export const DEFAULT_TIMEOUT_SECONDS = 25;

export class MissingSettingError extends Error {
  override readonly name = "MissingSettingError";
  constructor(readonly setting: string) {
    super(`${setting} is not set`);
  }
}

export type Env = Record<string, string | undefined>;

/** The environment with development defaults filled in where a value is missing or empty. */
export function withDevDefaults(env: Env): Env {
  const merged: Env = { ...env };
  for (const [name, value] of Object.entries(DEV_DEFAULTS)) {
    if (!merged[name]) merged[name] = value;
  }
  return merged;
}

export function requireSetting(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new MissingSettingError(name);
  return value;
}

export function optionalSetting(env: Env, name: string): string | undefined {
  return env[name] || undefined;
}

/** A TCP port setting (0 = any free port); named when it is not one, so the start fails clearly. */
export function portSetting(env: Env, name: string): number | undefined {
  const text = optionalSetting(env, name);
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) {
    throw new Error(`${name} must be a port number from 0 to 65535`);
  }
  return port;
}

export interface ExecuteSettings {
  sharedSecret: string;
  configPath: string | null;
  victoriaBin: string | undefined;
  timeoutMs: number;
}

export function readExecuteSettings(env: Env): ExecuteSettings {
  const timeout = optionalSetting(env, "VICTORIA_TIMEOUT_SECONDS");
  const timeoutSeconds = timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error("VICTORIA_TIMEOUT_SECONDS must be a positive number of seconds");
  }
  return {
    sharedSecret: requireSetting(env, "VICTORIA_SHARED_SECRET"),
    configPath: optionalSetting(env, "VICTORIA_CONFIG") ?? null,
    victoriaBin: optionalSetting(env, "VICTORIA_BIN"),
    timeoutMs: Math.round(timeoutSeconds * 1000),
  };
}

/** Seconds a Slack command waits for `/execute` (VICTORIA_EXECUTE_TIMEOUT_SECONDS). */
export const DEFAULT_EXECUTE_CLIENT_TIMEOUT_SECONDS = 60;

export interface SlackCommandSettings {
  signingSecret: string;
  botToken: string;
  slackApiUrl: string | undefined;
  botUserId: string | undefined;
  allowedMembers: ReadonlySet<string> | undefined;
  executeUrl: string | undefined;
  sharedSecret: string;
  executeTimeoutMs: number;
  auditLogFile: string;
}

export function readSlackCommandSettings(env: Env): SlackCommandSettings {
  const allowed = optionalSetting(env, "SLACK_ALLOWED_MEMBERS");
  const timeout = Number(
    optionalSetting(env, "VICTORIA_EXECUTE_TIMEOUT_SECONDS") ?? DEFAULT_EXECUTE_CLIENT_TIMEOUT_SECONDS,
  );
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new Error("VICTORIA_EXECUTE_TIMEOUT_SECONDS must be a positive number of seconds");
  }
  return {
    signingSecret: requireSetting(env, "SLACK_SIGNING_SECRET"),
    botToken: requireSetting(env, "SLACK_BOT_TOKEN"),
    slackApiUrl: optionalSetting(env, "SLACK_API_URL"),
    botUserId: optionalSetting(env, "SLACK_BOT_USER_ID"),
    allowedMembers: allowed
      ? new Set(
          allowed
            .split(",")
            .map((id) => id.trim())
            .filter(Boolean),
        )
      : undefined,
    executeUrl: optionalSetting(env, "VICTORIA_EXECUTE_URL"),
    sharedSecret: requireSetting(env, "VICTORIA_SHARED_SECRET"),
    executeTimeoutMs: Math.round(timeout * 1000),
    auditLogFile: optionalSetting(env, "AUDIT_LOG_FILE") ?? ".victoria/audit.jsonl",
  };
}

export interface BusSettings {
  /** SERVICE_BUS_CONNECTIONS: `{"<cluster>": "<connection string>"}`. */
  connections: Readonly<Record<string, string>>;
  failedRequestsQueue: string;
  /** The cluster whose namespace holds FAILED_REQUESTS_QUEUE (default: the first configured). */
  failedRequestsCluster: string | undefined;
}

export function readBusSettings(env: Env): BusSettings {
  const connections = parseServiceBusConnections(optionalSetting(env, "SERVICE_BUS_CONNECTIONS"));
  const failedRequestsCluster =
    optionalSetting(env, "FAILED_REQUESTS_CLUSTER")?.toLowerCase() ?? Object.keys(connections)[0];
  return {
    connections,
    failedRequestsQueue: optionalSetting(env, "FAILED_REQUESTS_QUEUE") ?? DEV_DEFAULTS.FAILED_REQUESTS_QUEUE,
    failedRequestsCluster,
  };
}

/** Seconds a dead-letter drain may take when the runtime does not say (locally). */
export const DEFAULT_DRAIN_BUDGET_SECONDS = 60;

/** A `30m`/`2h`/`1d` setting in milliseconds; `0` or `off` turns the feature off (0). */
export function durationSetting(env: Env, name: string, fallback: string): number {
  const text = optionalSetting(env, name) ?? fallback;
  if (text === "0" || text.toLowerCase() === "off") return 0;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new Error(`${name} must be a duration such as 30m, 2h or 1d (or 0 for off), not '${text}'`);
  }
  return ms;
}

/** How dead-letter notifications keep the noise down (docs/configuration.md). */
export interface DeadLetterNoiseSettings {
  /** DEAD_LETTER_GROUP_WINDOW: same entity and reason within it → one notification, updated. */
  groupWindowMs: number;
  /** DEAD_LETTER_REMIND_AFTER: a record parked longer gets one reminder in its notification's thread. */
  remindAfterMs: number;
}

export function readDeadLetterNoiseSettings(env: Env): DeadLetterNoiseSettings {
  return {
    groupWindowMs: durationSetting(env, "DEAD_LETTER_GROUP_WINDOW", "1h"),
    remindAfterMs: durationSetting(env, "DEAD_LETTER_REMIND_AFTER", "24h"),
  };
}
