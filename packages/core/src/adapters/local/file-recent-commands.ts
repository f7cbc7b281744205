import { link, mkdir, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createRecentCommandStore, type RecentCommandStore } from "../../app-home/recent-commands";
import { errorCode, serialize } from "./file-lock";
import { writeFlushedTemp } from "./temp-file";

/**
 * Each person's recent commands as `<dir>/home/<userId>.json` beside the vault's records (VAULT_DIR).
 * One local server writes them: its in-process queue per file makes the compare (the text read)
 * and the write one step; the write is a flushed temp file renamed (or linked, to create) into place.
 */
export function createFileRecentCommandStore(dir: string): RecentCommandStore {
  const folder = resolve(dir, "home");
  const path = (userId: string) => join(folder, `${userId}.json`);

  async function read(userId: string): Promise<string | undefined> {
    try {
      return await readFile(path(userId), "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Publishes `text` when the file still holds `expected` (undefined: does not exist yet). */
  function publish(userId: string, text: string, expected: string | undefined): Promise<boolean> {
    return serialize(path(userId), async () => {
      if ((await read(userId)) !== expected) return false;
      await mkdir(folder, { recursive: true });
      const temp = await writeFlushedTemp(folder, text, userId);
      try {
        if (expected === undefined) await link(temp, path(userId));
        else await rename(temp, path(userId));
        return true;
      } catch (error) {
        if (errorCode(error) === "EEXIST") return false;
        throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    });
  }

  return createRecentCommandStore<string>({
    read: async (userId) => {
      const text = await read(userId);
      return text === undefined ? undefined : { text, token: text };
    },
    create: (userId, text) => publish(userId, text, undefined),
    replace: (userId, text, token) => publish(userId, text, token),
    where: (userId) => path(userId),
  });
}
