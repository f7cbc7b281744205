import type { Logger } from "../logging/json-logger";
import { countingDeadLetterActions } from "../observability/dead-letter-action-metrics";
import type { Metrics } from "../observability/metrics";
import { countingNotificationFailures } from "../observability/notification-failure-metrics";
import type { CommandResult } from "../ports";
import { type BulkJobsDeps, createBulkJobs } from "./bulk-jobs";
import type { Bus } from "./bus";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { DeadLetterActions } from "./dead-letter-actions-types";
import { withNotificationRedraw } from "./notification-redraw";
import { parseServiceBusConnections } from "./service-bus-connections";
import type { Vault } from "./vault";

export const DEFAULT_REPLAY_LIMIT = 3;

/** The SDK's Bus; SERVICE_BUS_MANAGEMENT_CA is a certificate its management API (rules) trusts. */
async function defaultBus(env: Readonly<Record<string, string | undefined>>): Promise<Bus> {
  const managementCa = env.SERVICE_BUS_MANAGEMENT_CA || undefined;
  return (await import("../adapters/azure/service-bus-bus")).createDefaultServiceBusBus(
    managementCa ? { managementCa } : {},
  );
}

export interface DeadLetterActionsEnvDeps {
  /** Reuse the caller's vault and bus (one AMQP connection per process). */
  vault?: Vault;
  bus?: Bus;
  execute?(args: readonly string[], requester: string): Promise<CommandResult>;
  /** What a missing Service Bus connection should tell the user to do here. */
  connectionHint?: string;
  /**
   * Bulk jobs (`deadletter replay|delete <filter flags>`): where their records are (default: files
   * under VAULT_DIR), whether they run in this process (the CLI) or are handed on (`kick`, else the
   * worker's schedule starts them).
   */
  jobs?: Partial<Pick<BulkJobsDeps, "store" | "logger" | "inline" | "kick" | "audit">>;
  /** Where the servers count what the operations did (DeadLettersReplayed, …) and failed redraws. */
  metrics?: Metrics;
}

/**
 * The dead-letter operations from configuration: VAULT_DIR, SERVICE_BUS_CONNECTIONS, SMTP_URL and
 * MAIL_FROM (optional, both or neither: without them Email says it is not configured),
 * REPLAY_LIMIT. SDKs load lazily.
 */
export async function createDeadLetterActionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  deps: DeadLetterActionsEnvDeps = {},
): Promise<DeadLetterActions> {
  const vault =
    deps.vault ?? (await import("../adapters/local/file-vault")).createFileVault(env.VAULT_DIR || undefined);
  const bus = deps.bus ?? (await defaultBus(env));
  // Either one set means email was meant: half a configuration fails here, not at the first email.
  const mailer =
    env.SMTP_URL || env.MAIL_FROM
      ? (await import("../adapters/smtp/mail-from-env")).createMailerFromEnv(env)
      : undefined;
  const maxReplays = Number(env.REPLAY_LIMIT || DEFAULT_REPLAY_LIMIT);
  if (!Number.isInteger(maxReplays) || maxReplays < 0) throw new Error("REPLAY_LIMIT must be a whole number");
  const actions = createDeadLetterActions({
    vault,
    bus,
    connections: parseServiceBusConnections(env.SERVICE_BUS_CONNECTIONS),
    ...(mailer ? { mailer } : {}),
    ...(deps.execute ? { execute: deps.execute } : {}),
    maxReplays,
    ...(deps.connectionHint ? { connectionHint: deps.connectionHint } : {}),
  });
  // Counted here, under every decoration (redraws, bulk jobs): each record acted on counts once.
  return deps.metrics ? countingDeadLetterActions(actions, deps.metrics) : actions;
}

/**
 * The same, for `victoria deadletter` commands: where SLACK_BOT_TOKEN is set (SLACK_API_URL for
 * another Web API than Slack's), each command redraws the notification of the dead letter it
 * resolved, as a button click does; without it the notification catches up at its next click.
 */
