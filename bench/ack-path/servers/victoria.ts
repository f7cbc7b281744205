/**
 * Our real `/authenticate` (verify, parse, validate, dedupe, dispatch, acknowledge), mounted with
 * the product's `createApp` and served by @hono/node-server as the local server does.
 */
import { serve } from "@hono/node-server";
import { createInProcessDispatcher } from "@victoria/core/dispatch/in-process-dispatcher";
import { encodeJob } from "@victoria/core/dispatch/job-router";
import { createMemoryDedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import type { Dispatcher } from "@victoria/core/ports";
import { SLACK_COMMAND_JOB } from "@victoria/core/slack/slack-command-job";
import { createApp } from "../../../packages/functions/src/app";
import { authenticateRoute } from "../../../packages/functions/src/routes/authenticate";
import { SIGNING_SECRET } from "../slack-request";
import { announce, HOST, portFromArgv } from "./lifecycle";

// The route logs one JSON line per request; it is built (stringified) but not written, as Bolt
// logs nothing per request by default. Writing it to a pipe would measure the pipe.
const logger = createJsonLogger(() => {});
// As deployed: /authenticate encodes the job and hands it to another function (the worker, by an
// async Lambda Invoke); the job's own work is not on the acknowledgement path. Here the encoded
// job goes to a queue another process would drain. (VICTORIA_BENCH_IN_PROCESS=1 runs the local
// server's in-process dispatcher instead, whose job routing shares this CPU.)
const handedOff: string[] = [];
const dispatcher: Dispatcher =
  process.env.VICTORIA_BENCH_IN_PROCESS === "1"
    ? createInProcessDispatcher({ [SLACK_COMMAND_JOB]: async () => {} }, { logger })
    : {
        async dispatch(job) {
          handedOff.push(encodeJob(job));
          if (handedOff.length > 1024) handedOff.length = 0;
        },
      };

const router = authenticateRoute({
  signingSecret: SIGNING_SECRET,
  dispatcher,
  dedupe: createMemoryDedupeStore(),
  logger,
  botUserId: "U0BENCH",
});
const app = createApp({ logger, routes: [{ path: "/authenticate", method: "POST", router }] });

const server = serve({ fetch: app.fetch, port: portFromArgv(), hostname: HOST }, () => announce(server));
