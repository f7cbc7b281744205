import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "@victoria/core/security/audit-log";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import type { Plugin } from "@victoria/core/victoria/plugin";
import { corePlugins } from "@victoria/core/victoria/plugins/core-plugins";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../scripts/build-cli";
import { eventually } from "./eventually";
import { type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/*
 * The whole command tree, tried as a remote caller would: every positional and every option of
 * every command of every plugin, given a server file, over the wire to the local server (in-process
 * engine) and to one running VICTORIA_BIN. A plugin added later is covered without touching this.
 * Nothing the server holds may come back: its environment, /etc/passwd, its config's credentials,
 * its encryption key.
 */

const ENV_SENTINEL = `env-sentinel-${randomBytes(8).toString("hex")}`;
const CONFIG_SENTINEL = `config-sentinel-${randomBytes(8).toString("hex")}`;
const SHARED_SECRET = `shared-${randomBytes(12).toString("hex")}`;
const PASSWD_MARK = "root:x:0:0";

let dir: string;
let keyMark: string;
let keyFile: string;
let configFile: string;
let cli: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "surface-"));
  // A VICTORIA_BIN child may run as `nobody`: it must be able to read its config, as in production.
  await chmod(dir, 0o755);
  await mkdir(join(dir, "store"), { mode: 0o777 });
  await chmod(join(dir, "store"), 0o777);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  keyMark = pem.split("\n")[5] as string;
  keyFile = join(dir, "victoria.pem");
  await writeFile(keyFile, pem, { mode: 0o644 });
  configFile = join(dir, "victoria.yaml");
  await writeFile(
    configFile,
    [
      "logging_config: {}",
      "encryption_provider:",
      "  provider: local",
      `  config: {key_file: ${JSON.stringify(keyFile)}}`,
      "storage_providers:",
      `  local: {container: ${JSON.stringify(join(dir, "store"))}}`,
      `  azure: {container: c, connection_string: "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=${CONFIG_SENTINEL};BlobEndpoint=http://127.0.0.1:9/a"}`,
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  // The bundled CLI (what an operator gives VICTORIA_BIN): one Node start per command, not tsx's.
  cli = await buildCli(join(dir, "cli"));
}, 60_000);

/** What must never come back from a remote command. */
function leaks(text: string): string[] {
  const marks = [ENV_SENTINEL, CONFIG_SENTINEL, SHARED_SECRET, PASSWD_MARK, keyMark];
  return marks.filter((mark) => text.includes(mark));
}

function hostileValues(serverPid: number | undefined, all: boolean): string[] {
  const first = ["/proc/self/environ", `/proc/${serverPid}/environ`, "/etc/passwd"];
  // A process per command makes the child runs slower: the three that matter most there.
  if (!all) return first;
  return [...first, "../../../../../../../../proc/self/environ", keyFile, configFile, "/dev/zero"];
}

/** Every way to put a hostile value into a command line of this tree. */
function attackLines(plugins: readonly Plugin[], hostile: string): string[][] {
  const lines: string[][] = [
    ["-c", hostile, "config", "view"],
    [`--config-file=${hostile}`, "config", "view"],
  ];
  for (const plugin of plugins) {
    const pluginArgs = plugin.pluginArgs ?? [];
    for (const command of plugin.commands) {
      const slots = [...pluginArgs.map(() => "local"), ...command.args.map(() => "x")];
      const valued = (command.options ?? []).filter((o) => o.takesValue);
      const build = (positionals: string[], options: string[]) => {
        const before = positionals.slice(0, pluginArgs.length);
        const after = positionals.slice(pluginArgs.length);
        return [plugin.name, ...before, command.name, ...options, ...after];
      };
      // Each option set to something benign ("local" names a configured store), or not at all.
      const optionSets = [[], ...valued.map((o) => [`--${o.name}`, "local"])];
      for (const options of optionSets) {
        for (let slot = 0; slot < slots.length; slot++) {
          const positionals = [...slots];
          positionals[slot] = hostile;
          lines.push(build(positionals, options));
          // Optional trailing positionals left out, so the hostile one is the last given.
          lines.push(build(positionals.slice(0, slot + 1), options));
        }
      }
      for (const option of valued) lines.push(build(slots, [`--${option.name}`, hostile]));
    }
  }
  return lines;
}

