/**
 * The one Secrets Manager secret per app and stage holding Victoria's configuration as JSON
 * (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, VICTORIA_SHARED_SECRET, LISTENER_TOKEN,
 * SERVICE_BUS_CONNECTIONS, …; see docs/configuration.md). Only the container is declared here: its value
 * never passes through SST state or this repository. After the first deploy an operator puts it:
 *
 *   aws secretsmanager put-secret-value --secret-id <secretArn output> --secret-string file://secret.json
 *
 * Until then the functions fail closed (a 500 naming the missing secret).
 */
export const victoriaSecret = new aws.secretsmanager.Secret(
  "VictoriaConfig",
  {
    name: `${$app.name}/${$app.stage}/config`,
    description: `Serverless Victoria configuration (JSON) for stage ${$app.stage}`,
    // A removed dev stage must be re-deployable at once under the same name; a deleted secret
    // otherwise blocks its name for the recovery window. Prod keeps the 30-day safety net.
    recoveryWindowInDays: $app.removal === "remove" ? 0 : 30,
  },
  // SST retains buckets and tables under `removal: "retain"`, not secrets: keep this one too.
  { retainOnDelete: $app.removal !== "remove" },
);

/** The only grant on the secret: read its current value. */
export const readVictoriaSecret = {
  actions: ["secretsmanager:GetSecretValue"],
  resources: [victoriaSecret.arn],
};
