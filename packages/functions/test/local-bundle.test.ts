import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputFiles } from "../scripts/build-lambdas";
import { buildLocalServer, LOCAL_METAFILE } from "../scripts/build-local";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/** `npm start` runs the bundled local server in plain node: it must serve what the sources serve. */
const OUT_DIR = fileURLToPath(new URL("../dist/local-bundle-test", import.meta.url));
let server: SpawnedServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-bundle-"));
  const entry = await buildLocalServer(OUT_DIR);
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