async function execute(url: string, args: readonly string[]) {
  const body = JSON.stringify({ args });
  const res = await fetch(`${url}/execute`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signServiceRequest(SHARED_SECRET, body) },
  });
  return { status: res.status, text: await res.text() };
}

describe.each([
  ["the in-process engine", false],
  ["VICTORIA_BIN (the bundled CLI as a child process)", true],
])("/execute with %s: no command reads a server file", (_, viaBin) => {
  let server: SpawnedServer;

  beforeAll(async () => {
    server = await spawnLocalServer({
      VICTORIA_CONFIG: configFile,
      VICTORIA_SHARED_SECRET: SHARED_SECRET,
      SURFACE_SENTINEL: ENV_SENTINEL,
      VAULT_DIR: join(dir, `vault-${viaBin}`),
      AUDIT_LOG_FILE: join(dir, `audit-${viaBin}.jsonl`),
      ...(viaBin ? { VICTORIA_BIN: cli } : {}),
    });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("answers every command of the tree with every server file in every slot, leaking nothing", async () => {
    const attempts: Array<{ args: string[]; status: number; leaked: string[]; crashed: boolean }> = [];
    /** What a later command could read back: every stored key (a put may have copied a file in). */
    const readBack = async () => {
      const listed = await execute(server.url, ["store", "local", "ls"]);
      const keys =
        listed.status === 200 ? (JSON.parse(listed.text) as string).split("\n").filter(Boolean) : [];
      const texts = await Promise.all(
        keys.map(async (key) => (await execute(server.url, ["store", "local", "get", key])).text),
      );
      return texts.join("\n");
    };
    for (const hostile of hostileValues(server.child.pid, !viaBin)) {
      for (const args of attackLines(corePlugins, hostile)) {
        const { status, text } = await execute(server.url, args);
        const after = status === 200 ? await readBack() : "";
        attempts.push({
          args,
          status,
          leaked: leaks(text + after),
          crashed: text.includes("uncaught Victoria exception"),
        });
      }
    }
    const accepted = attempts.filter((a) => a.leaked.length > 0);
    expect(accepted, JSON.stringify(accepted.slice(0, 5))).toEqual([]);
    expect(attempts.filter((a) => a.crashed)).toEqual([]);
    expect(attempts.length).toBeGreaterThan(200);
    // Nothing leaked into the server's own log lines either.
    expect(leaks(server.logs.join(""))).toEqual([]);
  }, 240_000);

  it("refuses the put-then-get of /proc/self/environ with a usage message", async () => {
    const put = await execute(server.url, ["store", "local", "put", "/proc/self/environ", "e"]);
    expect(put.status).toBe(500);
    expect(put.text).toContain("FILENAME would name a file on the server");
    const get = await execute(server.url, ["store", "local", "get", "e"]);
    expect(leaks(get.text)).toEqual([]);
    expect(get.text).toContain("No such key 'e'");
  });

  it("refuses -c from a remote caller, naming why", async () => {
    const res = await execute(server.url, ["-c", "/dev/zero", "config", "view"]);
    expect(res.status).toBe(500);
    expect(res.text).toContain("is not accepted here");
    expect(res.text).not.toContain("undefined");
  });

  it("takes data from the request instead: store put --data, decrypt --store and --envelope", async () => {
    const put = await execute(server.url, [
      "store",
      "local",
      "put",
      "--data",
      "hello from Slack",
      `notes-${viaBin}.txt`,
    ]);
    expect(put.status, put.text).toBe(200);
    expect(JSON.parse(put.text)).toContain(`Uploaded --data to 'notes-${viaBin}.txt'`);
    const get = await execute(server.url, ["store", "local", "get", `notes-${viaBin}.txt`]);
    expect(JSON.parse(get.text)).toBe("hello from Slack\n");

    const encrypted = await execute(server.url, ["encrypt", "data", "s3cret value"]);
    expect(encrypted.status).toBe(200);
    const envelope = JSON.parse(encrypted.text) as string;
    const inline = await execute(server.url, ["encrypt", "decrypt", "--envelope", envelope]);
    expect(inline.status).toBe(200);
    expect(JSON.parse(inline.text)).toBe("s3cret value\n");

    const stored = await execute(server.url, [
      "store",
      "local",
      "put",
      "--data",
      `secrets:\n  db:\n${envelope
        .trim()
        .split("\n")
        .map((line) => `    ${line}`)
        .join("\n")}`,
      `secrets-${viaBin}.yaml`,
    ]);
    expect(stored.status).toBe(200);
    const fromStore = await execute(server.url, [
      "encrypt",
      "decrypt",
      "--store",
      "local",
      `secrets-${viaBin}.yaml`,
      "secrets/db",
    ]);
    expect(fromStore.status).toBe(200);
    expect(JSON.parse(fromStore.text)).toBe("s3cret value\n");
  });

  it("answers inherited property names as usage or configuration errors, never a crash", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      for (const args of [
        ["store", name, "ls"],
        [name, "view"],
        ["config", name],
      ]) {
        const res = await execute(server.url, args);
        expect(res.status, `${args.join(" ")}: ${res.text}`).toBe(500);
        const body = JSON.parse(res.text) as { error: string; failureClass: string };
        expect(body.error).toBe("Command failed: non-zero status code");
        // A child's exit status says only "not worth retrying" (1), not which kind.
        expect(viaBin ? ["usage", "configuration", "invalid"] : ["usage", "configuration"]).toContain(
          body.failureClass,
        );
      }
    }
  });
});

