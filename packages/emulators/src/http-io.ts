import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The whole request body as bytes. Past `limit` bytes it stops keeping chunks but still reads to
 * the end: enough to tell the body is too large (`tooLarge`) without holding all of it.
 */
export function readBodyBytes(
  req: IncomingMessage,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit + chunk.length) chunks.push(chunk);
    });
    req.on("end", () => resolve({ body: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on("error", reject);
  });
}

/** The whole request body as UTF-8 (stand-in bodies are small). */
export function readBody(req: IncomingMessage): Promise<string> {
  return readBodyBytes(req).then(({ body }) => body.toString("utf8"));
}

/** A request header's value; the first one when it was sent more than once. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Answers with `text` as the whole body, its type and length set ahead of `headers`. */
export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers with a JSON body (none when `body` is undefined), as Azure's REST services do. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  sendText(res, status, "application/json; charset=utf-8", text, headers);
}
