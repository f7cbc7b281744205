import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { createVictoria } from "@victoria/core/victoria/engine";
import { createInProcessRunner } from "@victoria/core/victoria/in-process-runner";
import { definePlugin } from "@victoria/core/victoria/plugin";
import { configPlugin } from "@victoria/core/victoria/plugins/config";
import { describe, expect, it } from "vitest";
import { createApp } from "../app";
import { executeRoute, MAX_ARG_LENGTH, MAX_ARGS } from "./execute";

const SECRET = "test-shared-secret";

const crashPlugin = definePlugin({
  name: "crash",
  summary: "Throws an unexpected error.",
  commands: [
    {
      name: "now",
      summary: "Crash.",
      sensitive: false,
      args: [],
      async run() {
        throw new RangeError("engine exploded");
      },
    },
  ],
});

function setup() {
  const logger = createMemoryLogger();
  const victoria = createVictoria({
    plugins: [configPlugin, crashPlugin],
    providers: { encryption: {}, storage: {} },
    env: {},
  });
  const runner = createInProcessRunner({ victoria, configPath: null, timeoutMs: 5_000 });
  const router = executeRoute({ runner, sharedSecret: SECRET, logger });
  const app = createApp({ logger, routes: [{ path: "/execute", method: "POST", router }] });
  return { app, logger };
}

function signed(body: string, headers: Record<string, string> = {}, secret = SECRET, now?: number) {
  return {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signServiceRequest(secret, body, now), ...headers },
  };
}

const json = (value: unknown) => JSON.stringify(value);

describe("POST /execute", () => {
  it("runs a signed command and answers 200 with the JSON string of its output", async () => {
    const { app, logger } = setup();
    const res = await app.request("/execute", signed(json({ args: ["config", "view"] })));
    expect(res.status).toBe(200);
    const body = (await res.json()) as string;
    expect(typeof body).toBe("string");
    expect(body).toContain("plugins_config:\n  config:\n    indent: 2");
    const line = logger.lines.find((l) => l.message === "execute");
    expect(line).toMatchObject({ route: "/execute", argsCount: 2, exitStatus: 0 });
    expect(line?.requestId).toEqual(expect.any(String));
    expect(line?.durationMs).toEqual(expect.any(Number));
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
  });

  it("uses the caller's X-Request-Id in the log", async () => {
    const { app, logger } = setup();
    await app.request("/execute", signed(json({ args: ["--version"] }), { "x-request-id": "req-42" }));
    expect(logger.lines.at(-1)).toMatchObject({ requestId: "req-42", exitStatus: 0 });
  });

  it("answers 500 'non-zero status code' with the output when the command fails", async () => {
    const { app } = setup();
    const res = await app.request("/execute", signed(json({ args: ["config", "nope"] })));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("Command failed: non-zero status code");
    expect(body.message).toContain("Error: No such command 'nope'.");
  });

  it("answers `help` in a command's place with what `--help` prints", async () => {
    const { app } = setup();
    const answer = async (args: string[]) => {
      const res = await app.request("/execute", signed(json({ args })));
      return { status: res.status, body: (await res.json()) as string };
    };
    const pairs: [alias: string[], flag: string[]][] = [
      [["help"], ["--help"]],
      [
        ["help", "config"],
        ["config", "--help"],
      ],
      [
        ["config", "help"],
        ["config", "--help"],
      ],
    ];
    for (const [alias, flag] of pairs) {
      const expected = await answer(flag);
      expect(expected.status).toBe(200);
      expect(expected.body).toContain("Usage: victoria");
      expect(await answer(alias)).toEqual(expected);
    }
  });

  it("carries a did-you-mean suggestion to the caller, as a usage failure", async () => {
    const { app } = setup();
    const res = await app.request("/execute", signed(json({ args: ["confg", "view"] })));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string; failureClass: string };
    expect(body).toMatchObject({ error: "Command failed: non-zero status code", failureClass: "usage" });
    expect(body.message).toContain("\nError: No such command 'confg'. Did you mean 'config'?\n");
  });

  it("answers 500 'uncaught Victoria exception detected' when the engine throws", async () => {
    const { app, logger } = setup();
    const res = await app.request("/execute", signed(json({ args: ["crash", "now"] })));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: "Command failed: uncaught Victoria exception detected",
      message: "RangeError: engine exploded",
      failureClass: "internal",
    });
    expect(logger.lines.at(-1)).toMatchObject({ exitStatus: "exception" });
  });

  it.each([
    ["no body", "", /Malformed JSON|JSON/i],
    ["bad JSON", "{args:", /Malformed JSON|JSON/i],
    ["no args", json({}), /^args: /],
    ["args not an array", json({ args: "config view" }), /^args: args must be an array of strings/],
    ["a non-string arg", json({ args: ["config", 7] }), /^args\.1: /],
    ["too many args", json({ args: Array(MAX_ARGS + 1).fill("x") }), /at most 64 arguments/],
    ["an over-long arg", json({ args: ["x".repeat(MAX_ARG_LENGTH + 1)] }), /at most 4096 characters/],
    [
      "a NUL byte in an arg",
      json({ args: ["store", "local", "get", "a\u0000b"] }),
      /^args\.3: contains a NUL byte/,
    ],
    ["a lone surrogate", json({ args: ["config", "\ud800"] }), /^args\.1: is not valid Unicode/],
  ])("answers 400 Invalid request for %s", async (_, body, message) => {
    const { app } = setup();
    const res = await app.request("/execute", signed(body));
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe("Invalid request");
    expect(answer.message).toMatch(message);
  });

  it("answers 415 naming the content type when it is not JSON", async () => {
    const { app } = setup();
    const res = await app.request("/execute", signed(json({ args: [] }), { "content-type": "text/plain" }));
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      error: "Unsupported media type",
      message: "Content-Type must be application/json (got 'text/plain')",
    });
  });

  it.each([
    ["no signature headers", () => ({ method: "POST", body: json({ args: [] }) })],
    ["a wrong secret", () => signed(json({ args: [] }), {}, "guessed-secret")],
    ["a stale timestamp", () => signed(json({ args: [] }), {}, SECRET, Math.floor(Date.now() / 1000) - 301)],
    ["a future timestamp", () => signed(json({ args: [] }), {}, SECRET, Math.floor(Date.now() / 1000) + 301)],
    [
      "a body changed after signing",
      () => ({ ...signed(json({ args: ["config", "view"] })), body: json({ args: ["config", "path"] }) }),
    ],
  ])("answers 401 for %s and never runs the command", async (_, request) => {
    const { app, logger } = setup();
    const res = await app.request("/execute", request());
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("Unauthorized");
    expect(body.message).not.toContain(SECRET);
    expect(logger.lines.some((l) => l.message === "execute")).toBe(false);
  });

  it("answers 413 for an oversized body", async () => {
    const { app } = setup();
    const res = await app.request("/execute", signed(json({ args: ["x".repeat(70_000)] })));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: "Payload too large",
      message: "Request body exceeds 65536 bytes",
    });
  });

  it("answers 405 with Allow for the wrong method and 404 JSON for an unknown path", async () => {
    const { app } = setup();
    const wrong = await app.request("/execute", { method: "GET" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(await wrong.json()).toEqual({
      error: "Method not allowed",
      message: "/execute accepts POST only",
    });
    const missing = await app.request("/nowhere", { method: "POST" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "Not found", message: "No route for POST /nowhere" });
  });
});
