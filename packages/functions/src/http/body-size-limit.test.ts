import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { limitBodySize } from "./body-size-limit";

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
    const response = await app.request("/echo", { method: "POST", body: "x".repeat(11) });
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
});
