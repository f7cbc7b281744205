import type { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { serve } from "@hono/node-server";
import { createS3Vault } from "@victoria/core/adapters/aws/s3-vault";
import { createJsonLogger } from "@victoria/core/logging/json-logger";
import { parseMemberList } from "@victoria/core/security/static-directory";
import {
  LOCAL_BOT_USER_ID,
  LOCAL_DEMO_QUEUE,
  LOCAL_NAMESPACE,
  LOCAL_SLACK_USERS,
} from "@victoria/functions/local-server";
import { type AppRoute, workbenchRoute } from "@victoria/functions/workbench/workbench-route";
import { Hono } from "hono";
import type { Twin } from "./twin";
import { TwinConfigError } from "./twin-secret";

/*
 * The workbench page of `npm start`, driving the twin instead of the local server: its requests go
 * to the twin's Function URLs (the stack outputs), it reads the twin's embedded Slack stand-in, broker
 * and mail, and the vault bucket through the S3 stand-in as an operator would (read-only grants).
 */

export interface TwinWorkbench {
  url: string;
  close(): Promise<void>;
}

export interface TwinWorkbenchOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  log?: (line: string) => void;
}

export async function startTwinWorkbench(
  twin: Twin,
  options: TwinWorkbenchOptions = {},
): Promise<TwinWorkbench> {
  const { slack, serviceBus, secret } = twin;
  if (!slack)
    throw new Error("The workbench drives the twin's embedded Slack stand-in; SLACK_API_URL is set");
  const text = (name: string) => String(secret[name] ?? "");
  const members = text("SRE_MEMBERS") ? parseMemberList(text("SRE_MEMBERS")) : undefined;
  const vault = createS3Vault({
    client: new S3Client({ ...twin.s3.clientConfig, credentials: twin.operatorCredentials }),
    bucket: twin.outputs.vaultBucket as string,
    // An operator's grants read only: the index is built and kept by the functions.
    index: { readOnly: true },
  });
  const routes: Record<AppRoute, string> = {
    "/authenticate": twin.outputs.authenticateUrl as string,
    "/resolve": twin.outputs.resolveUrl as string,
    "/listener": twin.outputs.listenerUrl as string,
  };
  const router = workbenchRoute({
    slack,
    ...(serviceBus ? { broker: serviceBus } : {}),
    ...(twin.mail ? { mail: { received: twin.mail } } : {}),
    namespace: LOCAL_NAMESPACE,
    queues: [LOCAL_DEMO_QUEUE, text("FAILED_REQUESTS_QUEUE") || "victoria-failed-requests"],
    vault,
    users: LOCAL_SLACK_USERS.map((user) => ({
      ...user,
      ...(members ? { member: members.includes(user.email.toLowerCase()) } : {}),
    })),
    botUserId: text("SLACK_BOT_USER_ID") || LOCAL_BOT_USER_ID,
    channel: { id: text("SLACK_ALERT_CHANNEL"), name: "sre-alerts" },
    teamId: "T0STANDIN",
    command: "/victoria",
    signingSecret: text("SLACK_SIGNING_SECRET"),
    listenerToken: text("LISTENER_TOKEN"),
    routeUrl: (path) => routes[path],
    allowRemote: false,
    logger: createJsonLogger((line) => options.log?.(line)),
  });
  const app = new Hono().route("/", router);
  const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new TwinConfigError(
              `The workbench's port ${options.port} is in use; pick another with --workbench-port`,
            )
          : error,
      ),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
