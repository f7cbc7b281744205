// `npm start`: every route on one local port, with embedded defaults and no cloud account.
import { writeLocalServerHandoff } from "@victoria/core/deadletter/local-server-handoff";
import { LOCAL_CLUSTER, LOCAL_NAMESPACE, startLocalServer } from "./local-server";
import { describeLocalServiceBusEntities } from "./local-service-bus-entities";
import { DEV_DEFAULTS } from "./settings";

let server: Awaited<ReturnType<typeof startLocalServer>>;
try {
  server = await startLocalServer();
} catch (error) {
  // One line, never a stack: configuration errors name their variables, never their values.
  const { code, message: text = String(error) } = error as NodeJS.ErrnoException;
  const message = text.replace(/\s*\n\s*/g, " ");
  process.stderr.write(
    code === "EADDRINUSE"
      ? `Could not start: ${message.replace(/^listen /, "")}. Stop what uses it, or choose other ports with PORT=… (and SLACK_STAND_IN_PORT=…).\n`
      : code === "ENOTFOUND" || code === "EADDRNOTAVAIL"
        ? `Could not start: ${message}. Set HOST=… to an address of this machine (127.0.0.1 by default).\n`
        : `Could not start the local server: ${message}\n`,
  );
  process.exit(1);
}
// `npm run victoria -- deadletter …` from another shell in this folder finds these stand-ins. Only the
// development token goes in the file: an operator's own token is a secret and stays out of files.
// Written for `npm start` only: servers that tests spawn must not hand their stand-ins to other tests.
const launchedByNpmStart = process.env.npm_lifecycle_event === "start";
const removeHandoff = !launchedByNpmStart
  ? async () => {}
  : await writeLocalServerHandoff({
      VAULT_DIR: process.env.VAULT_DIR || DEV_DEFAULTS.VAULT_DIR,
      ...(server.serviceBus
        ? {
            SERVICE_BUS_CONNECTIONS: JSON.stringify({ local: server.serviceBus.connectionString }),
            SERVICE_BUS_MANAGEMENT_CA: server.serviceBus.ca,
          }
        : {}),
      ...(server.slack && !process.env.SLACK_BOT_TOKEN
        ? { SLACK_API_URL: server.slack.url, SLACK_BOT_TOKEN: DEV_DEFAULTS.SLACK_BOT_TOKEN }
        : {}),
      ...(server.smtp && server.mailFrom ? { SMTP_URL: server.smtp.url, MAIL_FROM: server.mailFrom } : {}),
    });
const usingDefaults = Object.keys(DEV_DEFAULTS).filter((name) => !process.env[name]);
process.stdout.write(
  [
    // Since node started: what someone waiting for the prompt sees (npm's own start adds ~0.2 s).
    `Serverless Victoria listening on ${server.url} (ready in ${process.uptime().toFixed(2)} s)`,
    `  Workbench: ${server.url}/ ${server.slack ? "(open it in a browser: a Slack-like channel, no Slack needed)" : "(needs the embedded Slack stand-in: unset SLACK_API_URL)"}`,
    `  GET  ${server.url}/health`,
    ...["/execute", "/authenticate", "/listener", "/resolve"].map((path) => `  POST ${server.url}${path}`),
    `  Slack Web API: ${server.slack ? `${server.slack.url} (embedded stand-in; users U0MEMBER sre@example.com, U0GUEST guest@example.com)` : process.env.SLACK_API_URL}`,
    ...(server.serviceBus && server.serviceBusEntities
      ? [
          `  Service Bus: embedded broker, cluster '${LOCAL_CLUSTER}' (namespace ${LOCAL_NAMESPACE}), ${describeLocalServiceBusEntities(server.serviceBusEntities)}${process.env.LOCAL_SERVICE_BUS_ENTITIES ? " (LOCAL_SERVICE_BUS_ENTITIES)" : ""}`,
          // Its key is a fixed development value the broker does not check: no secret to hide.
          `    connection string (SDK, Service Bus Explorer): ${server.serviceBus.connectionString}`,
        ]
      : ["  Service Bus: SERVICE_BUS_CONNECTIONS"]),
    `  vault: ${process.env.VAULT_DIR || ".victoria/vault"}`,
    ...server.engine.summary,
    `  email: ${server.smtp ? `SMTP stand-in ${server.smtp.url}, from ${server.mailFrom}; sent mail: GET ${server.url}/workbench/api/mail` : "SMTP_URL"}`,
    ...(launchedByNpmStart
      ? [
          "  CLI: npm run victoria -- deadletter … in this folder uses these stand-ins (.victoria/local-server.json)",
        ]
      : []),
    `  audit log: ${process.env.AUDIT_LOG_FILE || ".victoria/audit.jsonl"}`,
    `  command runner: ${process.env.VICTORIA_BIN ? `external (${process.env.VICTORIA_BIN})` : "in-process engine"}`,
    `  SRE members: ${process.env.SRE_MEMBERS ? "SRE_MEMBERS" : `SRE_MEMBERS default (${DEV_DEFAULTS.SRE_MEMBERS})`}`,
    `  clients: ${/^(1|true|yes)$/i.test(process.env.LOCAL_ALLOW_REMOTE ?? "") ? "any host (LOCAL_ALLOW_REMOTE)" : "loopback only"}`,
    `  development defaults in use for: ${usingDefaults.join(", ") || "nothing"}`,
    "",
  ].join("\n"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void removeHandoff()
      .then(() => server.close())
      .then(() => process.exit(0));
  });
}
