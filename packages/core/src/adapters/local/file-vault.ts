import { link, mkdir, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { matchesFilter } from "../../deadletter/record-filter";
import type { Vault, VaultRecord } from "../../deadletter/vault";
import { createVaultIndex, summaryOf, type VaultIndexOptions } from "../../deadletter/vault-index";
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
import { namesIn } from "./dir-names";
import { createFileIndexStorage } from "./file-index-storage";
import { errorCode, serialize, withLockFile } from "./file-lock";
import { writeFlushedTemp } from "./temp-file";

export const DEFAULT_VAULT_DIR = ".victoria/vault";

export interface FileVaultOptions {
  /** A lock file older than this is left over from a crashed holder and is broken. */
  staleLockMs?: number;
  /** How long to wait for a record's lock before failing; should exceed `staleLockMs`. */
  lockTimeoutMs?: number;
  /**
   * `search`/`list` through the search index under `<dir>/index/` (the default), or, with false,
   * by reading every record as before the index existed (the benchmark's baseline). Writes keep
   * the index either way.
   */
  useIndex?: boolean;
  /** Tuning of the index (tests make it compact sooner). */
  index?: Pick<VaultIndexOptions, "compactAfter" | "staleChangeMs" | "concurrency" | "excerptChars">;
}

/**
 * A vault of JSON files, `<dir>/records/<id>.json` (the `records/` folder leaves the rest of
 * VAULT_DIR to other stores), with its search index in `<dir>/index/` (vault-index.ts: every write
 * puts a change marker there before it changes the record; `search`/`list` read the index).
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
  const indexFolder = resolve(dir, "index");
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
    const names = await namesIn(folder);
    return names.flatMap((name) => recordIdOf(name) ?? []);
  }

  async function readAll(): Promise<VaultRecord[]> {
    const records = await Promise.all((await recordIds()).map(read));
    return records.filter((r): r is VaultRecord => r !== undefined);
  }

  /** Writes `text` to a fresh temp file next to the records, flushed to disk; returns its path. */
  async function writeTemp(id: string, text: string): Promise<string> {
    await ensureFolder();
    return writeFlushedTemp(folder, text, id);
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
        await index.noteChange(id, next.version);
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

  const index = createVaultIndex({
    ...options.index,
    storage: createFileIndexStorage(indexFolder, { staleLockMs, lockTimeoutMs }),
    read,
    ids: recordIds,
    where: `${indexFolder}/`,
  });

  return {
    async park(fresh) {
      checkId(fresh.id);
      // The index learns of the record before it exists (see vault-index.ts).
      await index.noteChange(fresh.id, 1);
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
      if (options.useIndex !== false) return index.list(filter);
      const records = await readAll();
      return newestFirst(records.filter((r) => matchesFilter(r, filter)));
    },

    async search(filter, page) {
      if (options.useIndex !== false) return index.search(filter, page);
      return scanPage(await readAll(), filter, page);
    },

    async summaries(filter) {
      if (options.useIndex !== false) return index.summaries(filter);
      return (await readAll()).filter((r) => matchesFilter(r, filter)).map(summaryOf);
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

// --- records ------------------------------------------------------------------------------------

/** Callers get back what was stored (JSON's view of it), never an alias of their own objects. */
function encode(record: VaultRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
