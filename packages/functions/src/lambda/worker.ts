import { DRAIN_JOB } from "@victoria/core/deadletter/drain-jobs";
import { RESOLVE_JOB, resolveJobSchema } from "@victoria/core/deadletter/resolve-job";
import { createJobRouter, type JobHandlers } from "@victoria/core/dispatch/job-router";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import type { Env } from "@victoria/core/secrets/environment";
import { SLACK_COMMAND_JOB, slackCommandJobSchema } from "@victoria/core/slack/slack-command-job";
import type { LambdaContext } from "hono/aws-lambda";
import { createBus, createVault, wireDrainJobHandler, wireResolveHandler } from "../dead-letter-wiring";
import { readBusSettings, readSlackCommandSettings } from "../settings";
import { wireSlackCommandHandler } from "../slack-command-wiring";
import { configuredHandler } from "./lambda-app";

const logger = createJsonLogger();
/** Time kept back from the invocation for logging and closing connections. */
const SAFETY_MS = 3_000;
let remainingMs: () => number = () => 60_000;

/** Builds a handler on first use, so one job kind's missing setting fails only that kind. */
function lazy(build: () => (payload: unknown) => Promise<unknown>): JobHandlers[string] {
  let handler: ((payload: unknown) => Promise<unknown>) | undefined;
  return async (payload) => {
    handler ??= build();
    await handler(payload);
  };
}

function buildRouter(env: Env) {
  // One bus and vault per configuration, shared by the drain and resolve jobs.
  let shared: { bus: ReturnType<typeof createBus>; vault: ReturnType<typeof createVault> } | undefined;
  const resources = () => {
    shared ??= { bus: createBus(), vault: createVault(env) };
    return shared;
  };
  return createJobRouter({
    [SLACK_COMMAND_JOB]: lazy(() => {
      const handle = wireSlackCommandHandler({ settings: readSlackCommandSettings(env), env, logger });
      return (payload) => handle(slackCommandJobSchema.parse(payload));
    }),
    [DRAIN_JOB]: lazy(() =>
      wireDrainJobHandler({
        env,
        ...resources(),
        busSettings: readBusSettings(env),
        logger,
        budgetMs: () => Math.max(1_000, remainingMs() - SAFETY_MS),
      }),
    ),
    [RESOLVE_JOB]: lazy(() => {
      const handle = wireResolveHandler({
        env,
        ...resources(),
        logger,
        executeUrl: env.VICTORIA_EXECUTE_URL || undefined,
      });
      return async (payload) => (await handle)(resolveJobSchema.parse(payload));
    }),
  });
}

const router = configuredHandler([], buildRouter);

/**
 * The asynchronous half of `/authenticate`, `/listener` and `/resolve`: invoked with `{kind, payload}`.
 * Failures are logged and swallowed: Lambda's automatic retry of an async invocation could run a
 * command a second time after it already ran and only the reply failed.
 */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<void> {
  const { getRemainingTimeInMillis } = context ?? {};
  if (typeof getRemainingTimeInMillis === "function") remainingMs = () => getRemainingTimeInMillis();
  try {
    await (await router()).run(event);
  } catch (error) {
    logger.error("worker job failed", {
      errorName: (error as Error).name,
      errorMessage: (error as Error).message,
    });
  }
}
