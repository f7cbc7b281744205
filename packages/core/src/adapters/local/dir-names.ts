import { readdir } from "node:fs/promises";
import { errorCode } from "./file-lock";

/** The names in `dir`, none when it does not exist (yet): stores create their folders on first write. */
export async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return [];
    throw error;
  }
}
