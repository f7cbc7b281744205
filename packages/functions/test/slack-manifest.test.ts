import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createMemoryDedupeStore } from "@victoria/core/idempotency/dedupe-store";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import type { Chat, Job } from "@victoria/core/ports";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  fillManifest,
  MANIFEST_TEMPLATE,
  main,
  PLACEHOLDER_HOSTS,
  readSstOutputs,
  routeUrl,
} from "../../../scripts/slack-manifest";
import { authenticateRoute } from "../src/routes/authenticate";
import { resolveRoute } from "../src/routes/resolve";

/** The parts of the manifest these tests read. */
interface Manifest {
  _metadata: { major_version: number };
  display_information: { name: string; description?: string };
  features: {
    app_home?: {
      home_tab_enabled?: boolean;
      messages_tab_enabled?: boolean;
      messages_tab_read_only_enabled?: boolean;
    };
    bot_user: { display_name: string };
    slash_commands: { command: string; url: string; description: string; should_escape?: boolean }[];
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[]; user_events?: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    org_deploy_enabled: boolean;
    socket_mode_enabled: boolean;
  };
}

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SIGNING_SECRET = "manifest-signing-secret";

let template: string;
let manifest: Manifest;

beforeAll(async () => {
  template = await readFile(MANIFEST_TEMPLATE, "utf8");
  manifest = parseYaml(template) as Manifest;
});

function victoriaCommand(m: Manifest) {
  const command = m.features.slash_commands.find((c) => c.command === "/victoria");
  if (command === undefined) throw new Error("no /victoria slash command in the manifest");
  return command;
}

/** /authenticate with a dispatcher that records what it was handed. */
function authenticateApp() {
  const jobs: Job[] = [];
  const app = authenticateRoute({
    signingSecret: SIGNING_SECRET,
    dispatcher: {
      dispatch: async (job) => {
        jobs.push(job);
      },
    },
    dedupe: createMemoryDedupeStore(),
    logger: createMemoryLogger(),
  });
  return { app, jobs };
}

function signedPost(path: string, body: string, contentType: string): Request {
  return new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": contentType, ...signSlackRequest(SIGNING_SECRET, body) },
    body,
  });
}

/**
 * Events API subscriptions and the event each delivers. `message.*` subscriptions all deliver
 * `type: "message"`; Slack tells them apart by `channel_type`.
 */
const SUBSCRIPTION_EVENTS: Record<string, { type: string; channel_type?: string; tab?: string }> = {
  app_mention: { type: "app_mention", channel_type: "channel" },
  "message.im": { type: "message", channel_type: "im" },
  "message.channels": { type: "message", channel_type: "channel" },
  "message.groups": { type: "message", channel_type: "group" },
  "message.mpim": { type: "message", channel_type: "mpim" },
  app_home_opened: { type: "app_home_opened", tab: "home" },
  reaction_added: { type: "reaction_added" },
};

/** The subscriptions whose events /authenticate turns into a command. */
async function subscriptionsAuthenticateHandles(): Promise<string[]> {
  const handled: string[] = [];
  for (const [subscription, shape] of Object.entries(SUBSCRIPTION_EVENTS)) {
    const { app, jobs } = authenticateApp();
    const body = JSON.stringify({
      type: "event_callback",
      event_id: `Ev-${subscription}`,
      team_id: "T1",
      event: { ...shape, user: "U0MEMBER", channel: "C1", ts: "1.1", text: "<@U0VICTORIA> config view" },
    });
    const response = await app.fetch(signedPost("/authenticate", body, "application/json"));
    expect(response.status, subscription).toBe(200);
    if (jobs.length > 0) handled.push(subscription);
  }
  return handled;
}

