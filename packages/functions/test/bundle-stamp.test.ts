import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { bundleStaleReason, stampedInputCount, writeBundleStamp } from "../scripts/bundle-stamp.mjs";

/** `npm start` builds only when this says so: every way an input can change must be seen. */
let dir: string;
let out: string;
let a: string;
let b: string;
let packaged: string;
let packageJson: string;

/** File change times have a clock of their own: let it move on between steps. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

async function stamp() {
  await tick();
  const count = writeBundleStamp(out, [a, b, packaged, join(out, "no-such-input.ts")], Date.now());
  await tick();
  return count;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bundle-stamp-"));
  out = join(dir, "dist");
  a = join(dir, "a.ts");
  b = join(dir, "b.ts");
  packageJson = join(dir, "node_modules/@scope/pkg/package.json");
  packaged = join(dir, "node_modules/@scope/pkg/lib/index.js");
  await mkdir(join(dir, "node_modules/@scope/pkg/lib"), { recursive: true });
  await mkdir(out);
  await Promise.all([
    writeFile(join(out, "local.mjs"), "bundle"),
    writeFile(a, "aaa"),
    writeFile(b, "bbb"),
    writeFile(packageJson, '{"version":"1.0.0"}'),
    writeFile(packaged, "module.exports = 1;"),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the local bundle's record of its inputs", () => {
  it("is fresh right after a build, with a package's files watched through its package.json", async () => {
    expect(await stamp()).toBe(3);
    expect(stampedInputCount(out)).toBe(3);
    expect(bundleStaleReason(out, "local.mjs")).toBeUndefined();
  });

  it("sees an edit, even one that keeps the size and puts the old mtime back", async () => {
    await stamp();
    await writeFile(a, "AAA");
    await utimes(a, new Date(2001, 0, 1), new Date(2001, 0, 1));
    expect(bundleStaleReason(out, "local.mjs")).toMatch(/a\.ts changed$/);
  });

  it("sees a deleted input, a reinstalled package, a missing bundle or record", async () => {
    await stamp();
    await unlink(b);
    expect(bundleStaleReason(out, "local.mjs")).toMatch(/b\.ts is gone$/);

    await writeFile(b, "bbb");
    await stamp();
    await writeFile(packageJson, '{"version":"1.0.1"}');
    expect(bundleStaleReason(out, "local.mjs")).toMatch(/package\.json changed$/);

    await stamp();
    await unlink(join(out, "inputs.json"));
    expect(bundleStaleReason(out, "local.mjs")).toBe("no record of its inputs");
    await unlink(join(out, "local.mjs"));
    expect(bundleStaleReason(out, "local.mjs")).toBe("no bundle yet");
  });

  it("does not trust a build that read a file being edited while it ran", async () => {
    const startedAt = Date.now();
    await tick();
    await writeFile(a, "edited mid-build");
    writeBundleStamp(out, [a, b], startedAt);
    expect(bundleStaleReason(out, "local.mjs")).toMatch(/a\.ts changed$/);
  });
});
