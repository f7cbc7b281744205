import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/*
 * `npm start` runs the Service Bus broker, Slack and SMTP stand-ins inside its own process, with
 * connection details made up at start (a free port each time). A `victoria deadletter` run from
 * another shell in the same folder has none of them, so a replay there would fail with "No
 * connection for cluster 'local'". The local server leaves those details in a file while it runs;
 * the CLI takes from it what its own environment does not set.
 */

/** Relative to the folder both run in (the repository, for `npm start` and `npm run victoria`). */
export const LOCAL_SERVER_HANDOFF_FILE = ".victoria/local-server.json";

/** What the file may carry. Settings come in pairs where half of one would mix two setups. */
const GROUPS = [
  ["SERVICE_BUS_CONNECTIONS", "SERVICE_BUS_MANAGEMENT_CA"],
  ["SLACK_API_URL", "SLACK_BOT_TOKEN"],
  ["SMTP_URL", "MAIL_FROM"],
  ["VAULT_DIR"],
] as const;

export type HandoffSetting = (typeof GROUPS)[number][number];
export type HandoffSettings = Partial<Record<HandoffSetting, string>>;

const NAMES: ReadonlySet<string> = new Set(GROUPS.flat());

/**
 * Writes the file for this process; resolves to a function that removes it (only while it is
 * still this process's). Give it stand-ins' values only — never a connection string or token the
 * operator configured: those are secrets, and the file is a plain file (mode 0600) on disk.
 * VAULT_DIR is made absolute.
 */
export async function writeLocalServerHandoff(
  settings: HandoffSettings,
  file: string = LOCAL_SERVER_HANDOFF_FILE,
): Promise<() => Promise<void>> {
  const kept: HandoffSettings = {};
  for (const [name, value] of Object.entries(settings)) {
    if (!NAMES.has(name)) throw new Error(`${name} is not a setting the local server hands to the CLI`);
    if (value) kept[name as HandoffSetting] = name === "VAULT_DIR" ? resolve(value) : value;
  }
  const token = randomUUID();
  await mkdir(dirname(file), { recursive: true });
  const pending = `${file}.${token}.tmp`;
  await writeFile(pending, `${JSON.stringify({ pid: process.pid, token, settings: kept }, null, 2)}\n`, {
    mode: 0o600,
  });
  // A rename, so a CLI reading it at the same moment sees the old file or the new one, whole.
  await rename(pending, file);
  return async () => {
    try {
      const current = JSON.parse(await readFile(file, "utf8")) as { token?: unknown };
      if (current.token === token) await unlink(file);
    } catch {
      // Gone already, or another server's now: not ours to remove.
    }
  };
}

/**
 * The settings a running local server left, or undefined when there is no file, it is unreadable,
 * or the process that wrote it is gone (killed without cleaning up).
 */
export async function readLocalServerHandoff(
  file: string = LOCAL_SERVER_HANDOFF_FILE,
  isRunning: (pid: number) => boolean = processIsRunning,
): Promise<HandoffSettings | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
  const { pid, settings } = (value ?? {}) as { pid?: unknown; settings?: unknown };
  if (typeof pid !== "number" || !Number.isInteger(pid) || !isRunning(pid)) return undefined;
  if (typeof settings !== "object" || settings === null) return undefined;
  const kept: HandoffSettings = {};
  for (const [name, setting] of Object.entries(settings))
    if (NAMES.has(name) && typeof setting === "string" && setting !== "")
      kept[name as HandoffSetting] = setting;
  return kept;
}

/**
 * `env` plus what a running local server handed over, group by group, where `env` sets none of
 * the group (the environment always wins), and the names taken.
 */
export async function withLocalServerSettings(
  env: Readonly<Record<string, string | undefined>>,
  file?: string,
  isRunning?: (pid: number) => boolean,
): Promise<{ env: Record<string, string | undefined>; adopted: HandoffSetting[] }> {
  const handed = await readLocalServerHandoff(file, isRunning);
  const merged = { ...env };
  const adopted: HandoffSetting[] = [];
  if (!handed) return { env: merged, adopted };
  for (const group of GROUPS) {
    if (group.some((name) => env[name]) || !group.some((name) => handed[name])) continue;
    for (const name of group) {
      const value = handed[name];
      if (value === undefined) continue;
      merged[name] = value;
      adopted.push(name);
    }
  }
  return { env: merged, adopted };
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
