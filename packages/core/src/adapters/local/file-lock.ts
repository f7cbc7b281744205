import { randomUUID } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";

/**
 * Exclusive sections across the processes sharing a folder: an in-process queue per path (no
 * polling between callers of this process) plus a lock file created with `wx` (exclusive across
 * processes), retried with backoff; a lock file older than `staleLockMs` belongs to a crashed
 * holder and is broken. Used by the file vault's records and its search index.
 */

/** Tails of the per-path queues of this process; shared by every vault instance on the same folder. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task queued on `key` in this process has settled. */
export async function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
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

export async function withLockFile<T>(
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

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
