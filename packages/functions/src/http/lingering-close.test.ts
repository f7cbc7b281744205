import { type AddressInfo, connect } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadChunked } from "../../test/chunked-upload";
import { withLingeringClose } from "./lingering-close";

const app = new Hono()
  .post("/refuse", (c) => {
    // As refuseUnreadBody answers: the body is never read.
    c.header("Connection", "close");
    return c.json({ error: "Payload too large", message: "no" }, 413);
  })
  .post("/echo", async (c) => c.text(await c.req.text()));

interface RawExchange {
  /** Everything the server sent back. */
  text: string;
  errorCode?: string;
  elapsedMs: number;
}

/**
 * A client that uploads the way a careless or hostile one does: it writes a chunked body without
 * looking at the answer (and, with `endless`, never stops), then reports what came back.
 */
function rawUpload(port: number, { bytes = 0, endless = false }: { bytes?: number; endless?: boolean }) {
  const started = performance.now();
  return new Promise<RawExchange>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const exchange: RawExchange = { text: "", elapsedMs: 0 };
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      exchange.text += text;
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      exchange.errorCode = error.code;
    });
    socket.on("close", () => {
      exchange.elapsedMs = performance.now() - started;
      resolve(exchange);
    });
    socket.write("POST /refuse HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = Buffer.alloc(64 * 1024, "x");
    let sent = 0;
    const pump = () => {
      while (!socket.destroyed && (endless || sent < bytes)) {
        sent += chunk.length;
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        if (!socket.write("\r\n")) {
          socket.once("drain", pump);
          return;
        }
      }
      if (!socket.destroyed) socket.end("0\r\n\r\n");
    };
    pump();
  });
}

function listen(fetch: Parameters<typeof serve>[0]["fetch"]) {
  const server = serve({ fetch, port: 0, hostname: "127.0.0.1" });
  return new Promise<ReturnType<typeof serve>>((resolve) => server.once("listening", () => resolve(server)));
}

describe("withLingeringClose", () => {
  let server: ReturnType<typeof serve>;
  let port: number;

  beforeAll(async () => {
    server = await listen(withLingeringClose(app.fetch, { lingerMs: 300 }));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("answers a refusal in full, throws the rest of the upload away, then closes without a reset", async () => {
    const exchange = await rawUpload(port, { bytes: 8 * 1024 * 1024 });
    const [head, body] = exchange.text.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head?.toLowerCase()).toContain("connection: close");
    expect(JSON.parse(body ?? "")).toEqual({ error: "Payload too large", message: "no" });
    expect(exchange.errorCode).toBeUndefined();
  });

  it("stops waiting after lingerMs for a client that never stops sending", async () => {
    const exchange = await rawUpload(port, { endless: true });
    expect(exchange.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.elapsedMs).toBeLessThan(5_000);
  });

  it("lets a Node client that is still uploading read the refusal", async () => {
    const result = await uploadChunked(`http://127.0.0.1:${port}/refuse`, { bytes: 50 * 1024 * 1024 });
    expect([result.status, result.headers?.connection]).toEqual([413, "close"]);
    expect(JSON.parse(result.text)).toEqual({ error: "Payload too large", message: "no" });
  });

  it("leaves every other answer to the server as it is, keep-alive included", async () => {
    const echoed = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", body: "hello" });
    expect([echoed.status, await echoed.text(), echoed.headers.get("connection")]).toEqual([
      200,
      "hello",
      "keep-alive",
    ]);
    // A refusal whose (small) body has already arrived needs no lingering either.
    const refused = await fetch(`http://127.0.0.1:${port}/refuse`, { method: "POST", body: "x" });
    expect([refused.status, refused.headers.get("connection")]).toEqual([413, "close"]);
  });
});
