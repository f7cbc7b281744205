import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_DEFAULTS } from "./settings";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/** Starts `npm start`'s entry point as its own process on a free port and reads the URL it prints. */
async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; logs: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", "packages/functions/src/local.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: "0",
      VICTORIA_SHARED_SECRET: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${logs.join("")}`)), 15_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      logs.push(chunk.toString());
      const match = /listening on (http:\/\/\S+)/.exec(logs.join(""));
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${logs.join("")}`)));
  });
  return { url, child, logs };
}

async function execute(url: string, args: string[], secret: string = DEV_DEFAULTS.VICTORIA_SHARED_SECRET) {
  const body = JSON.stringify({ args });
  return fetch(`${url}/execute`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signServiceRequest(secret, body) },
  });
}

describe("local server (npm start)", () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    server = await startServer({});
  });

  afterAll(async () => {
    server.child.kill("SIGTERM");
    await once(server.child, "exit");
  });

  it("listens on loopback and prints its routes and which defaults it used", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const banner = server.logs.join("");
    expect(banner).toContain(`POST ${server.url}/execute`);
    expect(banner).toContain("VICTORIA_SHARED_SECRET");
    expect(banner).not.toContain(DEV_DEFAULTS.VICTORIA_SHARED_SECRET);
  });

  it("answers GET /health", async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("runs `config view` for a request signed with the development secret", async () => {
    const res = await execute(server.url, ["config", "view"]);
    expect(res.status).toBe(200);
    expect(await res.json()).toContain("plugins_config:\n  config:\n    indent: 2");
  });

  it("refuses a request signed with another secret", async () => {
    const res = await execute(server.url, ["config", "view"], "not-the-secret");
    expect(res.status).toBe(401);
  });

  it.each(["/authenticate", "/listener", "/resolve"])(
    "answers 501 on %s until its issue lands",
    async (path) => {
      const res = await fetch(`${server.url}${path}`, { method: "POST" });
      expect(res.status).toBe(501);
      expect(await res.json()).toMatchObject({ error: "Not implemented" });
    },
  );
});

describe("local server with VICTORIA_BIN", () => {
  it("runs commands through the external executable with the same contract", async () => {
    const server = await startServer({ VICTORIA_BIN: `${root}packages/core/bin/victoria` });
    try {
      const ok = await execute(server.url, ["--version"]);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatch(/^victoria, version \d+\.\d+\.\d+\n$/);
      const usage = await execute(server.url, ["config", "nope"]);
      expect(usage.status).toBe(500);
      expect(await usage.json()).toMatchObject({
        error: "Command failed: non-zero status code",
        message: expect.stringContaining("No such command 'nope'."),
      });
    } finally {
      server.child.kill("SIGTERM");
      await once(server.child, "exit");
    }
  });
});
