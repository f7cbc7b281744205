import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { zValidator } from "@hono/zod-validator";
import * as z from "@victoria/core/validation/zod";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peakRssGrowth, uploadChunked } from "../../test/chunked-upload";
import { limitBodySize } from "./body-size-limit";
import { withLingeringClose } from "./lingering-close";

const app = new Hono().post("/echo", limitBodySize(10), async (c) =>
  c.text(`got ${(await c.req.text()).length}`),
);

function chunked(text: string): RequestInit {
  // A stream has no Content-Length: the limit must measure what arrives.
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return { method: "POST", body, duplex: "half" } as RequestInit;
}

describe("limitBodySize", () => {
  it("refuses a declared Content-Length over the limit before reading, naming the limit", async () => {
    const response = await app.request("/echo", {
      method: "POST",
      body: "x".repeat(11),
      headers: { "content-length": "11" },
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: "Payload too large",
      message: "Request body exceeds 10 bytes",
    });
  });

  it("measures a body sent without Content-Length, in bytes not characters", async () => {
    expect((await app.request("/echo", chunked("é".repeat(6)))).status).toBe(413);
    const small = await app.request("/echo", chunked("é".repeat(5)));
    expect([small.status, await small.text()]).toEqual([200, "got 5"]);
  });

  it("lets a body at the limit through, readable by the handler", async () => {
    const response = await app.request("/echo", { method: "POST", body: "x".repeat(10) });
    expect([response.status, await response.text()]).toEqual([200, "got 10"]);
  });

  it("leaves the body stream alone when Content-Length is declared within the limit", async () => {
    // On @hono/node-server, touching `raw.body` turns the lightweight request into a full one.
    const request = new Request("http://localhost/echo", {
      method: "POST",
      body: "x".repeat(10),
      headers: { "content-length": "10" },
    });
    let touched = false;
    Object.defineProperty(request, "body", {
      get() {
        touched = true;
        return Reflect.get(Request.prototype, "body", request);
      },
    });
    const response = await app.fetch(request);
    expect([response.status, await response.text(), touched]).toEqual([200, "got 10", false]);
  });

  it("hands a streamed body to c.req.json(), parseBody() and zValidator without reading it twice", async () => {
    const json = new Hono().post(
      "/json",
      limitBodySize(100),
      zValidator("json", z.object({ args: z.array(z.string()) })),
      async (c) =>
        c.json({ valid: c.req.valid("json"), again: await c.req.json(), text: await c.req.text() }),
    );
    const body = JSON.stringify({ args: ["config", "view"] });
    const response = await json.request("/json", {
      ...chunked(body),
      headers: { "content-type": "application/json" },
    });
    expect(await response.json()).toEqual({
      valid: { args: ["config", "view"] },
      again: { args: ["config", "view"] },
      text: body,
    });

    const form = new Hono().post("/form", limitBodySize(100), async (c) => c.json(await c.req.parseBody()));
    const posted = await form.request("/form", {
      ...chunked("payload=%7B%7D&x=1"),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(await posted.json()).toEqual({ payload: "{}", x: "1" });
  });

  it("decodes as Request.text() does: a BOM dropped, bad bytes replaced", async () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xff, 0x62]);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    const response = await new Hono()
      .post("/t", limitBodySize(10), async (c) => c.text(await c.req.text()))
      .request("/t", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(await response.text()).toBe(await new Response(body).text());
  });
});

describe("limitBodySize over the wire (@hono/node-server)", () => {
  const LIMIT = 256 * 1024;
  let server: ReturnType<typeof serve>;
  let url: string;

  beforeAll(async () => {
    const wire = new Hono().post("/upload", limitBodySize(LIMIT), async (c) =>
      c.text(`got ${(await c.req.text()).length}`),
    );
    // As the local server serves: a refusal mid-upload is answered in full before the close.
    server = serve({ fetch: withLingeringClose(wire.fetch), port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("takes a chunked body within the limit", async () => {
    const result = await uploadChunked(url, { bytes: 200 * 1024 });
    expect([result.status, result.text, result.errorCode]).toEqual([200, `got ${200 * 1024}`, undefined]);
  });

  it("answers a 50 MB chunked upload 413 as soon as it passes the limit, then closes, holding no more than the limit", async () => {
    const bytes = 50 * 1024 * 1024;
    const { result, growth } = await peakRssGrowth(() => uploadChunked(url, { bytes }));
    expect(result.status).toBe(413);
    expect(JSON.parse(result.text)).toEqual({
      error: "Payload too large",
      message: `Request body exceeds ${LIMIT} bytes`,
    });
    expect(result.headers?.connection).toBe("close");
    // Answered long before the upload could have ended; the server then closed the connection.
    expect(result.sentWhenAnswered).toBeLessThan(bytes / 4);
    expect(result.sent).toBeLessThan(bytes);
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });
});
