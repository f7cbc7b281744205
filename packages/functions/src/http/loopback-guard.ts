import type { Logger } from "@victoria/core/logging/json-logger";
import type { MiddlewareHandler } from "hono";
import { jsonError } from "./json-errors";

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.toLowerCase().replace(/^::ffff:/, "");
  return bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The client's address as @hono/node-server exposes it; undefined when not served by Node. */
function remoteAddress(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/**
 * The local server is a development tool holding development secrets and a page that signs requests
 * as Slack: it answers loopback clients only, unless the operator opts in (LOCAL_ALLOW_REMOTE=true).
 */
export function loopbackOnly({
  allowRemote,
  logger,
}: {
  allowRemote: boolean;
  logger: Logger;
}): MiddlewareHandler {
  return async (c, next) => {
    if (allowRemote) return next();
    const address = remoteAddress(c.env);
    if (isLoopbackAddress(address)) return next();
    logger.warn("refused a non-loopback client", { path: c.req.path, remoteAddress: address ?? "unknown" });
    return jsonError(
      c,
      403,
      "The local server answers loopback clients only. Set LOCAL_ALLOW_REMOTE=true to serve other hosts.",
    );
  };
}
