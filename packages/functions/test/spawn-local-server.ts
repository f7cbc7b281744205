import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ServiceBusStandIn, startServiceBusStandIn } from "@victoria/emulators/service-bus/broker";
import { type SlackStandIn, type SlackUserSeed, startSlackStandIn } from "@victoria/emulators/slack";

const require = createRequire(import.meta.url);

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  /** stdout and stderr as they arrived. */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts `npm start`'s entry point as its own process on a free port and reads the URL it prints.
 * Development overrides a caller's shell might carry are cleared so the embedded defaults apply.
 */
export interface SpawnOptions {
  /** A bundle from build-local.ts (as `npm start` runs); by default the sources through tsx. */
  bundle?: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  /** Rewrites the command line, e.g. to pin it to a core with `taskset` (benchmarks). */
  wrap?: (command: string, args: string[]) => [string, string[]];
  startTimeoutMs?: number;
  /** Where it runs, i.e. where its `.victoria/` goes (a fresh folder is a fresh clone); the repository by default. */
  cwd?: string;
}

export async function spawnLocalServer(
  env: Record<string, string>,
  {
    bundle,
    nodeArgs = [],
    wrap = (command, args) => [command, args],
    startTimeoutMs = 15_000,
    cwd = repoRoot,
  }: SpawnOptions = {},
): Promise<SpawnedServer> {
  // Absolute paths: `cwd` may be anywhere (tsx itself is resolved from the repository's modules).
  const entry =
    bundle === undefined
      ? [
          "--import",
          pathToFileURL(require.resolve("tsx")).href,
          join(repoRoot, "packages/functions/src/local.ts"),
        ]
      : [bundle];
  const [command, args] = wrap(process.execPath, [...nodeArgs, ...entry]);
  const child = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      PORT: "0",
      VICTORIA_SHARED_SECRET: "",
      VICTORIA_BIN: "",
      VICTORIA_CONFIG: "",
      VICTORIA_CONFIG_YAML: "",
      VICTORIA_LOCAL_PROVIDERS: "",
      SMTP_URL: "",
      MAIL_FROM: "",
      SLACK_API_URL: "",
      SERVICE_BUS_CONNECTIONS: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start: ${logs.join("")}`)),
      startTimeoutMs,
    );
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
  return {
    url,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/** The bot, alert channel and watched queue of a server from `spawnWiredServer`. */
export const WIRED = {
  botUserId: "U0VICTORIA",
  alerts: "C0ALERTS",
  queue: "orders",
  failedRequestsQueue: "victoria-failed-requests",
} as const;

/** A spawned server wired to its own Slack and Service Bus stand-ins, its files in a fresh folder. */
export interface WiredServer {
  slack: SlackStandIn;
  broker: ServiceBusStandIn;
  server: SpawnedServer;
  signingSecret: string;
  listenerToken: string;
  /** Where it runs (its `.victoria/`), with its audit log and file vault. */
  dir: string;
  auditFile: string;
  vaultDir: string;
}

/**
 * `npm start` as the end-to-end tests drive it: Slack (`users` known, the bot `WIRED.botUserId`,
 * alerts in `WIRED.alerts`) and Service Bus (`WIRED.queue` and the failed-requests queue) stand-ins,
 * `sreMember` the SRE group, the JSON Lines audit log and the file vault in a temp folder, and
 * `policy` (YAML) as VICTORIA_POLICY when given. Secrets and the folder are named after `name`.
 */
export async function spawnWiredServer(
  name: string,
  {
    users,
    sreMember,
    policy,
    env = {},
  }: { users: readonly SlackUserSeed[]; sreMember: string; policy?: string; env?: Record<string, string> },
): Promise<WiredServer> {
  const signingSecret = `${name}-signing-secret`;
  const listenerToken = `${name}-listener-token`;
  const botToken = `xoxb-${name}`;
  const slack = await startSlackStandIn({ botToken, botUserId: WIRED.botUserId, users });
  const broker = await startServiceBusStandIn({ queues: [WIRED.queue, WIRED.failedRequestsQueue] });
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const auditFile = join(dir, "audit.jsonl");
  const vaultDir = join(dir, "vault");
  try {
    const policyEnv: Record<string, string> = {};
    if (policy !== undefined) {
      const policyFile = join(dir, "policy.yaml");
      await writeFile(policyFile, policy);
      Object.assign(policyEnv, { VICTORIA_POLICY: policyFile, VICTORIA_POLICY_YAML: "" });
    }
    const server = await spawnLocalServer(
      {
        HOST: "127.0.0.1",
        SLACK_API_URL: slack.url,
        SLACK_BOT_TOKEN: botToken,
        SLACK_BOT_USER_ID: WIRED.botUserId,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_ALERT_CHANNEL: WIRED.alerts,
        LISTENER_TOKEN: listenerToken,
        SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: broker.connectionString }),
        FAILED_REQUESTS_QUEUE: WIRED.failedRequestsQueue,
        SRE_MEMBERS: sreMember,
        AUDIT_LOG_FILE: auditFile,
        VAULT_DIR: vaultDir,
        ...policyEnv,
        ...env,
      },
      // Its `.victoria/` (generated config) in the temp folder, not the repository.
      { cwd: dir, startTimeoutMs: 30_000 },
    );
    return { slack, broker, server, signingSecret, listenerToken, dir, auditFile, vaultDir };
  } catch (error) {
    await broker.close();
    await slack.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Stops what `spawnWiredServer` started (nothing when it never started) and removes its folder. */
export async function stopWiredServer(h: WiredServer | undefined): Promise<void> {
  if (!h) return;
  await h.server.stop();
  await h.broker.close();
  await h.slack.close();
  await rm(h.dir, { recursive: true, force: true });
}
