import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApprovalRequest, approve, markRan } from "../../approvals/approval";
import {
  approvalStoreContract,
  approver,
  SOON,
  sampleRequest,
} from "../../approvals/approval-store-contract";
import { createFileApprovalStore } from "./file-approval-store";

approvalStoreContract("file approval store", async () => {
  const dir = await mkdtemp(join(tmpdir(), "victoria-approvals-"));
  const markerFolder = join(dir, "approvals", "pending");
  return {
    store: createFileApprovalStore(dir),
    markers: {
      async plant(id) {
        await mkdir(markerFolder, { recursive: true });
        await writeFile(join(markerFolder, id), "");
      },
      ids: () => readdir(markerFolder).catch(() => []),
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

describe("file approval store on disk", () => {
  let dir: string;
  let approvals: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "victoria-approvals-"));
    approvals = join(dir, "approvals");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a folder per request with one whole JSON file per version, and no temp files", async () => {
    const store = createFileApprovalStore(dir);
    const { id } = await store.create(sampleRequest());
    await store.update(id, (r) => approve(r, approver(1), SOON));
    await store.update(id, (r) => markRan(r, { outcome: "ok", exitStatus: 0 }, SOON));
    await store.update(id, (r) => markRan(r, { outcome: "ok" }, SOON));
    // The pending marker went when it was approved.
    expect((await readdir(approvals)).sort()).toEqual([id, "pending"].sort());
    expect(await readdir(join(approvals, "pending"))).toEqual([]);
    expect((await readdir(join(approvals, id))).sort()).toEqual(["1.json", "2.json", "3.json"]);
    const history = await Promise.all(
      [1, 2, 3].map(
        async (v) => JSON.parse(await readFile(join(approvals, id, `${v}.json`), "utf8")) as ApprovalRequest,
      ),
    );
    expect(history.map((r) => [r.version, r.state])).toEqual([
      [1, "pending"],
      [2, "approved"],
      [3, "ran"],
    ]);
    expect(await store.get(id)).toEqual(history[2]);
  });

  it("ignores what a crash mid-write leaves behind: a temp file, an empty folder", async () => {
    const store = createFileApprovalStore(dir);
    const request = sampleRequest();
    await mkdir(join(approvals, request.id), { recursive: true });
    expect(await store.get(request.id)).toBeUndefined();
    await store.create(request);
    await writeFile(join(approvals, request.id, ".1b4e28ba-2fa1-11d2-883f-0016d3cca427.tmp"), '{"id":"');
    expect(await store.get(request.id)).toMatchObject({ version: 1, state: "pending" });
    expect((await store.update(request.id, (r) => approve(r, approver(1), SOON))).ok).toBe(true);
  });

  it("fails naming the id for a corrupt version file", async () => {
    const store = createFileApprovalStore(dir);
    const request = await store.create(sampleRequest());
    const file = join(approvals, request.id, "2.json");
    await writeFile(file, "{trunc");
    await expect(store.get(request.id)).rejects.toThrow(
      new RegExp(`^Approval request ${request.id} is corrupt \\(.*2\\.json\\): not valid JSON$`),
    );
    await writeFile(file, JSON.stringify({ ...request, state: "lost" }));
    await expect(store.get(request.id)).rejects.toThrow('unknown state "lost"');
    await writeFile(file, JSON.stringify(request));
    await expect(store.update(request.id, (r) => approve(r, approver(1), SOON))).rejects.toThrow(
      "it holds version 1",
    );
  });
});

// Each child approves the same request with count 1 as 10 distinct approvers at once, once told to
// go, and prints what it was told; run through tsx so it loads the TypeScript modules as the service does.
const CHILD = `
import { createFileApprovalStore } from ${JSON.stringify(new URL("./file-approval-store.ts", import.meta.url).href)};
import { approve } from ${JSON.stringify(new URL("../../approvals/approval.ts", import.meta.url).href)};
const [dir, id, tag, at] = process.argv.slice(1);
const store = createFileApprovalStore(dir);
process.stdout.write("ready\\n");
await new Promise((go) => process.stdin.once("data", go));
const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
  store.update(id, (r) => approve(r, { slackId: "U" + tag + i, email: tag + i + "@example.com" }, new Date(at)))));
process.stdout.write(JSON.stringify(results.map((r) => r.ok ? r.event : r.refusal.message.text)) + "\\n");
`;

describe("file approval store across processes", () => {
  it("two processes, 20 approvers clicking at once with count 1: exactly one is told approved", async () => {
    const dir = await mkdtemp(join(tmpdir(), "victoria-approvals-"));
    try {
      const store = createFileApprovalStore(dir);
      const { id } = await store.create(sampleRequest(1));
      const root = fileURLToPath(new URL("../../../../../", import.meta.url));
      const children = ["A", "B"].map((tag) =>
        spawn(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", CHILD, dir, id, tag, SOON.toISOString()],
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
            return JSON.parse(stdout.split("\n")[1] as string) as string[];
          }),
        };
      });
      await Promise.all(outputs.map((o) => o.ready));
      for (const child of children) child.stdin.end("go\n");
      const told = (await Promise.all(outputs.map((o) => o.done))).flat();

      const stored = await store.get(id);
      const winner = stored?.approvals[0]?.slackId;
      expect(stored).toMatchObject({ state: "approved", version: 2 });
      expect(stored?.approvals).toHaveLength(1);
      expect(told.filter((t) => t === "approved")).toHaveLength(1);
      expect(told.filter((t) => t !== "approved")).toEqual(
        Array(19).fill(`Already approved by <@${winner}>`),
      );
      expect((await readdir(join(dir, "approvals", id))).sort()).toEqual(["1.json", "2.json"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
