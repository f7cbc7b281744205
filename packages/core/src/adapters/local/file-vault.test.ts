import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sampleRecord, vaultContract } from "../../deadletter/vault-contract";
import { createFileVault, DEFAULT_VAULT_DIR } from "./file-vault";

vaultContract("file vault", async (tuning = {}) => {
  const dir = await mkdtemp(join(tmpdir(), "victoria-vault-"));
  const index = join(dir, "index");
  /** Every file below `folder`, as `a/b` names. */
  const walk = async (folder: string, base = ""): Promise<string[]> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const names = await Promise.all(
      entries.map((e) =>
        e.isDirectory() ? walk(join(folder, e.name), `${base}${e.name}/`) : [`${base}${e.name}`],
      ),
    );
    return names.flat().sort();
  };
  return {
    vault: createFileVault(dir, tuning),
    dispose: () => rm(dir, { recursive: true, force: true }),
    backdoor: {
      async putRecordUnindexed(record) {
        await mkdir(join(dir, "records"), { recursive: true });
        await writeFile(join(dir, "records", `${record.id}.json`), JSON.stringify(record));
      },
      async putIndexObject(name, text) {
        await mkdir(dirname(join(index, name)), { recursive: true });
        await writeFile(join(index, name), text);
      },
      indexNames: () => walk(index),
      twin: () => createFileVault(dir, tuning),
    },
  };
});

const resolution = { by: "alice", at: "2025-01-02T05:00:00.000Z" };
const notification = { channel: "C0ALERTS", ts: "1.2", id: "N1", at: "2025-01-02T04:00:00.000Z" };

describe("file vault on disk", () => {
  let dir: string;
  let records: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "victoria-vault-"));
    records = join(dir, "records");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("defaults to .victoria/vault", () => {
    expect(DEFAULT_VAULT_DIR).toBe(".victoria/vault");
  });

  it("keeps one JSON file per record under records/, and no temp or lock files after writes", async () => {
    const vault = createFileVault(dir);
    const { record } = await vault.park(sampleRecord(1));
    await vault.park(sampleRecord(1));
    await vault.markNotified(record.id, notification);
    await vault.transition(record.id, "parked", "replayed", resolution);
    await vault.transition(record.id, "parked", "deleted", resolution);
    expect(await readdir(records)).toEqual([`${record.id}.json`]);
    const onDisk = JSON.parse(await readFile(join(records, `${record.id}.json`), "utf8"));
    expect(onDisk).toEqual(await vault.get(record.id));
    expect(onDisk).toMatchObject({ state: "replayed", version: 3 });
  });

  it("ignores what a crash mid-write leaves behind: temp files, set-aside locks", async () => {
    const vault = createFileVault(dir);
    const fresh = sampleRecord(1);
    await mkdir(records, { recursive: true });
    // A write that died before its rename/link: a partial temp file, never the record itself.
    await writeFile(join(records, `.${fresh.id}.1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp`), '{"id":"');
    await writeFile(join(records, `${fresh.id}.lock.0a1b.stale`), "{}");
    expect(await vault.list()).toEqual([]);
    expect(await vault.get(fresh.id)).toBeUndefined();
    const { created } = await vault.park(fresh);
    expect(created).toBe(true);
    expect((await vault.list()).map((r) => r.id)).toEqual([fresh.id]);
  });

  it("fails with a clear error naming the id for a corrupt record, in get, list and updates", async () => {
    const vault = createFileVault(dir);
    const { record } = await vault.park(sampleRecord(1));
    const file = join(records, `${record.id}.json`);
    await writeFile(file, '{"id": "truncat');
    const notJson = new RegExp(
      `^Vault record ${record.id} is corrupt \\(.*${record.id}\\.json\\): not valid JSON$`,
    );
    await expect(vault.get(record.id)).rejects.toThrow(notJson);
    await expect(vault.list()).rejects.toThrow(notJson);
    await expect(vault.transition(record.id, "parked", "deleted", resolution)).rejects.toThrow(notJson);
    await expect(vault.park(sampleRecord(1))).rejects.toThrow(notJson);

    await writeFile(file, JSON.stringify({ ...record, id: "ffff" }));
    await expect(vault.get(record.id)).rejects.toThrow(`Vault record ${record.id} is corrupt`);
    await writeFile(file, JSON.stringify({ ...record, state: "lost" }));
    await expect(vault.get(record.id)).rejects.toThrow('unknown state "lost"');
    await writeFile(file, "[]");
    await expect(vault.get(record.id)).rejects.toThrow("not a JSON object");
  });

  it("breaks a lock left behind by a crashed holder", async () => {
    const vault = createFileVault(dir, { staleLockMs: 1_000, lockTimeoutMs: 5_000 });
    const { record } = await vault.park(sampleRecord(1));
    const lock = join(records, `${record.id}.lock`);
    await writeFile(lock, JSON.stringify({ pid: 999999, token: "dead" }));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, anHourAgo, anHourAgo);
    expect((await vault.transition(record.id, "parked", "deleted", resolution)).ok).toBe(true);
    expect(await readdir(records)).toEqual([`${record.id}.json`]);
  });

  it("waits for a live lock held elsewhere, and times out naming the record", async () => {
    const vault = createFileVault(dir, { staleLockMs: 60_000, lockTimeoutMs: 300 });
    const { record } = await vault.park(sampleRecord(1));
    const lock = join(records, `${record.id}.lock`);
    await writeFile(lock, JSON.stringify({ pid: 1, token: "other" }));
    await expect(vault.transition(record.id, "parked", "deleted", resolution)).rejects.toThrow(
      `Timed out after 300 ms waiting for the lock of vault record ${record.id}`,
    );
    expect((await vault.get(record.id))?.state).toBe("parked");
    // Released by its holder while we wait: the transition goes through.
    const waiting = createFileVault(dir, { staleLockMs: 60_000, lockTimeoutMs: 5_000 }).transition(
      record.id,
      "parked",
      "deleted",
      resolution,
    );
    setTimeout(() => void rm(lock), 100);
    expect((await waiting).ok).toBe(true);
    // Someone else's lock is never deleted by our release.
    expect(await readdir(records)).toEqual([`${record.id}.json`]);
  });
});

