import { randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ApprovalRequest } from "../../approvals/approval";
import { encodeApprovalRequest, parseApprovalRequest } from "../../approvals/approval-json";
import type { ApprovalStore, ApprovalUpdateOptions } from "../../approvals/approval-store";
import { createConditionalApprovalStore } from "../../approvals/conditional-approval-store";
import { DEFAULT_VAULT_DIR } from "./file-vault";

/**
 * Approval requests as files, safe between any number of processes on one machine, with no locks:
 * each request is a folder `<dir>/approvals/<id>/` holding one file per version, `1.json`, `2.json`, …;
 * the highest is the request.
 *
 * - A version is written to a temp file in that folder, flushed, then published with `link()`, which
 *   fails with EEXIST if the name exists. So writing version n+1 is a compare-and-set on "the current
 *   version is n": of writers that all read n, exactly one links `n+1.json`; the others re-read.
 * - A version file appears whole (the link is atomic) and is never changed or deleted, so a reader
 *   always sees a complete request, and a crash leaves at most a stray `.tmp`, never a wedged request.
 * Why not one file per request: `rename()` replaces unconditionally, so it cannot compare-and-set, and
 * a lock file must eventually be broken when its holder seems dead, which a slow (not dead) holder
 * turns into two writers — the one thing an exactly-once run cannot afford. The price is a few
 * small files per request (one per write: create, each approval, the decision, the run).
 */
export function createFileApprovalStore(
  dir: string = DEFAULT_VAULT_DIR,
  options: ApprovalUpdateOptions = {},
): ApprovalStore {
  const folder = resolve(dir, "approvals");
  const requestFolder = (id: string) => join(folder, id);
  const versionPath = (id: string, version: number) => join(requestFolder(id), `${version}.json`);
  // Empty marker files; "pending" is too short to be an approval id, so it never names a request.
  const pendingFolder = join(folder, "pending");

  /** Publishes `request` as its version's file; false when that version exists already. */
  async function publish(request: ApprovalRequest): Promise<boolean> {
    const temp = join(requestFolder(request.id), `.${randomUUID()}.tmp`);
    const handle = await open(temp, "wx");
    try {
      try {
        await handle.writeFile(encodeApprovalRequest(request), "utf8");
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await link(temp, versionPath(request.id, request.version));
      return true;
    } catch (error) {
      if (errorCode(error) === "EEXIST") return false;
      throw new Error(
        `Approval request ${request.id} could not be written (${versionPath(request.id, request.version)}): ${messageOf(error)}`,
        { cause: error },
      );
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  return createConditionalApprovalStore<number>(
    {
      async read(id) {
        let names: string[];
        try {
          names = await readdir(requestFolder(id));
        } catch (error) {
          if (errorCode(error) === "ENOENT") return undefined;
          throw new Error(
            `Approval request ${id} could not be read (${requestFolder(id)}): ${messageOf(error)}`,
          );
        }
        // Temp files start with a dot and never match; a folder left without versions is no request.
        const versions = names.flatMap((name) => {
          const match = /^([1-9][0-9]*)\.json$/.exec(name);
          return match ? [Number(match[1])] : [];
        });
        if (versions.length === 0) return undefined;
        const latest = Math.max(...versions);
        const path = versionPath(id, latest);
        const request = parseApprovalRequest(id, await readFile(path, "utf8"), path);
        if (request.version !== latest) {
          throw new Error(`Approval request ${id} is corrupt (${path}): it holds version ${request.version}`);
        }
        return { request, token: latest };
      },
      async insert(request) {
        await mkdir(requestFolder(request.id), { recursive: true });
        return publish(request);
      },
      // `next.version` is always the version read plus one: linking it is the compare-and-set.
      async replace(next, version) {
        if (next.version !== version + 1) throw new Error(`Approval request ${next.id}: version out of step`);
        return publish(next);
      },
      async markPending(id) {
        await mkdir(pendingFolder, { recursive: true });
        await writeFile(join(pendingFolder, id), "");
      },
      async unmarkPending(id) {
        await unlink(join(pendingFolder, id)).catch((error: unknown) => {
          if (errorCode(error) !== "ENOENT") throw error;
        });
      },
      async pendingIds(limit) {
        const names = await readdir(pendingFolder).catch((error: unknown) => {
          if (errorCode(error) === "ENOENT") return [] as string[];
          throw error;
        });
        return names.filter((name) => !name.startsWith(".")).slice(0, limit);
      },
    },
    options,
  );
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
