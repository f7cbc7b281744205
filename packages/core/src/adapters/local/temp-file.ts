import { randomUUID } from "node:crypto";
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * Writes `text` to a fresh temp file in `folder`, flushed to disk, and answers its path: the first
 * half of an atomic publish, whose second is a `link()` or `rename()` in the same folder (so on the
 * same file system). The name starts with a dot and ends in `.tmp`, so no listing takes it for data;
 * `tag` goes into it to tell whose a stray one was. A failed write removes the file again.
 */
export async function writeFlushedTemp(folder: string, text: string, tag?: string): Promise<string> {
  const temp = join(folder, `.${tag === undefined ? "" : `${tag}.`}${randomUUID()}.tmp`);
  const handle = await open(temp, "wx");
  try {
    try {
      await handle.writeFile(text, "utf8");
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return temp;
}
