import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { isLoopbackAddress, loopbackOnly } from "./loopback-guard";

describe("isLoopbackAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["::FFFF:127.0.0.1", true],
    ["10.0.0.5", false],
    ["192.168.1.10", false],
    ["::ffff:10.0.0.5", false],
    ["fe80::1", false],
    ["127.0.0.1.evil", false],
    ["", false],
    [undefined, false],
  ])("%s → %s", (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe("loopbackOnly", () => {
  // @hono/node-server hands routes the Node request as `env.incoming`; the guard reads its socket.
  const clientAt = (remoteAddress: string | undefined) => ({ incoming: { socket: { remoteAddress } } });

  function appWith(allowRemote: boolean) {
    const logger = createMemoryLogger();
    const app = new Hono().use(loopbackOnly({ allowRemote, logger })).get("/health", (c) => c.text("ok"));
    return { app, logger };
  }

  it("serves loopback clients", async () => {
    const { app } = appWith(false);
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      const response = await app.request("/health", {}, clientAt(address));
      expect(response.status, address).toBe(200);
    }
  });

  it("refuses other hosts with a 403 that says how to allow them, and logs the refusal", async () => {
    const { app, logger } = appWith(false);
    const response = await app.request("/health", {}, clientAt("203.0.113.7"));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: "Forbidden",
      message:
        "The local server answers loopback clients only. Set LOCAL_ALLOW_REMOTE=true to serve other hosts.",
    });
    expect(logger.lines).toMatchObject([{ level: "warn", remoteAddress: "203.0.113.7", path: "/health" }]);
  });

  it("fails closed when the client's address is unknown", async () => {
    const { app } = appWith(false);
    expect((await app.request("/health", {}, clientAt(undefined))).status).toBe(403);
    expect((await app.request("/health")).status).toBe(403);
  });

  it("serves everyone when the operator opted in", async () => {
    const { app } = appWith(true);
    expect((await app.request("/health", {}, clientAt("203.0.113.7"))).status).toBe(200);
  });
});
