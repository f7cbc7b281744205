import { ServiceBusClient } from "@azure/service-bus";
import { createServiceBusBus } from "@victoria/core/adapters/azure/service-bus-bus";
import { createFileVault } from "@victoria/core/adapters/local/file-vault";
import { createWebApiChat } from "@victoria/core/adapters/slack/web-api-chat";
import type { Bus } from "@victoria/core/deadletter/bus";
import { createDrainJobHandler } from "@victoria/core/deadletter/drain-jobs";
import type { Vault } from "@victoria/core/deadletter/vault";
import {
  createFailedRequestPublisher,
  type FailedRequestPublisher,
} from "@victoria/core/failed-requests/failed-request-publisher";
import type { Logger } from "@victoria/core/logging/json-logger";
import { type BusSettings, DEFAULT_DRAIN_BUDGET_SECONDS, type Env, requireSetting } from "./settings";

/** Service Bus through the real SDK; one AMQP connection per cluster for the life of the process. */
export function createBus(): Bus {
  // The SDK's defaults wait 30 s between retries; a drain has a budget, so fail over sooner.
  return createServiceBusBus(
    (connection) =>
      new ServiceBusClient(connection, {
        retryOptions: {
          maxRetries: 3,
          retryDelayInMs: 1_000,
          maxRetryDelayInMs: 10_000,
          timeoutInMs: 30_000,
        },
      }),
  );
}

/** The local vault (VAULT_DIR); the deployment issue adds the S3 one for AWS. */
export function createVault(env: Env): Vault {
  return createFileVault(env.VAULT_DIR || ".victoria/vault");
}

export interface DrainWiring {
  env: Env;
  bus: Bus;
  vault: Vault;
  busSettings: BusSettings;
  logger: Logger;
  /** Milliseconds the drain may take: the Lambda's remaining time, or a default locally. */
  budgetMs?: () => number;
}

export function wireDrainJobHandler({ env, bus, vault, busSettings, logger, budgetMs }: DrainWiring) {
  return createDrainJobHandler({
    bus,
    vault,
    chat: createWebApiChat({
      token: requireSetting(env, "SLACK_BOT_TOKEN"),
      slackApiUrl: env.SLACK_API_URL || undefined,
    }),
    alertChannel: requireSetting(env, "SLACK_ALERT_CHANNEL"),
    logger,
    connections: busSettings.connections,
    drainOptions: () => ({ budgetMs: budgetMs?.() ?? DEFAULT_DRAIN_BUDGET_SECONDS * 1000 }),
  });
}

/** Publishes failed commands when a cluster holds the failed-requests queue; otherwise nothing. */
export function wireFailedRequestPublisher(
  bus: Bus,
  busSettings: BusSettings,
): FailedRequestPublisher | undefined {
  const cluster = busSettings.failedRequestsCluster;
  const connection = cluster === undefined ? undefined : busSettings.connections[cluster];
  if (connection === undefined) return undefined;
  return createFailedRequestPublisher(bus, connection, busSettings.failedRequestsQueue);
}
