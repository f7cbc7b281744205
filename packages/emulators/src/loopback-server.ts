import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as a stand-in's handlers see it. */
export interface Exchange<R> {
  req: IncomingMessage;
  res: ServerResponse;
  /** This request's entry in the stand-in's request log. */
  record: R;
  /** A fresh UUID for this request. */
  requestId: string;
}

export interface LoopbackHandlers<R extends { status: number }> {
  /** What the request log keeps of a request; `status` is set to the answer's once it is sent. */
  record(req: IncomingMessage): R;
  /** Answers the request. */
  handle(exchange: Exchange<R>): Promise<void>;
  /**
   * Answers instead when `handle` fails before sending headers (the request body is drained first);
   * when it fails after, the connection is destroyed.
   */
  refuse(exchange: Exchange<R>, error: unknown): void;
}

export interface LoopbackServer {
  /** e.g. `http://127.0.0.1:54321`. */
  endpoint: string;
  /** Stops the server, dropping the connections clients keep alive. */
  close(): Promise<void>;
}

/** The message of an unexpected failure inside a stand-in, for its 500 answer. */
export function standInFailure(error: unknown): string {
  return `Stand-in failure: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Starts a stand-in's HTTP server, on 127.0.0.1 and a free port unless told otherwise. Every
 * request, refused ones included, is appended to `requests`.
 */
export async function startLoopbackServer<R extends { status: number }>(
  options: { host?: string; port?: number },
  requests: R[],
  handlers: LoopbackHandlers<R>,
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    const exchange: Exchange<R> = { req, res, record: handlers.record(req), requestId: randomUUID() };
    requests.push(exchange.record);
    res.on("finish", () => {
      exchange.record.status = res.statusCode;
    });
    handlers.handle(exchange).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Refused before the body was read: drain it so the client sees the answer, not a reset.
      req.resume();
      handlers.refuse(exchange, error);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    endpoint: `http://${host}:${address.port}`,
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}
