import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_READ_BYTES } from "../../victoria/bounded-file";
import { CommandFailure } from "../../victoria/errors";
import { createBlobStorage } from "./blob-storage";

// Azurite's well-known development account (public, documented by Microsoft).
const ACCOUNT = "devstoreaccount1";
const ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const container = "victoria-test";

let azurite: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
let workDir: string;
let azuritePort: number;
/** Forwards to Azurite, counting list requests, to prove listings really page. */
let proxy: Server | undefined;
let proxyPort: number;
let listRequests = 0;

function connectionString(port: number): string {
  return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`;
}

function storage(name = container, pageSize?: number) {
  return createBlobStorage({
    account: { connectionString: connectionString(azuritePort) },
    container: name,
    pageSize,
  });
}

/** Starts Azurite's blob service in memory on 127.0.0.1 and a random port; resolves with the port. */
async function startAzurite(cwd: string): Promise<number> {
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js");
  const args = [
    "--blobHost",
    "127.0.0.1",
    "--blobPort",
    "0",
    "--inMemoryPersistence",
    "--extentMemoryLimit",
    "64",
  ];
  args.push("--loose", "--skipApiVersionCheck", "--silent", "--disableTelemetry");
  azurite = spawn(process.execPath, [main, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
  const child = azurite;
  let output = "";
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`Azurite exited (${code}) before listening: ${output}`);
  });
  const listening = (async () => {
    for await (const line of createInterface({ input: child.stdout })) {
      output += `${line}\n`;
      const match = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (match?.[1]) return Number(match[1]);
    }
    throw new Error(`Azurite closed its output before listening: ${output}`);
  })();
  return Promise.race([listening, exited]);
}

async function startCountingProxy(target: number): Promise<number> {
  proxy = createServer((req, res) => {
    if (req.url?.includes("comp=list")) listRequests += 1;
    const upstream = request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  return (proxy.address() as AddressInfo).port;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "victoria-azurite-"));
  azuritePort = await startAzurite(workDir);
  proxyPort = await startCountingProxy(azuritePort);
  await BlobServiceClient.fromConnectionString(connectionString(azuritePort))
    .getContainerClient(container)
    .create();
});

afterAll(async () => {
  if (proxy) {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
  }
  if (azurite && azurite.exitCode === null) {
    const exited = once(azurite, "exit");
    azurite.kill("SIGTERM");
    await exited;
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("BlobStorage over the wire (Azurite)", () => {
  it("puts and gets bytes, including nested and non-ASCII keys", async () => {
    const blobs = storage();
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await blobs.put("a/b/blob.bin", bytes);
    await blobs.put("dossier/résumé.txt", new TextEncoder().encode("héllo\n"));
    expect(await blobs.get("a/b/blob.bin")).toEqual(bytes);
    expect(new TextDecoder().decode(await blobs.get("dossier/résumé.txt"))).toBe("héllo\n");
    // Overwrites, as a put of an existing key should.
    await blobs.put("a/b/blob.bin", new Uint8Array([7]));
    expect(await blobs.get("a/b/blob.bin")).toEqual(new Uint8Array([7]));
  });

  it("pages through more blobs than one page holds", async () => {
    await BlobServiceClient.fromConnectionString(connectionString(azuritePort))
      .getContainerClient("paged")
      .create();
    const keys = Array.from({ length: 7 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
    for (const key of [...keys].reverse()) await storage("paged").put(key, new TextEncoder().encode(key));
    const viaProxy = createBlobStorage({
      account: { connectionString: connectionString(proxyPort) },
      container: "paged",
      pageSize: 3,
    });
    listRequests = 0;
    expect(await viaProxy.ls()).toEqual(keys);
    expect(listRequests).toBe(3);
  });

  it("lists every key, sorted", async () => {
    const keys = await storage().ls();
    expect(keys).toEqual(["a/b/blob.bin", "dossier/résumé.txt"]);
  });

  it("refuses to read a blob over the read bound", async () => {
    await storage().put("big.bin", new Uint8Array(MAX_READ_BYTES + 1));
    const failure = await storage()
      .get("big.bin")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toContain("larger than the 1,048,576 bytes a command reads");
  });

  it("fails naming the key when the blob does not exist", async () => {
    const failure = storage().get("no/such.key");
    await expect(failure).rejects.toBeInstanceOf(CommandFailure);
    await expect(failure).rejects.toThrow(
      "No such key 'no/such.key' in Azure Blob container 'victoria-test'",
    );
  });

  it("fails clearly when the container does not exist, without leaking the account key", async () => {
    const missing = storage("no-such-container");
    await expect(missing.ls()).rejects.toThrow("Azure Blob container 'no-such-container' does not exist");
    const failure = await missing.put("k", new Uint8Array([1])).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect(String(failure)).not.toContain(ACCOUNT_KEY);
  });
});
