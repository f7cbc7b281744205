import type { Dirent } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { readFileBounded } from "../bounded-file";
import { CommandFailure } from "../errors";
import type { StorageProvider } from "./storage-types";

/**
 * Keeps files in a folder (`storage_providers.local.container`). Keys are `/`-separated paths
 * relative to it; the folder is created on the first put, as the Python Victoria did.
 */
export class LocalFolderStorage implements StorageProvider {
  private readonly root: string;

  constructor(folder: string) {
    this.root = resolve(folder);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
    } catch (error) {
      throw new CommandFailure(`Could not store '${key}' in local folder '${this.root}': ${reason(error)}`);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.pathOf(key);
    try {
      return new Uint8Array(await readFileBounded(file));
    } catch (error) {
      if (error instanceof CommandFailure) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // A directory or a path through a file is as absent as a missing file, from the key's point of view.
      if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") {
        throw new CommandFailure(`No such key '${key}' in local folder '${this.root}'`, {
          failureClass: "not_found",
        });
      }
      throw new CommandFailure(`Could not read '${key}' from local folder '${this.root}': ${reason(error)}`);
    }
  }

  async ls(): Promise<string[]> {
    const keys: string[] = [];
    await this.walk(this.root, "", keys);
    // Default sort is UTF-16 code-unit order: locale-independent, like S3 and Blob listings.
    return keys.sort();
  }

  private async walk(dir: string, prefix: string, keys: string[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // Nothing stored yet: the folder only appears on the first put.
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && prefix === "") return;
      throw new CommandFailure(`Could not list local folder '${this.root}': ${reason(error)}`);
    }
    for (const entry of entries) {
      const key = `${prefix}${entry.name}`;
      if (entry.isDirectory()) await this.walk(join(dir, entry.name), `${key}/`, keys);
      else if (entry.isFile()) keys.push(key);
    }
  }

  /** Maps a key to a file under the folder, refusing keys that would land outside it. */
  private pathOf(key: string): string {
    const segments = key.split(/[/\\]/);
    if (
      key === "" ||
      isAbsolute(key) ||
      /^[a-zA-Z]:/.test(key) ||
      segments.some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new CommandFailure(
        `Invalid key '${key}': keys are relative paths of '/'-separated names (no '.', '..' or empty parts)`,
      );
    }
    const file = join(this.root, ...segments);
    const inside = relative(this.root, file);
    if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) {
      throw new CommandFailure(`Invalid key '${key}': it points outside the storage folder`);
    }
    return file;
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