// Each child parks, notifies and transitions against the same folder once told to go, and prints
// what it saw; run through tsx so it loads the TypeScript module as the service does.
const CHILD = `
import { createFileVault } from ${JSON.stringify(new URL("./file-vault.ts", import.meta.url).href)};
const [dir, parkJson, notifyId, transitionId] = process.argv.slice(1);
const vault = createFileVault(dir);
process.stdout.write("ready\\n");
await new Promise((go) => process.stdin.once("data", go));
const n = 10;
const at = new Date().toISOString();
const [parks, , transitions] = await Promise.all([
  Promise.all(Array.from({ length: n }, () => vault.park(JSON.parse(parkJson)))),
  Promise.all(Array.from({ length: n }, (_, i) => vault.markNotified(notifyId, { channel: "C", ts: String(i), id: "N" + process.pid, at }))),
  Promise.all(Array.from({ length: n }, (_, i) => vault.transition(transitionId, "parked", i % 2 ? "replayed" : "deleted", { by: String(process.pid), at }))),
]);
process.stdout.write(JSON.stringify({ created: parks.filter((p) => p.created).length, won: transitions.filter((t) => t.ok).length }) + "\\n");
`;

describe("file vault across processes", () => {
  it("keeps park exclusive and updates compare-and-set between 3 processes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "victoria-vault-"));
    try {
      const vault = createFileVault(dir);
      const notified = (await vault.park(sampleRecord(1))).record;
      const contested = (await vault.park(sampleRecord(2))).record;
      const racedPark = sampleRecord(3);

      const root = fileURLToPath(new URL("../../../../../", import.meta.url));
      const children = Array.from({ length: 3 }, () =>
        spawn(
          process.execPath,
          [
            "--import",
            "tsx",
            "--input-type=module",
            "-e",
            CHILD,
            dir,
            JSON.stringify(racedPark),
            notified.id,
            contested.id,
          ],
          { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
        ),
      );
      const outputs = children.map((child) => {
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => {
          stdout += chunk;
        });
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        return {
          ready: new Promise<void>((ready, fail) => {
            const check = () => stdout.includes("ready\n") && ready();
            child.stdout.on("data", check);
            child.once("exit", (code) => fail(new Error(`child exited (${code}) before ready: ${stderr}`)));
          }),
          done: once(child, "exit").then(([code]) => {
            if (code !== 0) throw new Error(`child exited with ${code}: ${stderr}`);
            return JSON.parse(stdout.split("\n")[1] as string) as { created: number; won: number };
          }),
        };
      });
      await Promise.all(outputs.map((o) => o.ready));
      for (const child of children) child.stdin.end("go\n");
      const results = await Promise.all(outputs.map((o) => o.done));

      expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(1);
      expect(results.reduce((sum, r) => sum + r.won, 0)).toBe(1);
      expect((await vault.get(notified.id))?.version).toBe(1 + 3 * 10);
      const after = await vault.get(contested.id);
      expect(after?.version).toBe(2);
      expect(after?.state).not.toBe("parked");
      expect((await readdir(join(dir, "records"))).sort()).toEqual(
        [`${notified.id}.json`, `${contested.id}.json`, `${racedPark.id}.json`].sort(),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
