import type { Logger } from "@victoria/core/logging/json-logger";
import { Hono, type MiddlewareHandler } from "hono";
import { createErrorHandler, jsonError, notFound } from "./http/json-errors";
import { assignRequestId } from "./http/request-id";

/** One route of the product: the router that serves it and the one method it answers. */
export interface RouteMount {
  path: string;
  method: "GET" | "POST";
  router: Hono;
}

export interface AppOptions {
  logger: Logger;
  routes: readonly RouteMount[];
  /** Serve `GET /health` (the local server does; Function URLs don't need it). */
  health?: boolean;
  /** Runs before every route (the local server's loopback guard). */
  guards?: readonly MiddlewareHandler[];
  /** Routers with several paths and methods of their own (the local workbench). */
  extraRouters?: readonly Hono[];
}

/** The one app factory: Lambda entries and the local server differ only in what they pass in. */
export function createApp({
  logger,
  routes,
  health = false,
  guards = [],
  extraRouters = [],
}: AppOptions): Hono {
  const app = new Hono();
  // First, so every line of the request (guards' refusals too) carries its one request id.
  app.use(assignRequestId);
  for (const guard of guards) app.use(guard);
  const mounts: RouteMount[] = [...routes];
  if (health)
    mounts.push({
      path: "/health",
      method: "GET",
      router: new Hono().get("/health", (c) => c.json({ status: "ok" })),
    });
  for (const mount of mounts) app.route("/", mount.router);
  for (const router of extraRouters) app.route("/", router);
  // A known path with the wrong method is a 405 that says which method to use, not a 404.
  for (const { path, method } of mounts) {
    app.all(path, (c) => {
      c.header("Allow", method);
      return jsonError(c, 405, `${path} accepts ${method} only`);
    });
  }
  app.notFound(notFound);
  app.onError(createErrorHandler(logger));
  return app;
}
