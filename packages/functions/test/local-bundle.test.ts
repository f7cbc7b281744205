import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputFiles } from "../scripts/build-lambdas";
import { buildLocalServer, LOCAL_METAFILE } from "../scripts/build-local";
import { bundleStaleReason } from "../scripts/bundle-stamp.mjs";
import { repoRoot, type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/** `npm start` runs the bundled local server in plain node: it must serve what the sources serve. */
const OUT_DIR = fileURLToPath(new URL("../dist/local-bundle-test", import.meta.url));
let server: SpawnedServer;
let dir: string;
let entry: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-bundle-"));
  entry = await buildLocalServer(OUT_DIR);
  server = await spawnLocalServer(
    { VAULT_DIR: join(dir, "vault"), AUDIT_LOG_FILE: join(dir, "audit.jsonl") },
    { bundle: entry },
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(OUT_DIR, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the bundle until it exits by itself (a start that fails), with the embedded defaults. */
async function runUntilExit(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [entry], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: "0",
      SLACK_API_URL: "",
      SERVICE_BUS_CONNECTIONS: "",
      VICTORIA_BIN: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("the bundled local server (npm start)", () => {
  it("answers /health, serves the workbench page and compiles its script", async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok" });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/workbench/workbench.js");
    const script = await fetch(`${server.url}/workbench/workbench.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("/workbench/api/state");
  });

  it("records its inputs, so the next `npm start` skips the build until one changes", () => {
    expect(bundleStaleReason(OUT_DIR, "local.mjs")).toBeUndefined();
  });

  it("starts without compiling the cloud SDKs: they load when first used", async () => {
    const metafile = JSON.parse(await readFile(join(OUT_DIR, LOCAL_METAFILE), "utf8")) as Metafile;
    const atStart = outputFiles(metafile, "local.mjs").initial;
    const inputs = atStart.flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {}));
    expect(inputs.some((input) => input.includes("packages/functions/src/local-server.ts"))).toBe(true);
    for (const lazy of ["@aws-sdk/client-s3", "@azure/service-bus", "@slack/web-api", "yaml"])
      expect(inputs.filter((input) => input.includes(`node_modules/${lazy}/`))).toEqual([]);
  });

  it("runs a member's slash command end to end through the embedded stand-ins", async () => {
    const post = await fetch(`${server.url}/workbench/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "U0MEMBER", text: "/victoria config view" }),
    });
    expect(await post.json()).toMatchObject({ sent: { route: "/authenticate", status: 200 } });
    const deadline = Date.now() + 10_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const state = (await (await fetch(`${server.url}/workbench/api/state?user=U0MEMBER`)).json()) as {
        messages: Array<{ text?: string }>;
      };
      found = state.messages.some((m) => m.text?.includes("storage_providers"));
      if (!found) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(found).toBe(true);
  });
});

describe("the bundled local server refuses to start on a bad configuration", () => {
  it.each([
    [
      "SMTP_URL without MAIL_FROM",
      { SMTP_URL: "smtp://127.0.0.1:2525", MAIL_FROM: "" },
      ["SMTP_URL", "MAIL_FROM"],
    ],
    [
      "a MAIL_FROM that is not an address (the SMTP stand-in sends from it)",
      { SMTP_URL: "", MAIL_FROM: "victoria at example" },
      ["MAIL_FROM"],
    ],
    ["an unknown stand-in", { VICTORIA_LOCAL_PROVIDERS: "s3,dynamo" }, ["VICTORIA_LOCAL_PROVIDERS"]],
    ["a PORT that is not a port", { PORT: "eighty" }, ["PORT"]],
    ["a REPLAY_LIMIT that is not a number", { REPLAY_LIMIT: "many" }, ["REPLAY_LIMIT"]],
  ])("%s: one line naming the variables, exit 1, before listening", async (_, env, named) => {
    const { code, stdout, stderr } = await runUntilExit(entry, {
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
      ...env,
    });
    expect(code).toBe(1);
    expect(stdout).not.toContain("listening");
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Could not start/);
    for (const name of named) expect(lines[0]).toContain(name);
    expect(stderr).not.toMatch(/\bat |Error:|Unhandled|node:internal/);
    // Never the values: SMTP_URL may carry a password.
    expect(stderr).not.toContain("127.0.0.1:2525");
  });
});
