import { IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

export interface LingerOptions {
  /** Longest wait for the client to stop sending after the answer. */
  lingerMs?: number;
  /** Most bytes read (and discarded) while waiting. */
  maxBytes?: number;
}

function outgoingHeaders(response: Response, length: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  headers["content-length"] = length;
  return headers;
}

/**
 * Lingering close for `@hono/node-server`, as nginx and Go's net/http do it. An answer with
 * `Connection: close` to a request whose upload is still arriving (a refusal that did not read the
 * body) makes Node close the socket as soon as the answer is written; the unread bytes make the
 * kernel send a reset, and a client that is still writing (Node's own http client among them)
 * fails with EPIPE without ever reading the answer. So such an answer is written in full, what the
 * client still sends is read and thrown away until it stops, `lingerMs` pass or `maxBytes` are
 * read, and only then is the response ended (and the connection closed). Memory stays flat; every
 * other response passes through untouched.
 */
export function withLingeringClose(
  fetch: Fetch,
  { lingerMs = 1_000, maxBytes = 64 * 1024 * 1024 }: LingerOptions = {},
): Fetch {
  const linger = (response: Response, { incoming, outgoing }: HttpBindings): Response | Promise<Response> => {
    if (incoming.complete || response.headers.get("connection")?.toLowerCase() !== "close") return response;
    return response.arrayBuffer().then((body) => {
      outgoing.writeHead(response.status, outgoingHeaders(response, body.byteLength));
      outgoing.write(new Uint8Array(body));
      let discarded = 0;
      let ended = false;
      const done = () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        incoming.off("data", discard);
        outgoing.end();
      };
      const discard = (chunk: Buffer) => {
        discarded += chunk.length;
        if (discarded > maxBytes) done();
      };
      const timer = setTimeout(done, lingerMs);
      incoming.on("data", discard);
      // A client that gives up mid-upload is an error on `incoming`: expected here, so it only ends the wait.
      incoming.once("end", done).once("close", done).on("error", done);
      incoming.resume();
      // The upload may have ended (or the client gone) while the answer was being prepared.
      if (incoming.readableEnded || incoming.destroyed) done();
      return RESPONSE_ALREADY_SENT;
    });
  };
  return (request, env) => {
    // HTTP/2 refuses a stream without tearing the connection down: nothing to do there.
    if (!(env.incoming instanceof IncomingMessage)) return fetch(request, env);
    const bindings = env as HttpBindings;
    const response = fetch(request, bindings);
    return response instanceof Promise
      ? response.then((answer) => linger(answer, bindings))
      : linger(response, bindings);
  };
}
