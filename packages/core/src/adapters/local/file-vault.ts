import { randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { matchesFilter } from "../../deadletter/record-filter";
import type { Vault, VaultRecord } from "../../deadletter/vault";
import {
  checkId,
  isId,
  isIdPrefix,
  newestFirst,
  newRecord,
  parseRecord,
  recordIdOf,
  recordUpdates,
  scanPage,
} from "../../deadletter/vault-records";

export const DEFAULT_VAULT_DIR = ".victoria/vault";

export interface FileVaultOptions {
  /** A lock file older than this is left over from a crashed holder and is broken. */
  staleLockMs?: number;
  /** How long to wait for a record's lock before failing; should exceed `staleLockMs`. */
  lockTimeoutMs?: number;
}

/**
 * A vault of JSON files, `<dir>/records/<id>.json` (the `records/` folder leaves the rest of
 * VAULT_DIR to other stores).
 *
 * - Every write goes to a temp file in the same folder first, so a record file is always whole.
 * - `park` publishes the temp file with `link()`, which fails with EEXIST if the record exists: an
 *   exclusive create that is also atomic (a `wx` open would expose a half-written file).
 * - `markNotified`/`transition` read-check-write under a per-record lock: an in-process queue
 *   (no polling between callers of this process) plus a `<id>.lock` file created with `wx`
 *   (exclusive across processes), retried with backoff. A lock whose file is older than
 *   `staleLockMs` belongs to a crashed holder and is broken. The update itself is a rename.
 *   A lock file was chosen over a lock-free scheme because plain rename cannot compare-and-set,
 *   and exclusive per-version marker files would wedge the record forever after a crash anyway.
 */
export function createFileVault(dir: string = DEFAULT_VAULT_DIR, options: FileVaultOptions = {}): Vault {
  const folder = resolve(dir, "records");
  const staleLockMs = options.staleLockMs ?? 10_000;
  const lockTimeoutMs = options.lockTimeoutMs ?? staleLockMs + 10_000;
  let ready: Promise<unknown> | undefined;
  const ensureFolder = () => {
    ready ??= mkdir(folder, { recursive: true });
    return ready;
  };
  const recordPath = (id: string) => join(folder, `${id}.json`);

  async function read(id: string): Promise<VaultRecord | undefined> {
    let text: string;
    try {
      text = await readFile(recordPath(id), "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw new Error(`Vault record ${id} could not be read (${recordPath(id)}): ${messageOf(error)}`);
    }
    return parseRecord(id, text, recordPath(id));
  }

  /** The ids of the stored records (temp and lock files do not match, so crashed writes stay invisible). */
  async function recordIds(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw error;
    }
    return names.flatMap((name) => recordIdOf(name) ?? []);
  }

  async function readAll(): Promise<VaultRecord[]> {
    const records = await Promise.all((await recordIds()).map(read));
    return records.filter((r): r is VaultRecord => r !== undefined);
  }

  /** Writes `text` to a fresh temp file next to the records, flushed to disk; returns its path. */
  async function writeTemp(id: string, text: string): Promise<string> {
    await ensureFolder();
    const temp = join(folder, `.${id}.${randomUUID()}.tmp`);
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(text, "utf8");
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return temp;
  }

  /** Read-modify-write of one record under its lock; `change` answers the new record or why not. */
  function update(
    id: string,
    change: (current: VaultRecord) => VaultRecord | undefined,
  ): Promise<{ record: VaultRecord; changed: boolean } | undefined> {
    return serialize(recordPath(id), () =>
      withLockFile(join(folder, `${id}.lock`), id, staleLockMs, lockTimeoutMs, ensureFolder, async () => {
        const current = await read(id);
        if (!current) return undefined;
        const next = change(current);
        if (!next) return { record: current, changed: false };
        const text = encode(next);
        const temp = await writeTemp(id, text);
        try {
          await rename(temp, recordPath(id));
        } catch (error) {
          await unlink(temp).catch(() => undefined);
          throw error;
        }
        return { record: JSON.parse(text) as VaultRecord, changed: true };
      }),
    );
  }

  return {
    async park(fresh) {
      checkId(fresh.id);
      const text = encode(newRecord(fresh));
      const temp = await writeTemp(fresh.id, text);
      try {
        await link(temp, recordPath(fresh.id));
        return { record: JSON.parse(text) as VaultRecord, created: true };
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
        const stored = await read(fresh.id);
        if (!stored) throw new Error(`Vault record ${fresh.id} exists but vanished while being read`);
        return { record: stored, created: false };
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },

    async get(id) {
      // An id that is not ours cannot name a record (and must never become a path).
      return isId(id) ? read(id) : undefined;
    },

    async list(filter = {}) {
      const records = await readAll();
      return newestFirst(records.filter((r) => matchesFilter(r, filter)));
    },

    async search(filter, page) {
      return scanPage(await readAll(), filter, page);
    },

    async idsWithPrefix(prefix, limit) {
      if (!isIdPrefix(prefix)) return [];
      // Names only: no record is read.
      return (await recordIds())
        .filter((id) => id.startsWith(prefix))
        .sort()
        .slice(0, Math.max(0, limit));
    },

    async findByMessageId(messageId, limit) {
      // Every record is read, as `list` does: a local vault holds a developer's dead letters, few
      // enough that an index would cost more than it saves (the S3 vault keeps one).
      const records = (await readAll()).filter((r) => r.message.messageId === messageId);
      return newestFirst(records).slice(0, Math.max(0, limit));
    },

    ...recordUpdates(update),
  };
}

// --- per-record locking -------------------------------------------------------------------------

/** Tails of the per-path queues of this process; shared by every vault instance on the same folder. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task queued on `key` in this process has settled. */
async function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function withLockFile<T>(
  lockPath: string,
  id: string,
  staleLockMs: number,
  lockTimeoutMs: number,
  ensureFolder: () => Promise<unknown>,
  task: () => Promise<T>,
): Promise<T> {
  await ensureFolder();
  const token = randomUUID();
  const deadline = Date.now() + lockTimeoutMs;
  let delay = 2;
  for (;;) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, token, at: new Date().toISOString() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
    if (await breakIfStale(lockPath, staleLockMs)) continue;
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${lockTimeoutMs} ms waiting for the lock of vault record ${id} (${lockPath})`,
      );
    }
    await new Promise((done) => setTimeout(done, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await task();
  } finally {
    await releaseLock(lockPath, token);
  }
}

/** Removes a lock left by a crashed holder; true when the lock is gone (retry at once). */
async function breakIfStale(lockPath: string, staleLockMs: number): Promise<boolean> {
  let modified: number;
  try {
    modified = (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  if (Date.now() - modified < staleLockMs) return false;
  // Renamed aside first so that, of several processes breaking it at once, exactly one gets it.
  const aside = `${lockPath}.${randomUUID()}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  // If a live lock was taken instead (it replaced the stale one between stat and rename), put it back.
  const taken = await stat(aside);
  if (Date.now() - taken.mtimeMs < staleLockMs) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return true;
}

/** Deletes the lock only if it is still ours (it may have been broken as stale and re-taken). */
async function releaseLock(lockPath: string, token: string): Promise<void> {
  try {
    const holder = JSON.parse(await readFile(lockPath, "utf8")) as { token?: unknown };
    if (holder.token === token) await unlink(lockPath);
  } catch {
    // Gone already, or someone else's half-written lock: not ours to remove.
  }
}

// --- records ------------------------------------------------------------------------------------

/** Callers get back what was stored (JSON's view of it), never an alias of their own objects. */
function encode(record: VaultRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