/** Scopes per Web API method (https://docs.slack.dev/reference/methods). */
const METHOD_SCOPES: Record<string, string[]> = {
  "users.info": ["users:read"],
  "chat.postMessage": ["chat:write"],
  "chat.postEphemeral": ["chat:write"],
  "chat.update": ["chat:write"],
  // WebClient's helper over files.getUploadURLExternal + files.completeUploadExternal.
  "files.uploadV2": ["files:write"],
  // A trigger_id is the permission; no scope.
  "views.open": [],
  "views.update": [],
  // Slack lists no scope for publishing a Home tab: the bot token and the user_id are enough.
  "views.publish": [],
};

/** WebClient methods that wrap Web API methods under another name. */
const WEBCLIENT_HELPERS: Record<string, string> = { filesUploadV2: "files.uploadV2" };

/** Scopes per Events API subscription. */
const EVENT_SCOPES: Record<string, string[]> = {
  app_mention: ["app_mentions:read"],
  "message.im": ["im:history"],
  "message.channels": ["channels:history"],
  "message.groups": ["groups:history"],
  "message.mpim": ["mpim:history"],
};

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** The Slack Web API methods the shipped code calls, read from every source file that imports WebClient. */
async function webApiUsage(): Promise<{ methods: Set<string>; readsEmail: boolean; callers: string[] }> {
  const files = [
    ...(await sourceFiles(join(REPO_ROOT, "packages/core/src"))),
    ...(await sourceFiles(join(REPO_ROOT, "packages/functions/src"))),
  ];
  const methods = new Set<string>();
  const callers: string[] = [];
  let readsEmail = false;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    if (!/from\s+["']@slack\/web-api["']/.test(text)) continue;
    callers.push(relative(REPO_ROOT, file));
    for (const match of text.matchAll(/\bclient\.([a-z]+(?:\.[a-zA-Z]+)+)\(/g))
      methods.add(match[1] as string);
    for (const match of text.matchAll(/\bclient\.([a-zA-Z0-9]+)\(/g)) {
      const name = match[1] as string;
      // WebClient's own helpers stand for methods; an unknown one fails the scope lookup by name.
      if (name !== "apiCall") methods.add(WEBCLIENT_HELPERS[name] ?? `WebClient.${name}`);
    }
    for (const match of text.matchAll(/\bapiCall\(\s*["']([\w.]+)["']/g)) methods.add(match[1] as string);
    if (/\.profile\??\.email\b/.test(text)) readsEmail = true;
  }
  return { methods, readsEmail, callers };
}

describe("slack/manifest.yaml", () => {
  it("is a v1 manifest for an HTTP app named Victoria", () => {
    expect(manifest._metadata.major_version).toBe(1);
    expect(manifest.display_information.name).toBe("Victoria");
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.display_information.description?.length ?? 0).toBeLessThanOrEqual(140);
    expect(manifest.features.bot_user.display_name).toMatch(/^[a-z0-9._-]{1,80}$/);
    expect(manifest.settings.org_deploy_enabled).toBe(false);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(victoriaCommand(manifest).description.length).toBeGreaterThan(0);
    // Direct messages are commands (message.im): the Messages tab must take input.
    // The Home tab (app_home_opened → views.publish) is on.
    expect(manifest.features.app_home).toMatchObject({
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: false,
    });
  });

  it("sends the slash command and events to /authenticate and interactivity to /resolve", async () => {
    const urls = {
      command: new URL(victoriaCommand(manifest).url),
      events: new URL(manifest.settings.event_subscriptions.request_url),
      interactivity: new URL(manifest.settings.interactivity.request_url),
    };
    expect(urls.command.pathname).toMatch(/\/authenticate$/);
    expect(urls.events.pathname).toMatch(/\/authenticate$/);
    expect(urls.interactivity.pathname).toMatch(/\/resolve$/);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    // The placeholders tell the fill script's outputs apart.
    expect(urls.command.hostname).toBe(urls.events.hostname);
    expect(PLACEHOLDER_HOSTS.map((h) => h.toLowerCase())).toEqual([
      urls.command.hostname,
      urls.interactivity.hostname,
    ]);

    // The routers serve those paths: unsigned → 401 from the signature check, not 404.
    const { app } = authenticateApp();
    const resolve = resolveRoute({
      signingSecret: SIGNING_SECRET,
      dispatcher: { dispatch: async () => {} },
      chat: {} as Chat,
      logger: createMemoryLogger(),
    });
    const post = (path: string) => new Request(`http://localhost${path}`, { method: "POST", body: "x=1" });
    expect((await app.fetch(post(urls.command.pathname))).status).toBe(401);
    expect((await app.fetch(post(urls.events.pathname))).status).toBe(401);
    expect((await resolve.fetch(post(urls.interactivity.pathname))).status).toBe(401);
    expect((await app.fetch(post("/not-a-route"))).status).toBe(404);
  });

  it("/authenticate accepts the /victoria slash command", async () => {
    const { app, jobs } = authenticateApp();
    const body = new URLSearchParams({
      command: victoriaCommand(manifest).command,
      text: "config view",
      user_id: "U0MEMBER",
      channel_id: "C1",
      response_url: "https://hooks.slack.com/commands/T1/1/x",
      trigger_id: "trigger-manifest",
    }).toString();
    const response = await app.fetch(signedPost("/authenticate", body, "application/x-www-form-urlencoded"));
    expect(response.status).toBe(200);
    expect(jobs).toHaveLength(1);
  });

  it("subscribes to exactly the bot events /authenticate handles", async () => {
    const subscribed = manifest.settings.event_subscriptions.bot_events;
    for (const event of subscribed) {
      expect(Object.keys(SUBSCRIPTION_EVENTS), `teach this test what ${event} delivers`).toContain(event);
    }
    expect([...subscribed].sort()).toEqual((await subscriptionsAuthenticateHandles()).sort());
    expect(manifest.settings.event_subscriptions.user_events ?? []).toEqual([]);
  });

  it("asks for exactly the scopes the code uses", async () => {
    const { methods, readsEmail, callers } = await webApiUsage();
    expect(callers).toEqual(["packages/core/src/adapters/slack/web-api-chat.ts"]);
    expect(methods.size).toBeGreaterThan(0);
    const expected = new Set<string>(["commands"]); // the /victoria slash command
    for (const method of methods) {
      const scopes = METHOD_SCOPES[method];
      if (scopes === undefined) throw new Error(`the code calls ${method}: add its scopes to METHOD_SCOPES`);
      for (const scope of scopes) expected.add(scope);
    }
    if (readsEmail) expected.add("users:read.email");
    for (const event of manifest.settings.event_subscriptions.bot_events) {
      for (const scope of EVENT_SCOPES[event] ?? []) expected.add(scope);
    }
    const bot = manifest.oauth_config.scopes.bot;
    expect(new Set(bot).size, "duplicate scopes").toBe(bot.length);
    expect([...bot].sort()).toEqual([...expected].sort());
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
  });
});

describe("scripts/slack-manifest.ts", () => {
  const outputs = {
    authenticateUrl: "https://auth123.lambda-url.eu-west-2.on.aws/",
    resolveUrl: "https://res456.lambda-url.eu-west-2.on.aws/",
    listenerUrl: "https://lis789.lambda-url.eu-west-2.on.aws/",
    executeUrl: "https://exe000.lambda-url.eu-west-2.on.aws/",
  };
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slack-manifest-"));
    await writeFile(join(dir, "outputs.json"), JSON.stringify(outputs, null, 2));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The template with its three URLs set: what a filled manifest must equal, field for field. */
  function expectedManifest(authenticate: string, resolve: string): Manifest {
    const expected = parseYaml(template) as Manifest;
    victoriaCommand(expected).url = authenticate;
    expected.settings.event_subscriptions.request_url = authenticate;
    expected.settings.interactivity.request_url = resolve;
    return expected;
  }

  it("appends the route to a Function URL with exactly one slash", () => {
    expect(routeUrl("https://a.lambda-url.eu-west-2.on.aws/", "/authenticate")).toBe(
      "https://a.lambda-url.eu-west-2.on.aws/authenticate",
    );
    expect(routeUrl("https://a.lambda-url.eu-west-2.on.aws", "/resolve")).toBe(
      "https://a.lambda-url.eu-west-2.on.aws/resolve",
    );
    expect(routeUrl("https://api.example.com/victoria//", "/resolve")).toBe(
      "https://api.example.com/victoria/resolve",
    );
    expect(routeUrl("https://a.example.com/authenticate", "/authenticate")).toBe(
      "https://a.example.com/authenticate",
    );
    expect(() => routeUrl("http://a.example.com/", "/resolve")).toThrow(/https/);
    expect(() => routeUrl("not a url", "/resolve")).toThrow(/Not a URL/);
  });

  it("reads the URLs from SST's outputs by name", () => {
    expect(readSstOutputs(JSON.stringify(outputs))).toEqual({
      authenticateUrl: outputs.authenticateUrl,
      resolveUrl: outputs.resolveUrl,
    });
    expect(readSstOutputs(JSON.stringify({ execute: "https://x/" }))).toEqual({});
    expect(() => readSstOutputs("[]")).toThrow(/object/);
  });

  it("fills a manifest from outputs.json that keeps everything else of the template", async () => {
    const out = join(dir, "manifest.test.yaml");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["--outputs", join(dir, "outputs.json"), "--out", out])).toBe(0);
    } finally {
      stderr.mockRestore();
    }
    const text = await readFile(out, "utf8");
    expect(text).not.toMatch(/\.aws\/\/|AUTHENTICATE_URL|RESOLVE_URL/);
    expect(parseYaml(text)).toEqual(
      expectedManifest(
        "https://auth123.lambda-url.eu-west-2.on.aws/authenticate",
        "https://res456.lambda-url.eu-west-2.on.aws/resolve",
      ),
    );
  });

  it("takes outputs that already end with the route (as infra/functions.ts returns them) unchanged", () => {
    const filled = fillManifest(template, {
      authenticateUrl: "https://auth123.lambda-url.eu-west-2.on.aws/authenticate",
      resolveUrl: "https://res456.lambda-url.eu-west-2.on.aws/resolve",
    });
    expect(parseYaml(filled)).toEqual(
      expectedManifest(
        "https://auth123.lambda-url.eu-west-2.on.aws/authenticate",
        "https://res456.lambda-url.eu-west-2.on.aws/resolve",
      ),
    );
  });

  it("lets flags override the outputs and names a missing output", async () => {
    const filled = parseYaml(
      fillManifest(template, { authenticateUrl: "https://a.example.com/", resolveUrl: outputs.resolveUrl }),
    ) as Manifest;
    expect(victoriaCommand(filled).url).toBe("https://a.example.com/authenticate");

    await writeFile(join(dir, "partial.json"), JSON.stringify({ authenticateUrl: outputs.authenticateUrl }));
    const errors: string[] = [];
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      expect(await main(["--outputs", join(dir, "partial.json")])).toBe(1);
      expect(errors.join("")).toMatch(/no resolveUrl/);
      expect(await main(["--stage", "../etc"])).toBe(1);
      expect(await main(["--nope"])).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });

  it("runs as a script under tsx and prints the manifest", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO_ROOT, "scripts/slack-manifest.ts"),
        "--outputs",
        join(dir, "outputs.json"),
        "--resolve-url",
        "https://other.example.com/",
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    expect(code, stderr).toBe(0);
    expect(stdout.startsWith("# Generated by scripts/slack-manifest.ts")).toBe(true);
    expect(parseYaml(stdout)).toEqual(
      expectedManifest(
        "https://auth123.lambda-url.eu-west-2.on.aws/authenticate",
        "https://other.example.com/resolve",
      ),
    );
  });
});
