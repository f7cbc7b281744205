import type { CommandResult } from "../ports";
import type { Bus } from "./bus";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { DeadLetterActions } from "./dead-letter-actions-types";
import { parseServiceBusConnections } from "./service-bus-connections";
import type { Vault } from "./vault";

export const DEFAULT_REPLAY_LIMIT = 3;

export interface DeadLetterActionsEnvDeps {
  /** Reuse the caller's vault and bus (one AMQP connection per process). */
  vault?: Vault;
  bus?: Bus;
  execute?(args: readonly string[], requester: string): Promise<CommandResult>;
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
  });
}
