// `npm start`: every route on one local port, with embedded defaults and no cloud account.
import { startLocalServer } from "./local-server";
import { DEV_DEFAULTS } from "./settings";

const server = await startLocalServer();
const usingDefaults = Object.keys(DEV_DEFAULTS).filter((name) => !process.env[name]);
process.stdout.write(
  [
    `Serverless Victoria listening on ${server.url}`,
    `  GET  ${server.url}/health`,
    ...["/execute", "/authenticate", "/listener", "/resolve"].map((path) => `  POST ${server.url}${path}`),
    `  victoria config: ${process.env.VICTORIA_CONFIG || "bundled default"}`,
    `  command runner: ${process.env.VICTORIA_BIN ? `external (${process.env.VICTORIA_BIN})` : "in-process engine"}`,
    `  development defaults in use for: ${usingDefaults.join(", ") || "nothing"}`,
    "",
  ].join("\n"),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
