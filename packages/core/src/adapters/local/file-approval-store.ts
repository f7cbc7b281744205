import { mkdir, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encodeApprovalRequest, parseApprovalRequest } from "../../approvals/approval-json";
import type { ApprovalStore, ApprovalUpdateOptions } from "../../approvals/approval-store";
import { createConditionalApprovalStore } from "../../approvals/conditional-approval-store";
import { namesIn } from "./dir-names";
import { errorCode } from "./file-lock";
import { DEFAULT_VAULT_DIR } from "./file-vault";
import { createVersionedFiles } from "./versioned-files";

/**
 * Approval requests as files, safe between any number of processes on one machine, with no locks:
 * each request is a folder `<dir>/approvals/<id>/` holding one file per version, `1.json`, `2.json`, …;
 * the highest is the request, and writing the next version is a compare-and-set (versioned-files.ts
 * says how, and why not one file per request). The price is a few small files per request (one per
 * write: create, each approval, the decision, the run).
 */
export function createFileApprovalStore(
  dir: string = DEFAULT_VAULT_DIR,
  options: ApprovalUpdateOptions = {},
): ApprovalStore {
  const folder = resolve(dir, "approvals");
  const files = createVersionedFiles(folder, (id) => `Approval request ${id}`);
  // Empty marker files; "pending" is too short to be an approval id, so it never names a request.
  const pendingFolder = join(folder, "pending");

  return createConditionalApprovalStore<number>(
    {
      async read(id) {
        const stored = await files.read(id, (text, path) => parseApprovalRequest(id, text, path));
        return stored && { request: stored.value, token: stored.version };
      },
      insert: (request) => files.create(request.id, request.version, encodeApprovalRequest(request)),
      replace: (next, version) => files.replace(next.id, next.version, version, encodeApprovalRequest(next)),
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
        const names = await namesIn(pendingFolder);
        return names.filter((name) => !name.startsWith(".")).slice(0, limit);
      },
    },
    options,
  );
}
