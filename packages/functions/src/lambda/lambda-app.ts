import { createHash } from "node:crypto";
import type { Logger } from "@victoria/core/logging/json-logger";
import { type Env, getEnvironment } from "@victoria/core/secrets/environment";
import type { Hono } from "hono";
import { type APIGatewayProxyResult, handle, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { errorBody } from "../http/json-errors";

type Handle = ReturnType<typeof handle>;

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

/**
 * A Function URL handler whose Hono app is built from the configuration: the environment with
 * the Secrets Manager secret (VICTORIA_SECRET_ID) merged in and cached for its TTL. A missing key
 * answers 500 naming it (fail closed); a rotated secret rebuilds the app on the next request.
 */
export function functionUrlHandler(
  name: string,
  requiredKeys: readonly string[],
  logger: Logger,
  build: (env: Env) => Hono,
): (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult> {
  let current: { key: string; handle: Handle } | undefined;
  return async (event, context) => {
    let env: Env;
    try {
      env = await getEnvironment([...requiredKeys]);
      const key = fingerprint(env);
      if (current?.key !== key) current = { key, handle: handle(build(env)) };
    } catch (error) {
      return misconfigured(logger, name, error);
    }
    return current.handle(event, context);
  };
}

/** The same for handlers without HTTP (worker, schedules): the wiring is rebuilt when the configuration changes. */
export function configuredHandler<T>(
  requiredKeys: readonly string[],
  build: (env: Env) => T,
): () => Promise<T> {
  let current: { key: string; value: T } | undefined;
  return async () => {
    const env = await getEnvironment([...requiredKeys]);
    const key = fingerprint(env);
    if (current?.key !== key) current = { key, value: build(env) };
    return current.value;
  };
}
