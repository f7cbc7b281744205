import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createJsonLogger, type Logger } from "@victoria/core/logging/json-logger";
import type { Hono } from "hono";
import { createApp } from "./app";
import { createCommandRunner } from "./execute-runner";
import { executeRoute } from "./routes/execute";
import { notImplementedRoute } from "./routes/not-implemented";
import { type Env, readExecuteSettings, withDevDefaults } from "./settings";

/** Every route on one app, wired with local adapters and the development defaults. */
export function createLocalApp(env: Env, logger: Logger): Hono {
  const settings = readExecuteSettings(env);
  return createApp({
    logger,
    health: true,
    routes: [
      {
        path: "/execute",
        method: "POST",
        router: executeRoute({
          runner: createCommandRunner(settings, env),
          sharedSecret: settings.sharedSecret,
          logger,
        }),
      },
      {
        path: "/authenticate",
        method: "POST",
        router: notImplementedRoute("/authenticate", "Victoria Security"),
      },
      { path: "/listener", method: "POST", router: notImplementedRoute("/listener", "Dead Letter Watcher") },
      { path: "/resolve", method: "POST", router: notImplementedRoute("/resolve", "Dead Letter Resolver") },
    ],
  });
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  env?: Env;
  logger?: Logger;
}

/** Starts the local server on PORT (0 = any free port) at HOST (loopback unless told otherwise). */
export async function startLocalServer({
  env = process.env,
  logger = createJsonLogger(),
}: LocalServerOptions = {}): Promise<LocalServer> {
  const settings = withDevDefaults(env);
  const app = createLocalApp(settings, logger);
  const hostname = settings.HOST || "127.0.0.1";
  const port = Number(settings.PORT);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info: AddressInfo) => {
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
    server.once("error", reject);
  });
}
