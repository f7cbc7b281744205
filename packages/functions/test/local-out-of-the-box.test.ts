import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_DEFAULTS } from "../src/settings";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * `npm start` in a fresh folder (what a fresh clone has: no `.victoria/`), driven over the wire:
 * the headline commands and the Email button work with nothing configured.
 */

async function execute(url: string, args: string[]): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify({ args });
  const response = await fetch(`${url}/execute`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      ...signServiceRequest(DEV_DEFAULTS.VICTORIA_SHARED_SECRET, body),
    },
  });
  return { status: response.status, body: await response.json() };
}

/** A command's output; fails the test, with what it said, unless it exited 0. */
async function output(url: string, args: string[]): Promise<string> {
  const { status, body } = await execute(url, args);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as string;
}

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function api(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/workbench/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

interface PageState {
  messages: Array<{ ts: string; blocks?: unknown[]; text?: string }>;
  vault: { records: Array<{ id: string; state: string; messageId: string }> };
  view?: { id: string; view: { callback_id?: string } };
}

const state = async (url: string): Promise<PageState> =>
  (await (await fetch(`${url}/workbench/api/state?user=U0MEMBER`)).json()) as PageState;

let dir: string;
let server: SpawnedServer;
/** An envelope made by the first server, to open after a restart and with the Key Vault stand-in. */
let envelope = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-fresh-"));
  server = await spawnLocalServer({}, { cwd: dir });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm start in a fresh folder: encrypt and store work at once", () => {
  it("says where its engine config, key, store and mail are", () => {
    const banner = server.logs.join("");
    expect(banner).toContain("victoria config: .victoria/victoria.local.yaml");
    expect(banner).toContain("encrypt: local key .victoria/local-key.pem (made now;");
    expect(banner).toContain("store: local → .victoria/store");
    expect(banner).toMatch(/email: SMTP stand-in smtp:\/\/127\.0\.0\.1:\d+/);
  });

  it("made a private local key and wrote the config it uses", async () => {
    const key = await stat(join(dir, ".victoria/local-key.pem"));
    expect(key.mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, ".victoria/local-key.pem"), "utf8")).toMatch(
      /^-----BEGIN PRIVATE KEY-----/,
    );
    const yaml = await readFile(join(dir, ".victoria/victoria.local.yaml"), "utf8");
    expect(yaml).toContain('key_file: ".victoria/local-key.pem"');
    expect((await output(server.url, ["config", "path"])).trim()).toBe(".victoria/victoria.local.yaml");
  });

  it("encrypts and decrypts: encrypt data, then encrypt decrypt --envelope", async () => {
    envelope = await output(server.url, ["encrypt", "data", "hello"]);
    expect(envelope).toMatch(/^data: \S+\niv: \S+\nkey: \S+\nversion: [0-9a-f]{32}\n$/);
    expect(await output(server.url, ["encrypt", "decrypt", "--envelope", envelope])).toBe("hello\n");
  });

  it("stores and reads back: store local put --data, get, ls", async () => {
    await output(server.url, ["store", "local", "put", "--data", "x", "KEY"]);
    expect(await output(server.url, ["store", "local", "get", "KEY"])).toBe("x\n");
    expect(await output(server.url, ["store", "local", "ls"])).toContain("KEY");
    expect(await readFile(join(dir, ".victoria/store/KEY"), "utf8")).toBe("x");
  });
});

