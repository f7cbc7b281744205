import { randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, readFile, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type BulkJob, parseBulkJob } from "../../deadletter/bulk-job";
import { type BulkJobStore, createConditionalJobStore } from "../../deadletter/bulk-job-store";
import { DEFAULT_VAULT_DIR } from "./file-vault";

/**
 * Bulk jobs as files under `<dir>/jobs/<id>/`, one file per version (`1.json`, `2.json`, …), the
 * highest being the job: the file approval store's scheme (see file-approval-store.ts for why).
 * Publishing version n+1 with `link()` fails if it exists, so it is a compare-and-set on "the
 * current version is n", safe between processes with no lock a crashed runner could leave held.
 */
export function createFileBulkJobStore(dir: string = DEFAULT_VAULT_DIR): BulkJobStore {
  const folder = resolve(dir, "jobs");
  const jobFolder = (id: string) => join(folder, id);
  const versionPath = (id: string, version: number) => join(jobFolder(id), `${version}.json`);

  async function publish(job: BulkJob): Promise<boolean> {
    const temp = join(jobFolder(job.id), `.${randomUUID()}.tmp`);
    const handle = await open(temp, "wx");
    try {
      try {
        await handle.writeFile(JSON.stringify(job), "utf8");
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await link(temp, versionPath(job.id, job.version));
      return true;
    } catch (error) {
      if (errorCode(error) === "EEXIST") return false;
      throw new Error(`Bulk job ${job.id} could not be written (${versionPath(job.id, job.version)})`, {
        cause: error,
      });
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  return createConditionalJobStore<number>({
    async read(id) {
      let names: string[];
      try {
        names = await readdir(jobFolder(id));
      } catch (error) {
        if (errorCode(error) === "ENOENT") return undefined;
        throw new Error(`Bulk job ${id} could not be read (${jobFolder(id)})`, { cause: error });
      }
      const versions = names.flatMap((name) => {
        const match = /^([1-9][0-9]*)\.json$/.exec(name);
        return match ? [Number(match[1])] : [];
      });
      if (versions.length === 0) return undefined;
      const latest = Math.max(...versions);
      const path = versionPath(id, latest);
      const job = parseBulkJob(await readFile(path, "utf8"), path);
      if (job.version !== latest) throw new Error(`Bulk job ${id} is corrupt (${path})`);
      return { job, token: latest };
    },
    async insert(job) {
      await mkdir(jobFolder(job.id), { recursive: true });
      return publish(job);
    },
    async replace(next, version) {
      if (next.version !== version + 1) throw new Error(`Bulk job ${next.id}: version out of step`);
      return publish(next);
    },
    async ids() {
      return readdir(folder).catch((error: unknown) => {
        if (errorCode(error) === "ENOENT") return [] as string[];
        throw error;
      });
    },
  });
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
