import { link, mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { namesIn } from "./dir-names";
import { errorCode } from "./file-lock";
import { writeFlushedTemp } from "./temp-file";

/**
 * Records kept as one folder each, `<folder>/<id>/`, holding one file per version (`1.json`,
 * `2.json`, …); the highest is the record. Safe between any number of processes on one machine,
 * with no locks:
 *
 * - A version is written to a temp file in that folder, flushed, then published with `link()`, which
 *   fails with EEXIST if the name exists. So writing version n+1 is a compare-and-set on "the current
 *   version is n": of writers that all read n, exactly one links `n+1.json`; the others re-read.
 * - A version file appears whole (the link is atomic) and is never changed or deleted, so a reader
 *   always sees a complete record, and a crash leaves at most a stray `.tmp`, never a wedged record.
 *
 * Why not one file per record: `rename()` replaces unconditionally, so it cannot compare-and-set, and
 * a lock file must eventually be broken when its holder seems dead, which a slow (not dead) holder
 * turns into two writers — the one thing an exactly-once run cannot afford. The price is a few small
 * files per record (one per write).
 */
export interface VersionedFiles {
  /** The latest version, parsed, or undefined when the record does not exist. */
  read<T extends { version: number }>(
    id: string,
    parse: (text: string, path: string) => T,
  ): Promise<{ value: T; version: number } | undefined>;
  /** Publishes version `version` of a new record; false when it exists already. */
  create(id: string, version: number, text: string): Promise<boolean>;
  /** Publishes `next` over version `read`; false when someone else published `read + 1` first. */
  replace(id: string, next: number, read: number, text: string): Promise<boolean>;
  /** The ids of every record (folder) there is. */
  ids(): Promise<string[]>;
}

/** `folder` holds the records; `what(id)` names one in errors ("Bulk job 42"). */
export function createVersionedFiles(folder: string, what: (id: string) => string): VersionedFiles {
  const recordFolder = (id: string) => join(folder, id);
  const versionPath = (id: string, version: number) => join(recordFolder(id), `${version}.json`);

  async function publish(id: string, version: number, text: string): Promise<boolean> {
    let temp: string | undefined;
    try {
      temp = await writeFlushedTemp(recordFolder(id), text);
      await link(temp, versionPath(id, version));
      return true;
    } catch (error) {
      if (errorCode(error) === "EEXIST") return false;
      throw new Error(`${what(id)} could not be written (${versionPath(id, version)}): ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      if (temp !== undefined) await unlink(temp).catch(() => undefined);
    }
  }

  return {
    async read(id, parse) {
      let names: string[];
      try {
        names = await readdir(recordFolder(id));
      } catch (error) {
        if (errorCode(error) === "ENOENT") return undefined;
        throw new Error(`${what(id)} could not be read (${recordFolder(id)}): ${messageOf(error)}`, {
          cause: error,
        });
      }
      // Temp files start with a dot and never match; a folder left without versions is no record.
      const versions = names.flatMap((name) => {
        const match = /^([1-9][0-9]*)\.json$/.exec(name);
        return match ? [Number(match[1])] : [];
      });
      if (versions.length === 0) return undefined;
      const latest = Math.max(...versions);
      const path = versionPath(id, latest);
      const value = parse(await readFile(path, "utf8"), path);
      if (value.version !== latest) {
        throw new Error(`${what(id)} is corrupt (${path}): it holds version ${value.version}`);
      }
      return { value, version: latest };
    },
    async create(id, version, text) {
      await mkdir(recordFolder(id), { recursive: true });
      return publish(id, version, text);
    },
    // `next` is always the version read plus one: linking it is the compare-and-set.
    async replace(id, next, read, text) {
      if (next !== read + 1) throw new Error(`${what(id)}: version out of step`);
      return publish(id, next, text);
    },
    ids: () => namesIn(folder),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
