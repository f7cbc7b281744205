import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { APPROVAL_EXPIRY_JOB } from "@victoria/core/approvals/approval-jobs";
import { BULK_RESUME_JOB } from "@victoria/core/deadletter/bulk-job-kinds";
import { REMIND_JOB } from "@victoria/core/deadletter/dead-letter-reminders";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import type { JobHandlers } from "@victoria/core/dispatch/job-router";
import { createMemoryDedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { createJsonLogger, type Logger } from "@victoria/core/logging/json-logger";
import { createEmfMetrics } from "@victoria/core/observability/emf-metrics";
import { flushingAfter, type Metrics } from "@victoria/core/observability/metrics";
import type { Dispatcher } from "@victoria/core/ports";
import { parseMemberList } from "@victoria/core/security/static-directory";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import type { SmtpStandIn } from "@victoria/emulators/smtp";
import type { Hono } from "hono";
import { createApp } from "./app";
import { composeAuthenticateRoute } from "./composition/authenticate";
import { composeExecuteRoute } from "./composition/execute";
import { composeListenerRoute } from "./composition/listener";
import { composeResolveRoute } from "./composition/resolve";
import { createSharedResources } from "./composition/shared-resources";
import { composeWorkerJobs } from "./composition/worker-jobs";
import type { EngineAdapters } from "./execute-runner";
import { withLingeringClose } from "./http/lingering-close";
import { loopbackOnly } from "./http/loopback-guard";
import { type LocalEngine, prepareLocalEngine } from "./local-engine";
import { type LocalServiceBusEntities, readLocalServiceBusEntities } from "./local-service-bus-entities";
import { loadPolicyFromEnv } from "./policy-wiring";
import {
  type Env,
  portSetting,
  readDeadLetterNoiseSettings,
  readSlackCommandSettings,
  requireSetting,
  withDevDefaults,
} from "./settings";
import { workbenchRoute } from "./workbench/workbench-route";

/** People the embedded Slack stand-in knows: an SRE (in the default SRE_MEMBERS) and a guest. */
export const LOCAL_SLACK_USERS = [
  { id: "U0MEMBER", email: "sre@example.com", name: "sre" },
  { id: "U0GUEST", email: "guest@example.com", name: "guest" },
  // An approver for a command policy's approvals (docs/policy.example.yaml); not an SRE member.
  { id: "U0LEAD", email: "lead@example.com", name: "lead" },
] as const;
export const LOCAL_BOT_USER_ID = "U0VICTORIA";
/** The embedded broker's cluster; its namespace `victoria-local` maps to it (last `-` segment). */
export const LOCAL_CLUSTER = "local";
export const LOCAL_NAMESPACE = "victoria-local";
export const LOCAL_DEMO_QUEUE = "orders";
/** The sender of the embedded SMTP stand-in's mail, unless MAIL_FROM says otherwise. */
export const LOCAL_MAIL_FROM = "Victoria <victoria@example.com>";

export interface LocalAppParts {
  env: Env;
  logger: Logger;
  /** Flushed after each request and each job (`Service` = `local`). */
  metrics: Metrics;
  /** The local server's own base URL, known once it listens. */
  selfUrl: () => string;
  /** Stand-ins started for this server; the workbench drives them (and shows the mail). */
  embedded?: {
    slack?: SlackStandIn;
    serviceBus?: ServiceBusStandIn;
    /** What the embedded broker holds (LOCAL_SERVICE_BUS_ENTITIES); its queues are the workbench's. */
    serviceBusEntities?: LocalServiceBusEntities;
    smtp?: SmtpStandIn;
  };
  /** The in-process engine's generated config and stand-in providers. */
  engine?: EngineAdapters;
}

/** The channel the workbench shows: alerts and commands in one place. */
const WORKBENCH_CHANNEL_NAME = "sre-alerts";

/** Whether SRE_MEMBERS lists a person; undefined when SRE_MEMBERS is unset (Graph decides). */
function listedMember(env: Env, email: string): boolean | undefined {
  const members = env.SRE_MEMBERS;
  if (!members) return undefined;
  // The same parser the static directory uses, so the label matches what authorization decides.
  return parseMemberList(members).includes(email.toLowerCase());
}

/**
 * Every route on one app, wired with local adapters and the development defaults. Resolves once
 * every piece of configuration has been read, so a bad one fails the start, not a later request.
 */
/** The jobs, each flushing the metrics it added once it has run (as a worker invocation does). */
function flushingEachJob(jobs: JobHandlers, metrics: Metrics): JobHandlers {
  return Object.fromEntries(
    Object.entries(jobs).map(([kind, run]) => [
      kind,
      (payload: unknown) => flushingAfter(metrics, () => run(payload)),
    ]),
  );
}

export async function createLocalApp({
  env,
  logger,
  metrics,
  selfUrl,
  embedded = {},
  engine,
}: LocalAppParts) {
  const slackSettings = readSlackCommandSettings(env);
  /** The local server's own `/execute`, unless VICTORIA_EXECUTE_URL points elsewhere. */
  const selfExecuteUrl = () => `${selfUrl()}/execute`;
  const shared = createSharedResources(env);
  const { bus } = shared;
  const vault = shared.vault();
  // The same job table as the worker Lambda, run in this process after each acknowledgement.
  const jobs = await composeWorkerJobs({
    env,
    logger,
    metrics,
    shared,
    selfExecuteUrl,
    // Called only once jobs run, after `dispatcher` below exists.
    selfDispatcher: () => dispatcher,
    eager: true,
  });
  const dispatcher = createInProcessDispatcher(flushingEachJob(jobs, metrics), { logger });
  const frontDoor = { env, logger, metrics, dispatcher: () => dispatcher };
  const allowRemote = /^(1|true|yes)$/i.test(env.LOCAL_ALLOW_REMOTE ?? "");
  const workbench = workbenchRoute({
    ...(embedded.slack === undefined ? {} : { slack: embedded.slack }),
    ...(embedded.serviceBus === undefined ? {} : { broker: embedded.serviceBus }),
    ...(embedded.smtp === undefined ? {} : { mail: embedded.smtp }),
    namespace: LOCAL_NAMESPACE,
    queues: embedded.serviceBusEntities?.queues.map((queue) => queue.name) ?? [
      LOCAL_DEMO_QUEUE,
      requireSetting(env, "FAILED_REQUESTS_QUEUE"),
    ],
    ...(embedded.serviceBusEntities === undefined
      ? {}
      : {
          topics: embedded.serviceBusEntities.topics.map((topic) => ({
            name: topic.name,
            subscriptions: topic.subscriptions.map((subscription) => subscription.name),
          })),
        }),
    vault,
    ...(env.AUDIT_BUCKET ? {} : { auditFile: slackSettings.auditLogFile }),
    users: LOCAL_SLACK_USERS.map((user) => ({ ...user, member: listedMember(env, user.email) })),
    botUserId: slackSettings.botUserId ?? LOCAL_BOT_USER_ID,
    channel: { id: requireSetting(env, "SLACK_ALERT_CHANNEL"), name: WORKBENCH_CHANNEL_NAME },
    teamId: "T0STANDIN",
    command: "/victoria",
    signingSecret: slackSettings.signingSecret,
    listenerToken: requireSetting(env, "LISTENER_TOKEN"),
    routeUrl: (route) => `${selfUrl()}${route}`,
    allowRemote,
    logger,
  });
  const app: Hono = createApp({
    logger,
    health: true,
    guards: [loopbackOnly({ allowRemote, logger })],
    extraRouters: [workbench],
    routes: [
      composeExecuteRoute({
        env,
        logger,
        metrics,
        selfExecuteUrl,
        shared,
        dispatcher: () => dispatcher,
        ...(engine ? { engine } : {}),
      }),
      composeAuthenticateRoute({ ...frontDoor, dedupe: createMemoryDedupeStore }),
      composeListenerRoute(frontDoor),
      composeResolveRoute({ ...frontDoor, vault: shared.vault }),
    ],
  });
  return { app, dispatcher, bus };
}

/** Seconds between the local server's approval-expiry sweeps (AWS: every minute, by schedule). */
export const DEFAULT_APPROVAL_SWEEP_SECONDS = 30;

/**
 * With a command policy, requests left unanswered are expired and their requesters told, as the
 * worker's schedule does on AWS. Without one there are no approvals, so no timer.
 */
function startApprovalSweep(env: Env, dispatcher: Dispatcher, logger: Logger) {
  if (!loadPolicyFromEnv(env)) return undefined;
  const seconds = Number(env.APPROVAL_SWEEP_SECONDS || DEFAULT_APPROVAL_SWEEP_SECONDS);
  if (!(seconds > 0)) throw new Error("APPROVAL_SWEEP_SECONDS must be a positive number of seconds");
  const timer = setInterval(() => {
    dispatcher
      .dispatch({ kind: APPROVAL_EXPIRY_JOB, payload: {} })
      .catch((error: Error) => logger.error("approval sweep failed", { errorMessage: error.message }));
  }, seconds * 1000);
  timer.unref();
  return timer;
}

/** Seconds between the local server's reminder sweeps (AWS: every 15 minutes, by schedule). */
export const REMINDER_SWEEP_SECONDS = 60;

/** Reminds about dead letters parked too long, as the worker's schedule does on AWS (unless turned off). */
function startReminderSweep(env: Env, dispatcher: Dispatcher, logger: Logger) {
  if (readDeadLetterNoiseSettings(env).remindAfterMs === 0) return undefined;
  const timer = setInterval(() => {
    dispatcher
      .dispatch({ kind: REMIND_JOB, payload: {} })
      .catch((error: Error) => logger.error("reminder sweep failed", { errorMessage: error.message }));
  }, REMINDER_SWEEP_SECONDS * 1000);
  timer.unref();
  return timer;
}

/**
 * Takes up bulk jobs nobody runs (the server stopped mid-job, a runner crashed), every
 * APPROVAL_SWEEP_SECONDS, as the worker's schedule does on AWS. Cheap when there are none: it
 * reads the newest job records.
 */
function startBulkJobSweep(env: Env, dispatcher: Dispatcher, logger: Logger) {
  const seconds = Number(env.APPROVAL_SWEEP_SECONDS || DEFAULT_APPROVAL_SWEEP_SECONDS);
  if (!(seconds > 0)) throw new Error("APPROVAL_SWEEP_SECONDS must be a positive number of seconds");
  const timer = setInterval(() => {
    dispatcher
      .dispatch({ kind: BULK_RESUME_JOB, payload: {} })
      .catch((error: Error) => logger.error("bulk job sweep failed", { errorMessage: error.message }));
  }, seconds * 1000);
  timer.unref();
  return timer;
}

export interface LocalServer {
  url: string;
  /** The embedded Slack stand-in, when SLACK_API_URL was not given. */
  slack?: SlackStandIn;
  /** The embedded Service Bus broker, when SERVICE_BUS_CONNECTIONS was not given. */
  serviceBus?: ServiceBusStandIn;
  /** What the embedded broker holds: LOCAL_SERVICE_BUS_ENTITIES, or the failed-requests and demo queues. */
  serviceBusEntities?: LocalServiceBusEntities;
  /** The embedded SMTP stand-in, when SMTP_URL was not given. */
  smtp?: SmtpStandIn;
  /** The sender of the stand-in's mail (MAIL_FROM or the local default). */
  mailFrom?: string;
  /** The engine config in use and the stand-ins behind it. */
  engine: LocalEngine;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  env?: Env;
  logger?: Logger;
  /** EMF lines on stdout (`Service` = `local`) unless a test reads them from memory. */
  metrics?: Metrics;
}

/**
 * Starts the local server on PORT (0 = any free port) at HOST (loopback unless told otherwise).
 * Without SLACK_API_URL it starts the Slack stand-in too, so the real WebClient has a Slack to talk to.
 */
export async function startLocalServer({
  env = process.env,
  logger = createJsonLogger(),
  metrics = createEmfMetrics({ service: "local" }),
}: LocalServerOptions = {}): Promise<LocalServer> {
  const settings = withDevDefaults(env);
  const hostname = settings.HOST || "127.0.0.1";
  const port = portSetting(settings, "PORT") ?? 0;
  // Next to the server's port (PORT + 1: 3001 by default) so curl recipes can name it; any free port for PORT=0.
  const slackPort = port === 0 ? 0 : (portSetting(settings, "SLACK_STAND_IN_PORT") ?? port + 1);
  // Read (and so checked) even when SERVICE_BUS_CONNECTIONS replaces the broker: a typo fails the start.
  const entities = readLocalServiceBusEntities(settings, {
    failedRequestsQueue: settings.FAILED_REQUESTS_QUEUE as string,
    defaultQueues: [LOCAL_DEMO_QUEUE, settings.FAILED_REQUESTS_QUEUE as string],
  });
  let slack: SlackStandIn | undefined;
  let serviceBus: ServiceBusStandIn | undefined;
  let smtp: SmtpStandIn | undefined;
  let engine: LocalEngine | undefined;
  let url = "";
  try {
    if (!settings.SLACK_API_URL) {
      slack = await startSlackStandIn({
        port: slackPort,
        host: hostname,
        botToken: settings.SLACK_BOT_TOKEN as string,
        users: [...LOCAL_SLACK_USERS],
        botUserId: LOCAL_BOT_USER_ID,
      });
      settings.SLACK_API_URL = slack.url;
      settings.SLACK_BOT_USER_ID ||= LOCAL_BOT_USER_ID;
    }
    if (!settings.SERVICE_BUS_CONNECTIONS) {
      serviceBus = await startServiceBusStandIn({
        host: "127.0.0.1",
        port: 0,
        queues: entities.queues,
        topics: entities.topics,
      });
      settings.SERVICE_BUS_CONNECTIONS = JSON.stringify({ [LOCAL_CLUSTER]: serviceBus.connectionString });
      // Its management API (subscription rules) is HTTPS with a stand-in certificate.
      settings.SERVICE_BUS_MANAGEMENT_CA = serviceBus.ca;
    }
    if (!settings.SMTP_URL) {
      // The Email button's mail, kept for the workbench; a given MAIL_FROM is still the sender.
      const { startSmtpStandIn } = await import("@victoria/emulators/smtp");
      smtp = await startSmtpStandIn({ host: "127.0.0.1" });
      settings.SMTP_URL = smtp.url;
      settings.MAIL_FROM ||= LOCAL_MAIL_FROM;
    }
    engine = await prepareLocalEngine(settings);
    // A VICTORIA_BIN child reads its config from a file: the one written for this start.
    if (settings.VICTORIA_BIN && engine.configFile) settings.VICTORIA_CONFIG = engine.configFile;
    // Every setting is read here, before listening: a bad one is a start-up error, not a crash later.
    const { app, dispatcher, bus } = await createLocalApp({
      env: settings,
      logger,
      metrics,
      selfUrl: () => url,
      embedded: {
        ...(slack === undefined ? {} : { slack }),
        ...(serviceBus === undefined ? {} : { serviceBus, serviceBusEntities: entities }),
        ...(smtp === undefined ? {} : { smtp }),
      },
      engine: engine.adapters,
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const listening = serve(
        {
          // Each request's metrics are written once it is answered.
          fetch: withLingeringClose((request, bindings) =>
            flushingAfter(metrics, async () => app.fetch(request, bindings)),
          ),
          port,
          hostname,
        },
        (info: AddressInfo) => {
          const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
          url = `http://${host}:${info.port}`;
          resolve(listening);
        },
      );
      listening.once("error", reject);
    });
    const ready = engine;
    const sweep = startApprovalSweep(settings, dispatcher, logger);
    const bulkSweep = startBulkJobSweep(settings, dispatcher, logger);
    const reminders = startReminderSweep(settings, dispatcher, logger);
    return {
      url,
      slack,
      serviceBus,
      ...(serviceBus ? { serviceBusEntities: entities } : {}),
      smtp,
      ...(smtp ? { mailFrom: settings.MAIL_FROM } : {}),
      engine: ready,
      async close() {
        if (sweep) clearInterval(sweep);
        clearInterval(bulkSweep);
        if (reminders) clearInterval(reminders);
        await new Promise<void>((done) => server.close(() => done()));
        await dispatcher.idle();
        await bus.close();
        await Promise.all([serviceBus?.close(), slack?.close(), smtp?.close(), ready.close()]);
      },
    };
  } catch (error) {
    // Whoever catches this (npm start, a test) should not be left with stand-ins holding ports.
    await Promise.all([serviceBus?.close(), slack?.close(), smtp?.close(), engine?.close()]);
    throw error;
  }
}
