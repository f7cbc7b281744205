import { createHash } from "node:crypto";
import { link, mkdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { IndexStorage } from "../../deadletter/vault-index-storage";
import { namesIn } from "./dir-names";
import { errorCode, serialize, withLockFile } from "./file-lock";
import { writeFlushedTemp } from "./temp-file";

export interface FileIndexStorageOptions {
  staleLockMs: number;
  lockTimeoutMs: number;
}

/**
 * The vault index's objects as files below `folder`, written as the file vault writes records:
 * a flushed temp file in the same folder, then `link()` (create: fails with EEXIST, atomically) or
 * `rename()` (replace). Compare-and-set (`replace`) holds a lock file while it compares the
 * content's hash and renames. Names are the index's own (`segments/…`, `changes/<hex>.<n>`), never
 * outside input.
 */
export function createFileIndexStorage(folder: string, options: FileIndexStorageOptions): IndexStorage {
  const pathOf = (name: string) => join(folder, ...name.split("/"));
  const tagOf = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

  async function readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw new Error(`Vault index file ${path} could not be read: ${messageOf(error)}`);
    }
  }

  async function writeTemp(path: string, text: string): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    return writeFlushedTemp(dirname(path), text);
  }

  async function publish(path: string, text: string, how: "link" | "rename"): Promise<void> {
    const temp = await writeTemp(path, text);
    try {
      await (how === "link" ? link(temp, path) : rename(temp, path));
    } finally {
      if (how === "link") await unlink(temp).catch(() => undefined);
    }
  }

  return {
    async read(name) {
      const text = await readText(pathOf(name));
      return text === undefined ? undefined : { text, tag: tagOf(text) };
    },

    async create(name, text) {
      try {
        await publish(pathOf(name), text, "link");
        return true;
      } catch (error) {
        if (errorCode(error) === "EEXIST") return false;
        throw error;
      }
    },

    replace(name, text, tag) {
      const path = pathOf(name);
      return serialize(path, () =>
        withLockFile(
          `${path}.lock`,
          name,
          options.staleLockMs,
          options.lockTimeoutMs,
          () => mkdir(dirname(path), { recursive: true }),
          async () => {
            const current = await readText(path);
            if (current === undefined || tagOf(current) !== tag) return false;
            await publish(path, text, "rename");
            return true;
          },
        ),
      );
    },

    async write(name, text) {
      await publish(pathOf(name), text, "rename");
    },

    async list(prefix) {
      const dir = pathOf(prefix.replace(/\/$/, ""));
      const names = await namesIn(dir);
      const listed = await Promise.all(
        // Temp files start with a dot: a crashed write is never listed.
        names
          .filter((n) => !n.startsWith("."))
          .map(async (n) => {
            try {
              return { name: `${prefix}${n}`, modifiedMs: (await stat(join(dir, n))).mtimeMs };
            } catch (error) {
              if (errorCode(error) === "ENOENT") return undefined; // removed while listing
              throw error;
            }
          }),
      );
      return listed.filter((e): e is { name: string; modifiedMs: number } => e !== undefined);
    },

    async remove(name) {
      await unlink(pathOf(name)).catch((error: unknown) => {
        if (errorCode(error) !== "ENOENT") throw error;
      });
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
