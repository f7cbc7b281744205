import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { createVictoria } from "../engine";
import { CommandFailure, ConfigError } from "../errors";
import { BufferedOutput } from "../output";
import type { CommandContext } from "../plugin";
import { readLocalFile } from "../services";
import { LocalFolderStorage } from "../storage/local-folder";
import { storageFactories } from "../storage/storage-factories";
import type { StorageProvider } from "../storage/storage-types";
import { storePlugin } from "./store";

let dir: string;
let storeDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-store-"));
  storeDir = join(dir, "store");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs one store command the way the engine would, with a `local` provider over a temp folder. */
async function runStore(provider: string, command: string, args: Record<string, string | undefined> = {}) {
  const spec = storePlugin.commands.find((c) => c.name === command);
  if (!spec) throw new Error(`store has no '${command}' command`);
  const out = new BufferedOutput();
  const requested: string[] = [];
  const storage: Record<string, StorageProvider> = { local: new LocalFolderStorage(storeDir) };
  const ctx: CommandContext = {
    config: parseConfig(
      `logging_config: {}\nstorage_providers: {local: {container: ${JSON.stringify(storeDir)}}}`,
      "test",
    ),
    configPath: null,
    pluginConfig: undefined,
    pluginArgs: { provider },
    args,
    out,
    services: {
      localFile: readLocalFile,
      encryption: () => Promise.reject(new Error("store must not need encryption")),
      storage: async (name) => {
        requested.push(name);
        const found = storage[name];
        if (!found) throw new ConfigError(`No configuration for storage provider '${name}'`);
        return found;
      },
    },
    signal: new AbortController().signal,
  };
  await spec.run(ctx);
  return { text: out.text(), requested };
}

describe("store plugin", () => {
  it("declares `store <provider> ls|get|put` with the argument shapes of the Python plugin", () => {
    expect(storePlugin.name).toBe("store");
    expect(storePlugin.summary).toBe("Store files/data in cloud storage.");
    expect(storePlugin.pluginArgs?.map((a) => a.name)).toEqual(["provider"]);
    const shapes = storePlugin.commands.map((c) => [
      c.name,
      c.args.map((a) => `${a.name}${a.optional ? "?" : ""}`),
    ]);
    expect(shapes).toEqual([
      ["ls", []],
      ["get", ["key"]],
      ["put", ["filename", "key?"]],
    ]);
  });

  it("put uploads a file under its basename by default and says where", async () => {
    const file = join(dir, "notes.txt");
    await writeFile(file, "héllo\n");
    const { text, requested } = await runStore("local", "put", { filename: file });
    expect(requested).toEqual(["local"]);
    expect(text).toBe(`Uploaded '${file}' to 'notes.txt' in storage provider 'local' (7 bytes)\n`);
    expect(await readFile(join(storeDir, "notes.txt"), "utf8")).toBe("héllo\n");
  });

  it("put uses the given key, which may contain '/'", async () => {
    const file = join(dir, "notes.txt");
    await writeFile(file, "x");
    await runStore("local", "put", { filename: file, key: "configs/app.yaml" });
    expect(await readFile(join(storeDir, "configs", "app.yaml"), "utf8")).toBe("x");
  });

  it("put of a missing file fails before touching storage", async () => {
    const run = runStore("local", "put", { filename: join(dir, "nope.txt") });
    await expect(run).rejects.toBeInstanceOf(CommandFailure);
    await expect(run).rejects.toThrow(`Could not open file '${join(dir, "nope.txt")}': no such file`);
  });

  it("ls prints one key per line, sorted", async () => {
    const storage = new LocalFolderStorage(storeDir);
    await storage.put("b.txt", new Uint8Array([1]));
    await storage.put("a/c.txt", new Uint8Array([1]));
    expect((await runStore("local", "ls")).text).toBe("a/c.txt\nb.txt\n");
  });

  it("ls of an empty store prints nothing", async () => {
    expect((await runStore("local", "ls")).text).toBe("");
  });

  it("get prints the content as UTF-8", async () => {
    await new LocalFolderStorage(storeDir).put("greeting", new TextEncoder().encode("grüße"));
    expect((await runStore("local", "get", { key: "greeting" })).text).toBe("grüße\n");
  });

  it("get of a missing key fails naming it", async () => {
    await expect(runStore("local", "get", { key: "absent" })).rejects.toThrow("No such key 'absent'");
  });

  it("asks the services for the provider named on the command line", async () => {
    await expect(runStore("s3", "ls")).rejects.toThrow("No configuration for storage provider 's3'");
  });
});

describe("store plugin through the engine", () => {
  it("puts, lists and gets with a local provider from victoria.yaml", async () => {
    const configFile = join(dir, "victoria.yaml");
    await writeFile(
      configFile,
      `logging_config: {version: 1}\nstorage_providers:\n  local:\n    container: ${JSON.stringify(storeDir)}\n`,
    );
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "src", "data.txt"), "payload");
    const victoria = createVictoria({
      plugins: [storePlugin],
      providers: { storage: storageFactories, encryption: {} },
      env: {},
    });
    const run = async (...argv: string[]) => {
      const out = new BufferedOutput();
      const code = await victoria.run(["-c", configFile, "store", ...argv], { out });
      return { code, text: out.text() };
    };
    expect((await run("local", "put", join(dir, "src", "data.txt"), "in/data.txt")).code).toBe(0);
    expect(await run("local", "ls")).toEqual({ code: 0, text: "in/data.txt\n" });
    expect(await run("local", "get", "in/data.txt")).toEqual({ code: 0, text: "payload\n" });
    const missing = await run("local", "get", "nope");
    expect(missing.code).toBe(1);
    expect(missing.text).toContain("Error: No such key 'nope'");
    const unconfigured = await run("s3", "ls");
    expect(unconfigured.code).toBe(1);
  });
});
