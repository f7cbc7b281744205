import { createHash } from "node:crypto";
import type { Logger } from "@victoria/core/logging/json-logger";
import { useOneRequestAtATime } from "@victoria/core/logging/request-context";
import { createEmfMetrics } from "@victoria/core/observability/emf-metrics";
import type { Metrics } from "@victoria/core/observability/metrics";
import { type Env, getEnvironment } from "@victoria/core/secrets/environment";
import type { Hono } from "hono";
import { type APIGatewayProxyResult, handle, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { errorBody } from "../http/json-errors";

type Handle = ReturnType<typeof handle>;

// Every Lambda entry imports this module: a container runs one invocation at a time, so the
// request id lives in a variable, not AsyncLocalStorage (its promise hooks slowed cold starts).
useOneRequestAtATime();

/** A fingerprint of the configuration, so a rotated secret rebuilds the app (never logged). */
function fingerprint(env: Env): string {
  const entries = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex");
}

function misconfigured(logger: Logger, name: string, error: unknown): APIGatewayProxyResult {
  const message = `Server misconfigured: ${(error as Error).message}`;
  logger.error(`${name} function misconfigured`, { errorMessage: (error as Error).message });
  return {
    statusCode: 500,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(errorBody(500, message)),
    isBase64Encoded: false,
  };
}

/** A function's metrics: EMF lines on stdout, `Service` = its logical name (`authenticate`, …). */
export function lambdaMetrics(service: string): Metrics {
  return createEmfMetrics({ service });
}

/**
 * A Function URL handler whose Hono app is built from the configuration: the environment with
 * the Secrets Manager secret (VICTORIA_SECRET_ID) merged in and cached for its TTL. A missing key
 * answers 500 naming it (fail closed); a rotated secret rebuilds the app on the next request.
 * Its metrics (`Service` = `name`) are flushed once at the end of every invocation.
 */
export function functionUrlHandler(
  name: string,
  requiredKeys: readonly string[],
  logger: Logger,
  build: (env: Env, metrics: Metrics) => Hono,
): (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult> {
  const metrics = lambdaMetrics(name);
  let current: { key: string; handle: Handle } | undefined;
  return async (event, context) => {
    try {
      let env: Env;
      try {
        env = await getEnvironment([...requiredKeys], { metrics });
        const key = fingerprint(env);
        if (current?.key !== key) current = { key, handle: handle(build(env, metrics)) };
      } catch (error) {
        return misconfigured(logger, name, error);
      }
      return await current.handle(event, context);
    } finally {
      metrics.flush();
    }
  };
}

/** The same for handlers without HTTP (worker, schedules): the wiring is rebuilt when the configuration changes. */
export function configuredHandler<T>(
  requiredKeys: readonly string[],
  build: (env: Env) => T,
  /** Counts the secret cache's misses; the caller flushes it at the end of its invocation. */
  metrics?: Metrics,
): () => Promise<T> {
  let current: { key: string; value: T } | undefined;
  return async () => {
    const env = await getEnvironment([...requiredKeys], metrics ? { metrics } : {});
    const key = fingerprint(env);
    if (current?.key !== key) current = { key, value: build(env) };
    return current.value;
  };
}
