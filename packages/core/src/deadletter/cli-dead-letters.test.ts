import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ServiceBusClient } from "@azure/service-bus";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServiceBusBus } from "../adapters/azure/service-bus-bus";
import { createFileVault } from "../adapters/local/file-vault";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createMemoryLogger } from "../logging/json-logger";
import type { Bus } from "./bus";
import { drainDeadLetters } from "./drain-dead-letters";
import { LOCAL_SERVER_HANDOFF_FILE, writeLocalServerHandoff } from "./local-server-handoff";
import type { Vault, VaultRecord } from "./vault";

// `npm run victoria -- deadletter …` in a shell of its own, next to a local server's stand-ins:
// the CLI as its own process (the sources through tsx), in a fresh folder as its working directory.

const require = createRequire(import.meta.url);
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const TOKEN = "xoxb-dev-bot-token";
const CHANNEL = "C0ALERTS";

let broker: ServiceBusStandIn;
let slack: SlackStandIn;
let bus: Bus;
let cwd: string;
let vault: Vault;

beforeAll(async () => {
  broker = await startServiceBusStandIn({ queues: ["orders"] });
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [CHANNEL] });
  bus = createServiceBusBus((c) => new ServiceBusClient(c), { maxAutoLockRenewalDurationInMs: 0 });
});

afterAll(async () => {
  await bus.close();
  await broker.close();
  await slack.close();
});

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), "victoria-cli-"));
  // Where the CLI looks by default (VAULT_DIR unset), relative to where it runs.
  vault = createFileVault(join(cwd, ".victoria/vault"));
  slack.reset();
});

afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** One dead letter, drained as the local server drains it: parked and announced in the channel. */
async function parkOne(): Promise<{ record: VaultRecord; ts: string }> {
  await broker.deadLetter(
    "orders",
    { messageId: `m-${Math.random()}`, body: { order: 1 } },
    { reason: "Boom", description: "#1" },
  );
  const report = await drainDeadLetters(
    {
      bus,
      vault,
      chat: createWebApiChat({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      alertChannel: CHANNEL,
      logger: createMemoryLogger(),
    },
    {
      cluster: "local",
      namespace: "victoria-local",
      entity: { kind: "queue", queue: "orders" },
      connection: broker.connectionString,
    },
    { budgetMs: 10_000, waitMs: 300 },
  );
  const [record] = await vault.list();
  return { record: record as VaultRecord, ts: report.notification?.ts as string };
}

/** The CLI with only what a fresh shell has: no SERVICE_BUS_CONNECTIONS, no Slack settings. */
async function victoria(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      pathToFileURL(require.resolve("tsx")).href,
      join(repoRoot, "packages/core/src/victoria/bin.ts"),
      ...args,
    ],
    {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, VICTORIA_ACTOR: "tester" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output };
}

async function drainOrders(): Promise<number> {
  const receiver = await bus.receiver(
    broker.connectionString,
    { kind: "queue", queue: "orders" },
    { deadLetter: false },
  );
  const received = await receiver.receive(100, 300);
  for (const m of received) await m.complete();
  await receiver.close();
  return received.length;
}

describe("victoria deadletter from a shell", () => {
  it("says what to do when it has no connection for the cluster, instead of only that it has none", async () => {
    const { record } = await parkOne();
    const { code, output } = await victoria("deadletter", "replay", record.id.slice(0, 8));
    expect(code).toBe(1);
    expect(output).toContain(
      "Error: No connection for cluster 'local': SERVICE_BUS_CONNECTIONS is not set in this process. Replay it where the server runs (the notification's Replay button, or `/victoria deadletter replay <id>` in Slack or the workbench), or set SERVICE_BUS_CONNECTIONS=",
    );
    expect(await vault.get(record.id)).toMatchObject({ state: "parked" });
  }, 30_000);

  it("uses a running local server's broker and Slack: replays by message id and redraws the notification", async () => {
    const { record, ts } = await parkOne();
    await drainOrders();
    const remove = await writeLocalServerHandoff(
      {
        SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: broker.connectionString }),
        SLACK_API_URL: slack.url,
        SLACK_BOT_TOKEN: TOKEN,
      },
      join(cwd, LOCAL_SERVER_HANDOFF_FILE),
    );
    try {
      const { code, output } = await victoria("deadletter", "replay", record.message.messageId);
      expect(output).toBe(
        `Replayed dead letter ${record.id} (local/orders) as cli:tester.\nsent back to orders\n`,
      );
      expect(code).toBe(0);
      expect(await drainOrders()).toBe(1);
      const notification = slack.messages(CHANNEL).find((m) => m.ts === ts);
      expect(notification?.updates).toBe(1);
      expect(JSON.stringify(notification?.blocks)).toContain("Replayed by cli:tester via command at ");
      expect(JSON.stringify(notification?.blocks)).not.toContain("deadletter_replay");
    } finally {
      await remove();
    }
  }, 30_000);
});