export async function createCommandDeadLetterActionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  deps: DeadLetterActionsEnvDeps = {},
): Promise<DeadLetterActions> {
  // One vault for both, so the redraw reads what the action wrote.
  const vault =
    deps.vault ?? (await import("../adapters/local/file-vault")).createFileVault(env.VAULT_DIR || undefined);
  const bus = deps.bus ?? (await defaultBus(env));
  const plain = await createDeadLetterActionsFromEnv(env, { ...deps, vault, bus });
  let actions = plain;
  if (env.SLACK_BOT_TOKEN) {
    const { createLazyWebApiChat } = await import("../adapters/slack/lazy-web-api-chat");
    const chat = createLazyWebApiChat({
      token: env.SLACK_BOT_TOKEN,
      slackApiUrl: env.SLACK_API_URL || undefined,
    });
    actions = withNotificationRedraw(plain, {
      vault,
      chat: deps.metrics ? countingNotificationFailures(chat, deps.metrics) : chat,
    });
  }
  // Bulk jobs act through the same operations, so each record's notification is redrawn too.
  const store =
    deps.jobs?.store ??
    (await import("../adapters/local/file-bulk-job-store")).createFileBulkJobStore(
      env.VAULT_DIR || undefined,
    );
  const bulk = createBulkJobs({
    store,
    actions,
    vault,
    bus,
    connections: parseServiceBusConnections(env.SERVICE_BUS_CONNECTIONS),
    logger: deps.jobs?.logger ?? SILENT,
    inline: deps.jobs?.inline ?? false,
    ...(deps.jobs?.kick ? { kick: deps.jobs.kick } : {}),
    ...(deps.jobs?.audit ? { audit: deps.jobs.audit } : {}),
  });
  return { ...actions, bulk };
}

/** The CLI prints what a job does; a log line each would only repeat it. */
const SILENT: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** Why a terminal's replay has no connection, and what to do instead. */
export const CLI_CONNECTION_HINT =
  'Replay it where the server runs (the notification\'s Replay button, or `/victoria deadletter replay <id>` in Slack or the workbench), or set SERVICE_BUS_CONNECTIONS=\'{"<cluster>":"<connection string>"}\' in this shell.';
export const CHILD_CONNECTION_HINT =
  "A VICTORIA_BIN child has SERVICE_BUS_CONNECTIONS only when VICTORIA_BIN_ENV names it.";

/**
 * `victoria deadletter` in the CLI process (`bin.ts`). At a terminal, settings a running `npm start`
 * handed over (its embedded broker, Slack and SMTP stand-ins, its vault) fill in what the
 * environment does not set; a `VICTORIA_BIN` child (server mode) takes only its environment.
 */
export async function createCliDeadLetterActions(
  env: Readonly<Record<string, string | undefined>>,
  mode: "cli" | "server",
): Promise<{ actions: DeadLetterActions; close(): Promise<void> }> {
  // The process's own bus, closed when the command is done: an open AMQP connection would keep
  // the CLI from exiting after a replay.
  if (mode === "server") {
    const bus = await defaultBus(env);
    const close = () => bus.close();
    const actions = await createCommandDeadLetterActionsFromEnv(env, {
      bus,
      connectionHint: CHILD_CONNECTION_HINT,
    });
    return { actions, close };
  }
  const { withLocalServerSettings } = await import("./local-server-handoff");
  const local = await withLocalServerSettings(env);
  // After the hand-over: the local broker's certificate (its management API) comes with it.
  const bus = await defaultBus(local.env);
  const close = () => bus.close();
  const actions = await createCommandDeadLetterActionsFromEnv(local.env, {
    bus,
    connectionHint: CLI_CONNECTION_HINT,
    // At a terminal a bulk job runs here, printing its progress, until it ends.
    jobs: { inline: true },
  });
  return { actions, close };
}
