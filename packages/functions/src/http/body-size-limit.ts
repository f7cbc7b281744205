import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { refuseUnreadBody } from "./refuse-unread-body";

/** Past this much thrown away, the rest of a refused upload is cancelled (the connection dropped). */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * Reads what is left of a refused upload and throws it away, in the background. Cancelling at once
 * would destroy Node's socket before the 413 is written; leaving the stream alone would let Node's
 * `Readable.toWeb` queue the rest of the upload (thousands of chunks) in memory. Whatever closes
 * the connection ends this.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      discarded += value.byteLength;
      if (discarded > MAX_DISCARDED_BYTES) return await reader.cancel();
    }
  } catch {
    // The connection went away: nothing is left to discard.
  }
}

/** The bytes of a body, or undefined as soon as they pass `maxBytes` (the rest is never kept). */
async function readWithin(body: ReadableStream<Uint8Array> | null, maxBytes: number) {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      void discardRest(reader);
      return undefined;
    }
    chunks.push(value);
  }
}

/**
 * Hono declares `bodyCache` by the resolved types, but `c.req.text()`, `json()`, `parseBody()` and
 * the validators read promises from it: this is how a body read here is read once.
 */
function cacheText(c: Context, text: string): void {
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
}

/**
 * 413 for a body over `maxBytes`, named in the message, without ever holding more than `maxBytes`
 * of it. A declared Content-Length is checked before anything is read, and a body within it is
 * left alone: reading `c.req.raw.body` on @hono/node-server turns the lightweight request into a
 * full web `Request` with a converted stream, which cost a quarter of the CPU of a Slack
 * acknowledgement under load (bench/ack-path). A body of unknown size (chunked) is streamed with a
 * byte count and given up as soon as it passes the limit; what was read is cached for the
 * signature check and the handler. Run it after the checks that need no body (token, signature
 * headers), so an unauthenticated upload is refused before any of it is read.
 */
export function limitBodySize(maxBytes: number) {
  const refuse = (c: Context) => refuseUnreadBody(c, 413, `Request body exceeds ${maxBytes} bytes`);
  return createMiddleware(async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (Number(declared) > maxBytes) return refuse(c);
      return next();
    }
    if (Object.keys(c.req.bodyCache).length > 0) {
      // Already read by an earlier middleware: measure what it read.
      if (Buffer.byteLength(await c.req.text(), "utf8") > maxBytes) return refuse(c);
      return next();
    }
    const bytes = await readWithin(c.req.raw.body, maxBytes);
    if (bytes === undefined) return refuse(c);
    // As `Request.text()` decodes: UTF-8, a leading BOM dropped, bad sequences replaced.
    cacheText(c, new TextDecoder().decode(bytes));
    return next();
  });
}
