import { resolve } from "node:path";
import { parseBulkJob } from "../../deadletter/bulk-job";
import { type BulkJobStore, createConditionalJobStore } from "../../deadletter/bulk-job-store";
import { DEFAULT_VAULT_DIR } from "./file-vault";
import { createVersionedFiles } from "./versioned-files";

/**
 * Bulk jobs as files under `<dir>/jobs/<id>/`, one file per version (`1.json`, `2.json`, …), the
 * highest being the job; publishing the next version is a compare-and-set (see versioned-files.ts),
 * safe between processes with no lock a crashed runner could leave held.
 */
export function createFileBulkJobStore(dir: string = DEFAULT_VAULT_DIR): BulkJobStore {
  const files = createVersionedFiles(resolve(dir, "jobs"), (id) => `Bulk job ${id}`);
  return createConditionalJobStore<number>({
    async read(id) {
      const stored = await files.read(id, parseBulkJob);
      return stored && { job: stored.value, token: stored.version };
    },
    insert: (job) => files.create(job.id, job.version, JSON.stringify(job)),
    replace: (next, version) => files.replace(next.id, next.version, version, JSON.stringify(next)),
    ids: () => files.ids(),
  });
}
