import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileVault } from "../../adapters/local/file-vault";
import { createMemoryJobStore } from "../../deadletter/bulk-job-store";
import { createBulkJobs } from "../../deadletter/bulk-jobs";
import type { Bus } from "../../deadletter/bus";
import type { DeadLetter } from "../../deadletter/dead-letter";
import { createDeadLetterActions } from "../../deadletter/dead-letter-actions";
import type { Vault } from "../../deadletter/vault";
import { sampleRecord } from "../../deadletter/vault-contract";
import { createMemoryLogger } from "../../logging/json-logger";
import { createVictoria } from "../engine";
import { BufferedOutput } from "../output";
import { corePlugins } from "./core-plugins";

// `victoria deadletter replay|delete <filter flags>`, `jobs` and `cancel` through the engine, on a
// file vault; a bulk delete runs in this process as it does at a terminal.

let dir: string;
let vault: Vault;

/** Deletes need no bus; a replay here would be a bug in the test. */
const noBus: Bus = new Proxy({} as Bus, {
  get: () => () => Promise.reject(new Error("no bus in this test")),
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-bulk-cli-"));
  vault = createFileVault(dir);
  for (let n = 1; n <= 5; n++) {
    const message: DeadLetter = {
      messageId: `m-${n}`,
      sequenceNumber: String(n),
      enqueuedTime: "2025-01-02T03:04:05.000Z",
      deliveryCount: 10,
      deadLetterReason: n <= 4 ? "Boom\u001b[31m" : "Other",
      body: { kind: "text", text: `body ${n}` },
      applicationProperties: {},
    };
    await vault.park(sampleRecord(n, { cluster: "local", message }));
  }
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function setup() {
  const store = createMemoryJobStore();
  const actions = createDeadLetterActions({ vault, bus: noBus, connections: {}, maxReplays: 3 });
  const bulk = createBulkJobs({ store, actions, vault, logger: createMemoryLogger(), inline: true });
  const victoria = createVictoria({
    plugins: corePlugins,
    providers: { encryption: {}, storage: {} },
    env: { VICTORIA_ACTOR: "alice" },
    deadLetters: async () => ({ ...actions, bulk }),
  });
  const run = async (...argv: string[]) => {
    const out = new BufferedOutput();
    const exitCode = await victoria.run(["deadletter", ...argv], { out });
    return { exitCode, output: out.text() };
  };
  return { run, store };
}

describe("deadletter bulk commands", () => {
  it("--dry-run prints the count and three samples, and acts on nothing", async () => {
    const { run, store } = setup();
    const result = await run("delete", "--reason", "boom", "--dry-run");
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain("Would delete 4 dead letters (--reason boom); dry run, nothing done.");
    expect(result.output.trim().split("\n")).toHaveLength(4);
    // The terminal escape of the reason is removed whole.
    expect(result.output).not.toContain("\u001b");
    expect(await vault.list({ state: "parked" })).toHaveLength(5);
    expect(await store.recent(10)).toEqual([]);
  });

  it("refuses a bulk action with no filter unless --all, and an id together with filter flags", async () => {
    const { run } = setup();
    const bare = await run("delete");
    expect(bare.exitCode).toBe(2);
    expect(bare.output).toContain("'--all'");
    const both = await run("delete", "abcd1234", "--entity", "orders");
    expect(both.exitCode).toBe(2);
    expect(both.output).toContain("not both");
    const all = await run("delete", "--all", "--dry-run");
    expect(all.output).toContain("Would delete 5 dead letters");
    expect((await run("replay", "--entity", "orders", "--rate", "500/s")).exitCode).toBe(2);
    expect((await run("replay", "--entity", "orders", "--canary", "0")).exitCode).toBe(2);
    expect((await run("replay", "--state", "deleted", "--dry-run")).exitCode).toBe(2);
  });

  it("runs a bulk delete here to its end, then lists it; cancelling a finished job is refused", async () => {
    const { run, store } = setup();
    const result = await run("delete", "--reason", "boom", "--note", "stale", "--rate", "100/s");
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/Started bulk job \S+: delete 4 dead letters/);
    expect(result.output).toContain("done: 4 deleted, 0 skipped, 0 failed");
    const deleted = await vault.list({ state: "deleted" });
    expect(deleted).toHaveLength(4);
    const [job] = await store.recent(1);
    expect(
      deleted.every(
        (r) => r.resolution?.note === `bulk job ${job?.id}: stale` && r.resolution.by === "cli:alice",
      ),
    ).toBe(true);
    const jobs = await run("jobs");
    expect(jobs.output).toContain(`${job?.id}  delete  done  4/0/0  cli:alice`);
    const cancel = await run("cancel", job?.id ?? "");
    expect(cancel.exitCode).toBe(1);
    expect(cancel.output).toContain("already done");
    expect((await run("cancel", "nope")).output).toContain("No bulk job nope");
  });
});
