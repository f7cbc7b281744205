// `npm run twin [-- --stage NAME] [--secret FILE] [--tick-ms N] [--workbench-port N]`: the SST
// deployment on loopback, and the workbench page driving it.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startTwin } from "./twin";
import { readTwinSecret, TwinConfigError } from "./twin-secret";
import { startTwinWorkbench, type TwinWorkbench } from "./twin-workbench";

/** Next to `npm start`'s 3001, so both can run at once. */
const DEFAULT_WORKBENCH_PORT = 3101;

/** Development values (public, as `npm start`'s defaults): a fresh clone runs with them. */
const DEVELOPMENT_SECRET = {
  SLACK_SIGNING_SECRET: "dev-slack-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-dev-bot-token",
  SLACK_ALERT_CHANNEL: "C0DEVALERTS",
  VICTORIA_SHARED_SECRET: "dev-victoria-shared-secret",
  LISTENER_TOKEN: "dev-listener-token",
  SRE_MEMBERS: "sre@example.com",
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: "string", default: "dev" },
      secret: { type: "string" },
      "tick-ms": { type: "string" },
      "workbench-port": { type: "string", default: String(DEFAULT_WORKBENCH_PORT) },
    },
  });
  const stage = values.stage ?? "dev";
  const secretFile = resolve(values.secret ?? join(".victoria", "twin", `secret.${stage}.json`));
  if (values.secret === undefined && !existsSync(secretFile)) {
    await mkdir(dirname(secretFile), { recursive: true });
    await writeFile(secretFile, `${JSON.stringify(DEVELOPMENT_SECRET, null, 2)}\n`);
    process.stdout.write(`wrote ${secretFile} with development values; edit it (same keys as production)\n`);
  }
  const workbenchPort = Number(values["workbench-port"]);
  if (!Number.isInteger(workbenchPort) || workbenchPort < 0 || workbenchPort > 65_535)
    throw new TwinConfigError("--workbench-port must be a port number (0 picks a free one)");
  const tickMs = values["tick-ms"] === undefined ? undefined : Number(values["tick-ms"]);
  if (tickMs !== undefined && !(tickMs > 0)) throw new TwinConfigError("--tick-ms must be a positive number");
  const twin = await startTwin({
    stage,
    secret: await readTwinSecret(secretFile),
    ...(tickMs === undefined ? {} : { scheduleTicks: tickMs }),
  });
  let workbench: TwinWorkbench | undefined;
  const stop = async () => {
    await workbench?.close();
    await twin.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Every Function URL answers (a cold start of each) before the outputs are printed.
  for (const [name, url] of Object.entries(twin.outputs)) {
    if (name.endsWith("Url")) await fetch(url, { method: "GET" });
  }
  process.stdout.write(
    `twin of sst.config.ts (stage ${stage}) is up; outputs in .victoria/twin/outputs.json:\n`,
  );
  for (const [name, value] of Object.entries(twin.outputs)) process.stdout.write(`  ${name}: ${value}\n`);
  if (twin.slack) {
    process.stdout.write(`  (embedded Slack stand-in: ${twin.slack.url})\n`);
    try {
      workbench = await startTwinWorkbench(twin, { port: workbenchPort });
      process.stdout.write(`workbench driving the twin: ${workbench.url}\n`);
    } catch (error) {
      await twin.close();
      throw error;
    }
  }
}

main().catch((error: Error) => {
  // One line, no stack: a config error names its file and line itself.
  process.stderr.write(
    `twin: ${error instanceof TwinConfigError ? "" : `${error.name}: `}${error.message}\n`,
  );
  process.exit(1);
});