describe("npm start in a fresh folder: the Email button sends mail the workbench shows", () => {
  it("dead letter → alert → Email → the SMTP stand-in has it, GET /workbench/api/mail lists it", async () => {
    const empty = (await (await fetch(`${server.url}/workbench/api/mail`)).json()) as Record<string, unknown>;
    expect(empty).toEqual({ available: true, total: 0, messages: [] });

    await api(server.url, "dead-letters", { queue: "orders", body: '{"order":7}', reason: "Poison" });
    await api(server.url, "alerts", { queue: "orders", kind: "azure-monitor" });
    const record = await eventually(
      async () => (await state(server.url)).vault.records.find((r) => r.state === "parked"),
      "the parked dead letter",
    );
    const notification = await eventually(
      async () =>
        (await state(server.url)).messages.find((m) => JSON.stringify(m.blocks ?? "").includes(record.id)),
      "the notification",
    );
    await api(server.url, "actions", {
      user: "U0MEMBER",
      messageTs: notification.ts,
      actionId: "deadletter_email",
      value: record.id,
    });
    const view = await eventually(async () => (await state(server.url)).view, "the email dialog");
    await api(server.url, `views/${view.id}/submit`, {
      user: "U0MEMBER",
      values: { recipient: { address: "team@example.com" }, note: { text: "please look" } },
    });

    const mail = await eventually(async () => {
      const listed = (await (await fetch(`${server.url}/workbench/api/mail`)).json()) as {
        messages: Array<Record<string, unknown>>;
      };
      return listed.messages[0];
    }, "the mail");
    expect(mail).toMatchObject({
      from: "Victoria <victoria@example.com>",
      to: ["team@example.com"],
      subject: `Dead letter ${record.messageId} on local/orders`,
    });
    expect(mail.text).toContain("please look");
    expect(Number.isNaN(Date.parse(String(mail.date)))).toBe(false);
    expect((mail.attachments as Array<{ filename: string }>).map((a) => a.filename)).toContain(
      `dead-letter-${record.id}.json`,
    );
    // The record says so too: emailed, not parked.
    await eventually(
      async () =>
        (await state(server.url)).vault.records.find((r) => r.id === record.id && r.state === "emailed"),
      "the record to be marked emailed",
    );
  });
});

describe("npm start again in the same folder", () => {
  let again: SpawnedServer;

  beforeAll(async () => {
    await server.stop();
    again = await spawnLocalServer({ VICTORIA_LOCAL_PROVIDERS: "all" }, { cwd: dir, startTimeoutMs: 30_000 });
  }, 40_000);

  afterAll(async () => {
    await again?.stop();
  });

  it("keeps its key, so the envelope made before opens now, through the Key Vault stand-in too", async () => {
    const banner = again.logs.join("");
    expect(banner).not.toContain("made now");
    expect(banner).toMatch(/encrypt: Key Vault stand-in https:\/\/127\.0\.0\.1:\d+, key 'victoria'/);
    expect(await output(again.url, ["encrypt", "decrypt", "--envelope", envelope])).toBe("hello\n");
    const fresh = await output(again.url, ["encrypt", "data", "via key vault"]);
    expect(await output(again.url, ["encrypt", "decrypt", "--envelope", fresh])).toBe("via key vault\n");
  });

  it.each(["s3", "azure"])("stores in the %s stand-in with VICTORIA_LOCAL_PROVIDERS", async (provider) => {
    await output(again.url, ["store", provider, "put", "--data", `in ${provider}`, "dir/KEY"]);
    expect(await output(again.url, ["store", provider, "get", "dir/KEY"])).toBe(`in ${provider}\n`);
    expect(await output(again.url, ["store", provider, "ls"])).toContain("dir/KEY");
  });
});

describe("a config of one's own", () => {
  it("wins, and a partial one is refused in one line naming the file, the field and what it must be", async () => {
    const file = join(dir, "partial.yaml");
    await writeFile(file, "encryption_provider:\n  provider: local\n");
    const own = await spawnLocalServer({ VICTORIA_CONFIG: file }, { cwd: dir });
    try {
      expect(own.logs.join("")).toContain(`victoria config: VICTORIA_CONFIG (${file})`);
      const { status, body } = await execute(own.url, ["encrypt", "data", "x"]);
      expect(status).toBe(500);
      const message = (body as { message: string }).message;
      expect(message).toBe(
        `Error: Config file '${file}' is invalid: logging_config is missing (expected a mapping for Python's logging dictConfig, e.g. 'logging_config: {version: 1}')\n`,
      );
    } finally {
      await own.stop();
    }
  }, 30_000);
});
