import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_READ_BYTES } from "../../victoria/bounded-file";
import { CommandFailure } from "../../victoria/errors";
import { createS3Storage, S3Storage, type S3StorageOptions } from "./s3-storage";

// s3rver signs continuation tokens with DES, which Node 20's OpenSSL 3 only has behind
// --openssl-legacy-provider, so it runs in its own child process (which also keeps its logger
// and exception handlers out of the test process).
const S3RVER_MAIN = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: process.argv[2] });
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + "\\n"));
process.stdin.on("end", () => server.close().finally(() => process.exit(0)));
process.stdin.resume();
`;

// s3rver checks SigV4 signatures against these fixed keys.
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const bucket = "victoria-test";

let server: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
let directory: string;
let endpoint: string;

function storage(extra: Partial<S3StorageOptions> = {}) {
  return createS3Storage({
    bucket,
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials,
    ...extra,
  });
}

/** Starts s3rver on 127.0.0.1, port 0, and resolves with the port it printed. */
async function startS3rver(dir: string): Promise<number> {
  const main = createRequire(import.meta.url).resolve("s3rver");
  server = spawn(process.execPath, ["--openssl-legacy-provider", "-e", S3RVER_MAIN, main, dir], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const child = server;
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`s3rver exited (${code}) before listening: ${stderr}`);
  });
  const ready = once(lines, "line").then(([line]) => (JSON.parse(line as string) as { port: number }).port);
  return Promise.race([ready, exited]);
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "victoria-s3rver-"));
  endpoint = `http://127.0.0.1:${await startS3rver(directory)}`;
  const admin = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = once(server, "exit");
    server.stdin.end();
    await exited;
  }
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe("S3Storage over the wire (s3rver)", () => {
  it("puts and gets bytes, including nested keys", async () => {
    const s3 = storage({ prefix: "roundtrip" });
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await s3.put("a/b/blob.bin", bytes);
    await s3.put("text.txt", new TextEncoder().encode("héllo\n"));
    expect(await s3.get("a/b/blob.bin")).toEqual(bytes);
    expect(new TextDecoder().decode(await s3.get("text.txt"))).toBe("héllo\n");
    expect(await s3.ls()).toEqual(["a/b/blob.bin", "text.txt"]);
  });

  it("keeps prefixes apart and strips the prefix from listed keys", async () => {
    await storage({ prefix: "/one/" }).put("k", new TextEncoder().encode("1"));
    await storage({ prefix: "two" }).put("k", new TextEncoder().encode("2"));
    expect(await storage({ prefix: "one" }).ls()).toEqual(["k"]);
    expect(new TextDecoder().decode(await storage({ prefix: "two" }).get("k"))).toBe("2");
    const all = await storage().ls();
    expect(all).toContain("one/k");
    expect(all).toContain("two/k");
  });

  it("pages through more keys than one page holds", async () => {
    // Counts ListObjectsV2 requests, to prove the listing really took several pages.
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
    let listCalls = 0;
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === "ListObjectsV2Command") listCalls += 1;
        return next(args);
      },
      { step: "initialize" },
    );
    const s3 = new S3Storage(client, bucket, "paged", 3);
    const keys = Array.from({ length: 8 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
    for (const key of [...keys].reverse()) await s3.put(key, new TextEncoder().encode(key));
    expect(await s3.ls()).toEqual(keys);
    expect(listCalls).toBe(3);
    client.destroy();
  });

  it("refuses to read an object over the read bound, without reading it", async () => {
    const big = new Uint8Array(MAX_READ_BYTES + 1);
    await storage().put("big.bin", big);
    const failure = await storage()
      .get("big.bin")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toContain("more than the 1,048,576 a command reads");
  });

  it("fails naming the key when it does not exist", async () => {
    const failure = storage().get("no/such.key");
    await expect(failure).rejects.toBeInstanceOf(CommandFailure);
    await expect(failure).rejects.toThrow("No such key 'no/such.key' in S3 bucket 'victoria-test'");
  });

  it("fails clearly when the bucket does not exist", async () => {
    const missing = storage({ bucket: "no-such-bucket" });
    await expect(missing.ls()).rejects.toThrow("S3 bucket 'no-such-bucket' does not exist");
    await expect(missing.put("k", new Uint8Array([1]))).rejects.toBeInstanceOf(CommandFailure);
  });
});
