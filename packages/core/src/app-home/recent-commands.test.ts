import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileRecentCommandStore } from "../adapters/local/file-recent-commands";
import { createMemoryLogger } from "../logging/json-logger";
import type { AuditRecord } from "../security/audit-log";
import { RECENT_COMMANDS_KEPT, type RecentCommand } from "./recent-commands";
import { recordingRecentCommands } from "./recent-commands-recorder";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "recent-commands-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (n: number): RecentCommand => ({
  time: `2026-01-01T00:00:${String(n).padStart(2, "0")}.000Z`,
  command: `config view ${n}`,
  source: "slash_command",
  outcome: 0,
});

describe("the file recent-command store", () => {
  it("keeps each person's newest commands, first in first out, and none of anyone else's", async () => {
    const store = createFileRecentCommandStore(dir);
    expect(await store.recent("U0ALICE", 5)).toEqual([]);
    // Three at once, as commands finishing together: all land.
    await Promise.all([0, 1, 2].map((n) => store.add("U0ALICE", entry(n))));
    expect((await store.recent("U0ALICE", 100)).map((e) => e.command).sort()).toEqual([
      "config view 0",
      "config view 1",
      "config view 2",
    ]);
    for (let n = 3; n < RECENT_COMMANDS_KEPT + 2; n += 1) await store.add("U0ALICE", entry(n));
    await store.add("U0BOB", entry(99));
    const alice = await store.recent("U0ALICE", 100);
    expect(alice).toHaveLength(RECENT_COMMANDS_KEPT);
    expect(alice[0]).toEqual(entry(RECENT_COMMANDS_KEPT + 1));
    expect(await store.recent("U0BOB", 5)).toEqual([entry(99)]);
    expect((await readdir(join(dir, "home"))).sort()).toEqual(["U0ALICE.json", "U0BOB.json"]);
    // A name that is not a Slack member id never becomes a path.
    await expect(store.add("../../etc", entry(1))).rejects.toThrow(/Not a Slack member id/);
    expect(await store.recent("../../etc", 5)).toEqual([]);
  });
});

describe("recordingRecentCommands", () => {
  it("keeps no argument of a sensitive or a refused command (its line may hold a secret)", async () => {
    const store = createFileRecentCommandStore(dir);
    const audit = recordingRecentCommands({ write: async () => undefined }, store, createMemoryLogger());
    const base = { requestId: "r2", source: "slash_command" as const, user: { id: "U0BOB" } };
    const secret = "hunter2-plaintext";
    await audit.write({
      ...base,
      phase: "finished",
      time: "2026-01-01T00:00:01.000Z",
      command: `encrypt data ${secret}`,
      exitStatus: 0,
      outputDigest: "sha256:00",
      outputLength: 10,
    });
    await audit.write({
      ...base,
      phase: "refused",
      time: "2026-01-01T00:00:02.000Z",
      command: `encrypt data ${secret}`,
      reason: "not a member",
    });
    await audit.write({
      ...base,
      phase: "finished",
      time: "2026-01-01T00:00:03.000Z",
      command: "deadletter ls --reason ttl",
      exitStatus: 0,
    });
    const recent = await store.recent("U0BOB", 5);
    expect(recent.map((r) => r.command)).toEqual([
      "deadletter ls --reason ttl",
      "encrypt data …",
      "encrypt data …",
    ]);
    expect(JSON.stringify(recent)).not.toContain(secret);
  });

  it("notes finished and refused commands after the audit record, and never fails the audit for it", async () => {
    const written: AuditRecord[] = [];
    const store = createFileRecentCommandStore(dir);
    const logger = createMemoryLogger();
    const audit = recordingRecentCommands({ write: async (r) => void written.push(r) }, store, logger);
    const base = {
      requestId: "r1",
      source: "slash_command" as const,
      user: { id: "U0ALICE" },
      command: "store ls",
    };
    await audit.write({ ...base, phase: "requested", time: "2026-01-01T00:00:00.000Z" });
    await audit.write({ ...base, phase: "finished", time: "2026-01-01T00:00:01.000Z", exitStatus: 1 });
    await audit.write({ ...base, phase: "refused", time: "2026-01-01T00:00:02.000Z", reason: "nope" });
    expect(written).toHaveLength(3);
    expect(await store.recent("U0ALICE", 5)).toEqual([
      { time: "2026-01-01T00:00:02.000Z", command: "store ls", source: "slash_command", outcome: "refused" },
      { time: "2026-01-01T00:00:01.000Z", command: "store ls", source: "slash_command", outcome: 1 },
    ]);

    const broken = recordingRecentCommands(
      { write: async () => {} },
      { add: () => Promise.reject(new Error("disk full")), recent: async () => [] },
      logger,
    );
    await expect(
      broken.write({ ...base, phase: "finished", time: "t", exitStatus: 0 }),
    ).resolves.toBeUndefined();
    expect(logger.lines.some((l) => l.message === "could not note the recent command")).toBe(true);
  });
});
