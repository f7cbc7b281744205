import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_READ_BYTES } from "../bounded-file";
import { CommandFailure } from "../errors";
import { LocalFolderStorage } from "./local-folder";

const bytes = (text: string) => new TextEncoder().encode(text);

let dir: string;
let folder: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-local-"));
  folder = join(dir, "store");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("LocalFolderStorage", () => {
  it("reads no more than the read bound of a stored file", async () => {
    const storage = new LocalFolderStorage(folder);
    await storage.put("big.bin", new Uint8Array(MAX_READ_BYTES + 1));
    await expect(storage.get("big.bin")).rejects.toThrow(/is larger than 1,048,576 bytes/);
  });

  it("creates the folder on the first put and reads back what it wrote", async () => {
    const storage = new LocalFolderStorage(folder);
    await expect(stat(folder)).rejects.toThrow();
    await storage.put("config.yaml", bytes("a: 1\n"));
    expect(await readFile(join(folder, "config.yaml"), "utf8")).toBe("a: 1\n");
    expect(await storage.get("config.yaml")).toEqual(bytes("a: 1\n"));
  });

  it("keeps binary data intact and overwrites existing keys", async () => {
    const storage = new LocalFolderStorage(folder);
    const binary = new Uint8Array([0, 255, 10, 13, 128]);
    await storage.put("blob.bin", bytes("old"));
    await storage.put("blob.bin", binary);
    expect(await storage.get("blob.bin")).toEqual(binary);
  });

  it("stores keys with '/' in subfolders and lists them recursively, sorted", async () => {
    const storage = new LocalFolderStorage(folder);
    await storage.put("b.txt", bytes("b"));
    await storage.put("a/z.txt", bytes("z"));
    await storage.put("a/deep/er.txt", bytes("er"));
    await storage.put("A.txt", bytes("A"));
    expect(await readdir(join(folder, "a", "deep"))).toEqual(["er.txt"]);
    expect(await storage.ls()).toEqual(["A.txt", "a/deep/er.txt", "a/z.txt", "b.txt"]);
    expect(await storage.get("a/deep/er.txt")).toEqual(bytes("er"));
  });

  it("lists nothing before anything is stored", async () => {
    expect(await new LocalFolderStorage(folder).ls()).toEqual([]);
  });

  it("lists files put there by hand, as the folder is the store", async () => {
    const storage = new LocalFolderStorage(folder);
    await storage.put("x", bytes("x"));
    await writeFile(join(folder, "by-hand.txt"), "h");
    expect(await storage.ls()).toEqual(["by-hand.txt", "x"]);
  });

  it("fails naming the key when it does not exist (or is a folder)", async () => {
    const storage = new LocalFolderStorage(folder);
    await expect(storage.get("missing.txt")).rejects.toBeInstanceOf(CommandFailure);
    await expect(storage.get("missing.txt")).rejects.toThrow("No such key 'missing.txt'");
    await storage.put("sub/file", bytes("f"));
    await expect(storage.get("sub")).rejects.toThrow("No such key 'sub'");
    await expect(storage.get("sub/file/below")).rejects.toThrow("No such key 'sub/file/below'");
  });

  it.each([
    "../outside.txt",
    "a/../../outside.txt",
    "..",
    "/etc/passwd",
    "a\\..\\..\\outside.txt",
    "",
    "a//b",
    "./a",
  ])("rejects key %j that could escape or is not canonical", async (key) => {
    const storage = new LocalFolderStorage(folder);
    await expect(storage.put(key, bytes("x"))).rejects.toBeInstanceOf(CommandFailure);
    await expect(storage.get(key)).rejects.toThrow(/^Invalid key/);
    // Nothing was written anywhere in the temp dir.
    expect(await readdir(dir)).toEqual([]);
  });

  it("resolves a relative folder against the working directory", async () => {
    const storage = new LocalFolderStorage(relative(process.cwd(), join(dir, "rel", "..", "store")));
    await storage.put("k", bytes("v"));
    expect(await readFile(join(folder, "k"), "utf8")).toBe("v");
  });
});