describe("a VICTORIA_BIN child cannot read its parent's environment", () => {
  it.skipIf(process.getuid?.() !== 0)(
    "runs as another user, so /proc/<parent>/environ is closed to it",
    async () => {
      // A stand-in for a third-party victoria binary that does whatever it is asked: cat a file.
      const bin = join(dir, "cat-victoria");
      await writeFile(bin, '#!/bin/sh\ncat "$1" | tr "\\0" "\\n"; echo "ENV:"; env\n', { mode: 0o755 });
      const server = await spawnLocalServer({
        VICTORIA_SHARED_SECRET: SHARED_SECRET,
        SURFACE_SENTINEL: ENV_SENTINEL,
        VICTORIA_BIN: bin,
      });
      try {
        const res = await execute(server.url, [`/proc/${server.child.pid}/environ`]);
        expect(res.text).toContain("Permission denied");
        expect(leaks(res.text)).toEqual([]);
        // Its own environment is the allow-list: no secret of ours was handed to it.
        expect(res.text).toContain("VICTORIA_SERVER_MODE=1");
        expect(res.text).not.toContain("VICTORIA_SHARED_SECRET");
        expect(res.text).not.toContain("SLACK_SIGNING_SECRET");
      } finally {
        await server.stop();
      }
    },
    30_000,
  );
});

