import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { createVictoria } from "@victoria/core/victoria/engine";
import {
  MAX_ARG_LENGTH,
  MAX_ARGS,
  MAX_ATTEMPT,
  MAX_REQUESTER_LENGTH,
} from "@victoria/core/victoria/execute-request";
import { createInProcessRunner } from "@victoria/core/victoria/in-process-runner";
import { definePlugin } from "@victoria/core/victoria/plugin";
import { configPlugin } from "@victoria/core/victoria/plugins/config";
import { describe, expect, it } from "vitest";
import { createApp } from "../app";
import { executeRoute } from "./execute";

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

/** Prints who the engine was told runs the command: what the audit and dead-letter resolutions record. */
const whoamiPlugin = definePlugin({
  name: "whoami",
  summary: "Prints the actor.",
  commands: [
    {
      name: "now",
      summary: "Print the actor.",
      sensitive: false,
      args: [],
      async run({ actor, out }) {
        out.out(String(actor));
      },
    },
  ],
});

function setup() {
  const logger = createMemoryLogger();
  const victoria = createVictoria({
    plugins: [configPlugin, crashPlugin, whoamiPlugin],
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

  it("keeps the caller's request id from the signed body: in the log and the answer's header", async () => {
    const { app, logger } = setup();
    const res = await app.request("/execute", signed(json({ args: ["--version"], requestId: "req-42" })));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-victoria-request-id")).toBe("req-42");
    expect(logger.lines.at(-1)).toMatchObject({ requestId: "req-42", exitStatus: 0 });
  });

  it.each([
    ["a path", "../../etc/passwd"],
    ["a space", "req 42"],
    ["too long", "r".repeat(101)],
    ["empty", ""],
    ["not a string", 42],
    ["an object", { id: "x" }],
  ])("ignores a malformed request id (%s) and mints a fresh one, never an error", async (_, requestId) => {
    const { app, logger } = setup();
    const res = await app.request("/execute", signed(json({ args: ["--version"], requestId })));
    expect(res.status).toBe(200);
    const minted = res.headers.get("x-victoria-request-id");
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);
    expect(logger.lines.at(-1)).toMatchObject({ requestId: minted, exitStatus: 0 });
  });

  it("an id added to the header of a signed request is not taken: only the signed body's counts", async () => {
    const { app, logger } = setup();
    const res = await app.request(
      "/execute",
      signed(json({ args: ["--version"] }), { "x-victoria-request-id": "swapped-in", "x-request-id": "x" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-victoria-request-id")).not.toBe("swapped-in");
    expect(logger.lines.at(-1)?.requestId).not.toBe("swapped-in");
  });

  it("a request id swapped in the body breaks the signature", async () => {
    const { app } = setup();
    const original = json({ args: ["--version"], requestId: "req-1" });
    const init = signed(original);
    const res = await app.request("/execute", {
      ...init,
      body: json({ args: ["--version"], requestId: "req-2" }),
    });
    expect(res.status).toBe(401);
  });

  describe("who asked (requester) travels in the signed body, never in a header", () => {
    // An unsigned header could be changed on a captured request and replayed within the 5 minutes.
    const whoami = { args: ["whoami", "now"] };

    it("records the body's requester as the actor", async () => {
      const { app } = setup();
      const res = await app.request("/execute", signed(json({ ...whoami, requester: "slack:U1" })));
      expect(res.status).toBe(200);
      expect(await res.json()).toBe("slack:U1\n");
    });

    it("a X-Victoria-Requester header changed on a signed request does not change who is recorded", async () => {
      const { app } = setup();
      const replayed = await app.request(
        "/execute",
        signed(json({ ...whoami, requester: "slack:U1" }), { "x-victoria-requester": "slack:UEVIL" }),
      );
      expect(replayed.status).toBe(200);
      expect(await replayed.json()).toBe("slack:U1\n");
      // Nor does one added to a request that named nobody: the engine's default actor stands.
      const plain = await app.request("/execute", signed(json(whoami)));
      const added = await app.request(
        "/execute",
        signed(json(whoami), { "x-victoria-requester": "slack:UEVIL" }),
      );
      expect(added.status).toBe(200);
      expect(await added.json()).toBe(await plain.json());
    });

    it.each([
      ["requester", { requester: "slack:U2" }],
      ["attempt", { attempt: 2 }],
    ])("a %s changed in the body after signing is refused 401 and nothing runs", async (_, change) => {
      const { app, logger } = setup();
      const init = signed(json({ ...whoami, requester: "slack:U1", attempt: 1 }));
      const res = await app.request("/execute", {
        ...init,
        body: json({ ...whoami, requester: "slack:U1", attempt: 1, ...change }),
      });
      expect(res.status).toBe(401);
      expect(logger.lines.some((l) => l.message === "execute")).toBe(false);
    });
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
    ["a requester not a string", json({ args: [], requester: 7 }), /^requester: /],
    ["an empty requester", json({ args: [], requester: "" }), /^requester: /],
    [
      "an over-long requester",
      json({ args: [], requester: "u".repeat(MAX_REQUESTER_LENGTH + 1) }),
      /^requester: /,
    ],
    ["a control character in the requester", json({ args: [], requester: "a\nb" }), /^requester: /],
    ["an attempt not a number", json({ args: [], attempt: "2" }), /^attempt: /],
    ["a fractional attempt", json({ args: [], attempt: 1.5 }), /^attempt: /],
    ["an attempt of 0", json({ args: [], attempt: 0 }), /^attempt: /],
    ["an attempt too high", json({ args: [], attempt: MAX_ATTEMPT + 1 }), /^attempt: /],
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
