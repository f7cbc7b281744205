import type { AuditRecord } from "../security/audit-log";

/** One command (or button click) a person ran, as their App Home lists it. */
export interface RecentCommand {
  /** When it finished or was refused (ISO-8601). */
  time: string;
  /** As typed (mentions stripped), or the click's command (`deadletter replay <id>`). */
  command: string;
  source: AuditRecord["source"];
  /** An exit status, `error` (could not run) or `refused` (the gate said no). */
  outcome: number | "error" | "refused";
}

/** Each person's last few commands, for their App Home (functions may only append to the audit). */
export interface RecentCommandStore {
  /** Adds `entry` in front of `userId`'s list, keeping the newest `RECENT_COMMANDS_KEPT`. */
  add(userId: string, entry: RecentCommand): Promise<void>;
  /** Newest first, at most `limit`; none for a person who ran nothing yet. */
  recent(userId: string, limit: number): Promise<RecentCommand[]>;
}

export const RECENT_COMMANDS_KEPT = 10;

/** What a store keeps per person. `version` changes with every write, so S3 ETags never repeat. */
export interface RecentCommandList {
  version: number;
  commands: RecentCommand[];
}

/**
 * The storage a store needs: one object per person, created and replaced only conditionally (a
 * `token` from the read, an ETag on S3), so two commands finishing at once both land.
 */
export interface RecentCommandObjects<Token> {
  read(userId: string): Promise<{ text: string; token: Token } | undefined>;
  /** False when it exists already. */
  create(userId: string, text: string): Promise<boolean>;
  /** False when it changed since `token` was read. */
  replace(userId: string, text: string, token: Token): Promise<boolean>;
  /** Names the object in errors. */
  where(userId: string): string;
}

/** Slack member ids (`U…`, `W…`): the only names that become a file name or an S3 key. */
const USER_ID = /^[A-Z0-9]{2,32}$/;
const ATTEMPTS = 8;

/** Jittered, so writers that lost a race do not collide again in lockstep. */
const backoff = (attempt: number) =>
  new Promise((done) => setTimeout(done, Math.random() * Math.min(5 * 2 ** attempt, 200)));

export function isRecentCommandUserId(userId: string): boolean {
  return USER_ID.test(userId);
}

function parseList(text: string, where: string): RecentCommandList {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Recent commands ${where} are not valid JSON`);
  }
  const list = value as Partial<RecentCommandList> | null;
  if (typeof list?.version !== "number" || !Array.isArray(list.commands))
    throw new Error(`Recent commands ${where} hold no list of commands`);
  return { version: list.version, commands: list.commands };
}

/** The store over conditional objects: read, prepend, write; a lost race re-reads and tries again. */
export function createRecentCommandStore<Token>(objects: RecentCommandObjects<Token>): RecentCommandStore {
  const check = (userId: string) => {
    if (!isRecentCommandUserId(userId)) throw new Error(`Not a Slack member id: ${JSON.stringify(userId)}`);
  };
  return {
    async add(userId, entry) {
      check(userId);
      for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
        const stored = await objects.read(userId);
        const list = stored ? parseList(stored.text, objects.where(userId)) : { version: 0, commands: [] };
        const next: RecentCommandList = {
          version: list.version + 1,
          commands: [entry, ...list.commands].slice(0, RECENT_COMMANDS_KEPT),
        };
        const text = JSON.stringify(next);
        if (stored ? await objects.replace(userId, text, stored.token) : await objects.create(userId, text))
          return;
        await backoff(attempt);
      }
      throw new Error(
        `Recent commands ${objects.where(userId)} kept changing; gave up after ${ATTEMPTS} attempts`,
      );
    },

    async recent(userId, limit) {
      if (!isRecentCommandUserId(userId)) return [];
      const stored = await objects.read(userId);
      if (!stored) return [];
      return parseList(stored.text, objects.where(userId)).commands.slice(0, Math.max(0, limit));
    },
  };
}

/** What an audit record says about a finished or refused command; undefined for every other phase. */
export function recentCommandOf(record: AuditRecord): RecentCommand | undefined {
  // A sensitive command's line may hold its secret (`encrypt data <plaintext>`), and a refused one
  // was never looked at closely enough to know: only its command words are kept, never arguments.
  const withheld = record.phase === "refused" || record.outputDigest !== undefined;
  const command = withheld ? commandWords(record.command) : record.command;
  const base = { time: record.time, command, source: record.source };
  if (record.phase === "refused") return { ...base, outcome: "refused" };
  if (record.phase === "finished") return { ...base, outcome: record.exitStatus ?? "error" };
  return undefined;
}

/** The plugin and command (`encrypt data`), with `…` for whatever followed. */
function commandWords(line: string): string {
  const words = line.trim().split(/\s+/);
  return words.length > 2 ? `${words.slice(0, 2).join(" ")} …` : words.join(" ");
}
