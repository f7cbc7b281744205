import type { CommandResult } from "../ports";
import type { Bus } from "./bus";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { DeadLetterActions } from "./dead-letter-actions-types";
import { withNotificationRedraw } from "./notification-redraw";
import { parseServiceBusConnections } from "./service-bus-connections";
import type { Vault } from "./vault";

export const DEFAULT_REPLAY_LIMIT = 3;

export interface DeadLetterActionsEnvDeps {
  /** Reuse the caller's vault and bus (one AMQP connection per process). */
  vault?: Vault;
  bus?: Bus;
  execute?(args: readonly string[], requester: string): Promise<CommandResult>;
  /** What a missing Service Bus connection should tell the user to do here. */
  connectionHint?: string;
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
  const bus = deps.bus ?? (await import("../adapters/azure/service-bus-bus")).createDefaultServiceBusBus();
  // Either one set means email was meant: half a configuration fails here, not at the first email.
  const mailer =
    env.SMTP_URL || env.MAIL_FROM
      ? (await import("../adapters/smtp/mail-from-env")).createMailerFromEnv(env)
      : undefined;
  const maxReplays = Number(env.REPLAY_LIMIT || DEFAULT_REPLAY_LIMIT);
  if (!Number.isInteger(maxReplays) || maxReplays < 0) throw new Error("REPLAY_LIMIT must be a whole number");
  return createDeadLetterActions({
    vault,
    bus,
    connections: parseServiceBusConnections(env.SERVICE_BUS_CONNECTIONS),
    ...(mailer ? { mailer } : {}),
    ...(deps.execute ? { execute: deps.execute } : {}),
    maxReplays,
    ...(deps.connectionHint ? { connectionHint: deps.connectionHint } : {}),
  });
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
  const actions = await createDeadLetterActionsFromEnv(env, { ...deps, vault });
  if (!env.SLACK_BOT_TOKEN) return actions;
  const { createLazyWebApiChat } = await import("../adapters/slack/lazy-web-api-chat");
  const chat = createLazyWebApiChat({
    token: env.SLACK_BOT_TOKEN,
    slackApiUrl: env.SLACK_API_URL || undefined,
  });
  return withNotificationRedraw(actions, { vault, chat });
}

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
  const bus = (await import("../adapters/azure/service-bus-bus")).createDefaultServiceBusBus();
  const close = () => bus.close();
  if (mode === "server") {
    const actions = await createCommandDeadLetterActionsFromEnv(env, {
      bus,
      connectionHint: CHILD_CONNECTION_HINT,
    });
    return { actions, close };
  }
  const { withLocalServerSettings } = await import("./local-server-handoff");
  const local = await withLocalServerSettings(env);
  const actions = await createCommandDeadLetterActionsFromEnv(local.env, {
    bus,
    connectionHint: CLI_CONNECTION_HINT,
  });
  return { actions, close };
}
