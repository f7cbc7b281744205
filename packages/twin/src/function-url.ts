import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FunctionHost } from "./function-host";

/** A Function URL refuses request payloads over 6 MB (Lambda's synchronous invocation limit). */
export const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Content types Lambda passes as text; anything else arrives base64-encoded. */
const TEXT_TYPE = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

export interface FunctionUrl {
  /** `http://127.0.0.1:<port>/`, with the trailing slash a real Function URL has. */
  url: string;
  close(): Promise<void>;
}

/** The Function URL event (payload format 2.0) for one HTTP request, as AWS builds it. */
export function functionUrlEvent(req: IncomingMessage, body: Buffer, host: string): Record<string, unknown> {
  const url = new URL(req.url ?? "/", "http://twin");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const cookies = req.headers.cookie?.split(/;\s*/).filter(Boolean);
  const contentType = req.headers["content-type"] ?? "";
  const text = body.length === 0 || TEXT_TYPE.test(contentType);
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams.entries()) } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: host.split(".")[0],
      domainName: host,
      domainPrefix: host.split(".")[0],
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: req.headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !text,
  };
}

/** Writes what the handler returned the way a Function URL does (a bare value becomes JSON 200). */
function writeResult(res: ServerResponse, result: unknown): void {
  const shaped =
    result !== null && typeof result === "object" && "statusCode" in result
      ? (result as {
          statusCode: number;
          headers?: Record<string, string>;
          body?: string;
          isBase64Encoded?: boolean;
          cookies?: string[];
        })
      : { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(result) };
  const headers: Record<string, string | string[]> = { ...(shaped.headers ?? {}) };
  if (shaped.cookies?.length) headers["set-cookie"] = shaped.cookies;
  const body = shaped.body === undefined ? "" : shaped.body;
  res.writeHead(shaped.statusCode, headers);
  res.end(shaped.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

/** Serves one function behind a loopback Function URL: HTTP in, payload v2 event, its response out. */
export async function serveFunctionUrl(
  host: FunctionHost,
  { port = 0, log }: { port?: number; log: (line: string) => void },
): Promise<FunctionUrl> {
  let domain = "";
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > FUNCTION_URL_MAX_REQUEST_BYTES) {
        res.writeHead(413, { "content-type": "application/json", connection: "close" });
        res.end(
          JSON.stringify({
            Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
          }),
        );
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const outcome = await host.invoke(functionUrlEvent(req, Buffer.concat(chunks), domain));
    if (!outcome.ok) {
      // What a Function URL answers when the function errors or times out.
      log(`${host.id} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ Message: "Internal Server Error" }));
      return;
    }
    writeResult(res, outcome.result);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  domain = `${host.functionName.toLowerCase()}.lambda-url.twin.localhost`;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
