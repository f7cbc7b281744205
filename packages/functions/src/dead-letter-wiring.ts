import { createExecuteClient } from "@victoria/core/adapters/http/execute-client";
import { createLazyWebApiChat } from "@victoria/core/adapters/slack/lazy-web-api-chat";
import type { ApprovalFlow } from "@victoria/core/approvals/approval-flow";
import type { Bus } from "@victoria/core/deadletter/bus";
import {
  createCommandDeadLetterActionsFromEnv,
  createDeadLetterActionsFromEnv,
} from "@victoria/core/deadletter/dead-letter-actions-from-env";
import { createDrainJobHandler } from "@victoria/core/deadletter/drain-jobs";
import type { ResolveDeps } from "@victoria/core/deadletter/resolve-job";
import { connectionFor } from "@victoria/core/deadletter/service-bus-connections";
import type { Vault } from "@victoria/core/deadletter/vault";
import {
  createFailedRequestPublisher,
  type FailedRequestPublisher,
} from "@victoria/core/failed-requests/failed-request-publisher";
import { lazyPort } from "@victoria/core/lazy-port";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Metrics } from "@victoria/core/observability/metrics";
import { countingNotificationFailures } from "@victoria/core/observability/notification-failure-metrics";
import type { PolicyGate } from "@victoria/core/policy/policy-gate";
import type { Chat } from "@victoria/core/ports";
import type { AuditLog } from "@victoria/core/security/audit-log";
import {
  type BusSettings,
  DEFAULT_DRAIN_BUDGET_SECONDS,
  type Env,
  optionalSetting,
  readDeadLetterNoiseSettings,
  readSlackCommandSettings,
  requireSetting,
} from "./settings";
import { createAuditLog, createBulkJobStore } from "./storage-from-env";

/**
 * Service Bus through the real SDK; one AMQP connection per cluster for the life of the process.
 * The SDK (~300 KiB with its AMQP stack) loads when the bus is first used, not at start.
 */
export function createBus(env: Env = {}): Bus {
  // SERVICE_BUS_MANAGEMENT_CA: the embedded broker's certificate, for the management API (rules).
  const managementCa = optionalSetting(env, "SERVICE_BUS_MANAGEMENT_CA");
  return lazyPort<Bus>(
    {
      receiver: true,
      peekDeadLetters: true,
      send: true,
      subscriptionRules: true,
      putSqlRule: true,
      close: true,
    },
    async () =>
      (await import("@victoria/core/adapters/azure/service-bus-bus")).createDefaultServiceBusBus({
        ...(managementCa ? { managementCa } : {}),
      }),
    { close: async () => {} },
  );
}

export { createVault } from "./storage-from-env";

export interface DrainWiring {
  env: Env;
  bus: Bus;
  vault: Vault;
  busSettings: BusSettings;
  logger: Logger;
  metrics: Metrics;
  /** Milliseconds the drain may take: the Lambda's remaining time, or a default locally. */
  budgetMs?: () => number;
}

export function wireDrainJobHandler({
  env,
  bus,
  vault,
  busSettings,
  logger,
  metrics,
  budgetMs,
}: DrainWiring) {
  return createDrainJobHandler({
    bus,
    vault,
    // Everything the drain posts or updates is a notification: each failure counts.
    chat: countingNotificationFailures(
      createLazyWebApiChat({
        token: requireSetting(env, "SLACK_BOT_TOKEN"),
        slackApiUrl: env.SLACK_API_URL || undefined,
      }),
      metrics,
    ),
    alertChannel: requireSetting(env, "SLACK_ALERT_CHANNEL"),
    logger,
    connections: busSettings.connections,
    groupWindowMs: readDeadLetterNoiseSettings(env).groupWindowMs,
    drainOptions: () => ({ budgetMs: budgetMs?.() ?? DEFAULT_DRAIN_BUDGET_SECONDS * 1000 }),
    metrics,
  });
}

/** Publishes failed commands when a cluster holds the failed-requests queue; otherwise nothing. */
export function wireFailedRequestPublisher(
  bus: Bus,
  busSettings: BusSettings,
  metrics: Metrics,
): FailedRequestPublisher | undefined {
  const cluster = busSettings.failedRequestsCluster;
  const connection = cluster === undefined ? undefined : connectionFor(busSettings.connections, cluster);
  if (connection === undefined) return undefined;
  return createFailedRequestPublisher(bus, connection, busSettings.failedRequestsQueue, metrics);
}

export interface ResolveWiring {
  env: Env;
  bus: Bus;
  vault: Vault;
  logger: Logger;
  /** Where `/execute` is (replaying a failed Victoria request re-runs it there). */
  executeUrl: string | (() => string) | undefined;
  /** Counts what the operations did (DeadLettersReplayed, …). */
  metrics: Metrics;
}

/** The dead-letter operations with production adapters: `/execute`'s re-run of a failed request. */
function actionDeps({ env, bus, vault, executeUrl, metrics }: Omit<ResolveWiring, "logger">) {
  const execute =
    executeUrl === undefined
      ? undefined
      : createExecuteClient({
          url: executeUrl,
          sharedSecret: requireSetting(env, "VICTORIA_SHARED_SECRET"),
          timeoutMs: 60_000,
        });
  return {
    vault,
    bus,
    metrics,
    ...(execute
      ? {
          execute: (args: readonly string[], requester: string) =>
            execute.runWithId(args, undefined, { requester }),
        }
      : {}),
  };
}

/**
 * The operations behind `victoria deadletter` on `/execute` (Slack's `/victoria deadletter …`, the
 * workbench): each redraws the dead letter's notification, as a click on its buttons does.
 */
export function wireDeadLetterActions(
  wiring: Omit<ResolveWiring, "logger"> & { kickBulkJob?(id: string): Promise<void> },
) {
  return createCommandDeadLetterActionsFromEnv(wiring.env, {
    ...actionDeps(wiring),
    // Bulk jobs started here are run by the worker: handed over by `kick` where this process has a
    // dispatcher (locally), otherwise started by the worker's schedule within a minute.
    jobs: {
      store: createBulkJobStore(wiring.env),
      ...(wiring.kickBulkJob ? { kick: wiring.kickBulkJob } : {}),
    },
  });
}

/** What the slow half of `/resolve` runs with: the gate, the audit, the dead-letter operations. */
export async function wireResolveDeps(
  wiring: ResolveWiring & {
    chat: Chat;
    gate: PolicyGate;
    approvals?: Pick<ApprovalFlow, "request">;
    /** The worker's audit log (which also notes recent commands for the App Home); else its own. */
    audit?: AuditLog;
  },
): Promise<ResolveDeps> {
  const { env, vault, logger, chat, gate, approvals } = wiring;
  const settings = readSlackCommandSettings(env);
  return {
    // Its `chat.update` redraws the clicked notification: a failed one counts (its replies do not).
    chat: countingNotificationFailures(chat, wiring.metrics, ["updateMessage"]),
    gate,
    ...(approvals ? { approvals } : {}),
    audit: wiring.audit ?? createAuditLog(env, settings.auditLogFile),
    // Not the command's: the handler redraws once per click, however many records a bulk click touched.
    actions: await createDeadLetterActionsFromEnv(env, actionDeps(wiring)),
    vault,
    logger,
  };
}
