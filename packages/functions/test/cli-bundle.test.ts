import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../scripts/build-cli";
import { DEV_DEFAULTS } from "../src/settings";
import { repoRoot, type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/** `npm run build:cli`: the CLI as one executable bundle, for VICTORIA_BIN without tsx's start-up. */
const OUT_DIR = fileURLToPath(new URL("../dist/cli-bundle-test", import.meta.url));
let cli: string;
let dir: string;

const run = (command: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(command, args, {
    cwd: repoRoot,
    env: { ...process.env, VICTORIA_CONFIG: "", ...env },
    encoding: "utf8",
  });

beforeAll(async () => {
  cli = await buildCli(OUT_DIR);
  dir = await mkdtemp(join(tmpdir(), "cli-bundle-"));
}, 60_000);

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the bundled Victoria CLI", () => {
  it("runs as an executable and prints what the sources' CLI prints", () => {
    const bundled = run(cli, ["config", "view"]);
    const sources = run(join(repoRoot, "packages/core/bin/victoria"), ["config", "view"]);
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).toMatch(/^storage_providers:/m);
    expect(bundled.stdout).toBe(sources.stdout);
  }, 30_000);

  it("loads a command's code on demand and keeps the CLI's exit codes", () => {
    const missing = run(cli, ["deadletter", "show", "nothing"], { VAULT_DIR: join(dir, "vault") });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("No dead letter with id or message id nothing in the vault.");
    const usage = run(cli, ["nosuch"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("No such command 'nosuch'.");
  });

  it("serves /execute as VICTORIA_BIN", async () => {
    let server: SpawnedServer | undefined;
    try {
      server = await spawnLocalServer({
        VICTORIA_BIN: cli,
        VAULT_DIR: join(dir, "vault"),
        AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
      });
      expect(server.logs.join("")).toContain(`command runner: external (${cli})`);
      const body = JSON.stringify({ args: ["config", "view"] });
      const response = await fetch(`${server.url}/execute`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signServiceRequest(DEV_DEFAULTS.VICTORIA_SHARED_SECRET, body),
        },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatch(/^storage_providers:/m);
    } finally {
      await server?.stop();
    }
  }, 30_000);
});
