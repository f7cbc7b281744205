import { open } from "node:fs/promises";
import { CommandFailure } from "./errors";

/**
 * The most any command reads from one file or stored object: output is capped at 1 MiB, a config
 * is a few KiB, and `-c /dev/zero` or a huge object must cost no more than this.
 */
export const MAX_READ_BYTES = 1024 * 1024;

/** Why a file could not be read, in words, without echoing anything the file holds. */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return code ?? (error instanceof Error ? error.message : String(error));
}

export class FileTooLargeError extends CommandFailure {
  override readonly name = "FileTooLargeError";
}

/**
 * Reads at most `maxBytes` from `path` — whatever it is (a device, a FIFO with data, /proc) — and
 * fails past that instead of reading on. Errors carry the OS code for the caller to word.
 */
export async function readFileBounded(path: string, maxBytes = MAX_READ_BYTES): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        throw new FileTooLargeError(`'${path}' is larger than ${maxBytes.toLocaleString("en")} bytes`, {
          failureClass: "invalid",
        });
      }
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}
