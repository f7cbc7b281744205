import { readFile } from "node:fs/promises";

/** Keys every deployment's secret must hold (the SRE group is checked apart: a list or Graph). */
export const REQUIRED_SECRET_KEYS = [
  "SLACK_SIGNING_SECRET",
  "SLACK_BOT_TOKEN",
  "SLACK_ALERT_CHANNEL",
  "VICTORIA_SHARED_SECRET",
  "LISTENER_TOKEN",
] as const;

const GRAPH_KEYS = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "SRE_GROUP_ID"] as const;

export class TwinConfigError extends Error {
  override readonly name = "TwinConfigError";
}

/**
 * The secret's JSON, as an operator writes it for `aws secretsmanager put-secret-value` (same keys
 * as production). Values may be strings or, for SERVICE_BUS_CONNECTIONS, an object. Missing keys
 * are named, never values.
 */
export async function readTwinSecret(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TwinConfigError(
      `Cannot read the twin's secret file ${file} (${code === "ENOENT" ? "no such file" : code}); write it as the README's "The secret" shows`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TwinConfigError(`${file} is not valid JSON: ${(error as Error).message.replace(/\n.*/s, "")}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TwinConfigError(`${file} must hold one JSON object of configuration keys`);
  }
  return value as Record<string, unknown>;
}

/** Names what the secret lacks for the deployment to work; empty when nothing does. */
export function missingSecretKeys(secret: Record<string, unknown>): string[] {
  const has = (key: string) => typeof secret[key] === "string" && secret[key] !== "";
  const missing: string[] = REQUIRED_SECRET_KEYS.filter((key) => !has(key));
  if (!has("SRE_MEMBERS") && !GRAPH_KEYS.every(has)) {
    missing.push(`SRE_MEMBERS (or ${GRAPH_KEYS.join(", ")})`);
  }
  return missing;
}