describe("Slack: a member's commands read no server file, and secrets are shown to the asker only", () => {
  const SIGNING_SECRET = `signing-${randomBytes(12).toString("hex")}`;
  const BOT_TOKEN = `xoxb-${randomBytes(12).toString("hex")}`;
  let slack: SlackStandIn;
  let server: SpawnedServer;
  let auditFile: string;

  beforeAll(async () => {
    slack = await startSlackStandIn({
      botToken: BOT_TOKEN,
      users: [{ id: "U0MEMBER", email: "sre@example.com" }],
      channels: ["C0OPS"],
    });
    auditFile = join(dir, "audit-slack.jsonl");
    server = await spawnLocalServer({
      VICTORIA_CONFIG: configFile,
      VICTORIA_SHARED_SECRET: SHARED_SECRET,
      SURFACE_SENTINEL: ENV_SENTINEL,
      SLACK_API_URL: slack.url,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SRE_MEMBERS: "sre@example.com",
      AUDIT_LOG_FILE: auditFile,
      VAULT_DIR: join(dir, "vault-slack"),
    });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await slack?.close();
  });

  async function slash(text: string) {
    const responseUrl = slack.responseUrl({ channel: "C0OPS", user: "U0MEMBER" });
    const body = new URLSearchParams({
      team_id: "T0E2E",
      channel_id: "C0OPS",
      user_id: "U0MEMBER",
      command: "/victoria",
      text,
      response_url: responseUrl,
      trigger_id: `t-${randomBytes(6).toString("hex")}`,
    }).toString();
    const res = await fetch(`${server.url}/authenticate`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...signSlackRequest(SIGNING_SECRET, body),
      },
    });
    expect(res.status).toBe(200);
    return eventually(() =>
      slack
        .responses(responseUrl)
        .find((r) => r.body.response_type !== undefined && !String(r.body.text).startsWith("Running")),
    );
  }

  async function mention(text: string) {
    const eventId = `Ev${randomBytes(6).toString("hex")}`;
    const ts = `${Date.now() / 1000}`;
    const body = JSON.stringify({
      type: "event_callback",
      event_id: eventId,
      team_id: "T0E2E",
      event: { type: "app_mention", user: "U0MEMBER", channel: "C0OPS", ts, text: `<@U0VICTORIA> ${text}` },
    });
    const res = await fetch(`${server.url}/authenticate`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signSlackRequest(SIGNING_SECRET, body) },
    });
    expect(res.status).toBe(200);
    return eventually(() => slack.messages("C0OPS").find((m) => m.threadTs === ts));
  }

  it("answers hostile commands with usage messages; nothing secret reaches Slack, the audit or a log", async () => {
    for (const text of [
      "store local put /proc/self/environ e",
      "store local get e",
      `-c /proc/${server.child.pid}/environ config view`,
      "encrypt decrypt /etc/passwd a",
      `encrypt rotate ${keyFile} a`,
      "store __proto__ ls",
    ]) {
      const answer = await slash(text);
      expect(String(answer.body.text), text).not.toContain("uncaught");
    }
    const everything = [
      JSON.stringify(slack.calls),
      JSON.stringify(slack.responses()),
      await readFile(auditFile, "utf8"),
      server.logs.join(""),
    ].join("\n");
    expect(leaks(everything)).toEqual([]);
    expect(everything).not.toContain(SIGNING_SECRET);
    expect(everything).toContain("FILENAME would name a file on the server");
  }, 60_000);

  it("shows a decrypted secret to the asker only, and audits its digest and length, not the text", async () => {
    const encrypted = await slash("encrypt data 'the db password'");
    expect(encrypted.body.response_type).toBe("ephemeral");
    const envelope = /```([\s\S]*?)```/.exec(String(encrypted.body.text))?.[1] ?? "";
    expect(envelope).toContain("version:");

    const answer = await slash(`encrypt decrypt --envelope '${envelope.trim()}'`);
    expect(answer.body.response_type).toBe("ephemeral");
    expect(String(answer.body.text)).toContain("the db password");

    const threaded = await mention(`encrypt decrypt --envelope '${envelope.trim()}'`);
    expect(threaded.ephemeral).toBe(true);
    expect(threaded.user).toBe("U0MEMBER");

    const records = (await readFile(auditFile, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AuditRecord);
    const finished = records.filter(
      (r) => r.phase === "finished" && r.command.startsWith("encrypt decrypt --envelope"),
    );
    expect(finished).toHaveLength(2);
    for (const record of finished) {
      expect(record.output).toBeUndefined();
      expect(record.outputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(record.outputLength).toBe("the db password\n".length);
    }
    expect(JSON.stringify(records)).not.toContain("the db password\\n");
    // Nothing private was posted for the channel to see.
    expect(
      slack.messages("C0OPS").filter((m) => !m.ephemeral && String(m.text).includes("the db password")),
    ).toEqual([]);
  }, 60_000);
});
