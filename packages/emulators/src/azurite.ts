import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/** Azurite's well-known development account (public, as in Microsoft's docs: not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteBlob {
  /** The blob endpoint, account included: `http://127.0.0.1:<port>/devstoreaccount1`. */
  url: string;
  /** What `storage_providers.azure.connection_string` takes. */
  connectionString: string;
  close(): Promise<void>;
}

export interface AzuriteBlobOptions {
  host?: string;
  /** Containers that exist from the start. */
  containers?: readonly string[];
  /** How long to wait for Azurite to listen. */
  startTimeoutMs?: number;
}

/**
 * Azurite's child exits when our end of its stdin closes, so a parent killed outright (SIGKILL)
 * leaves no Blob service behind holding a port.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  'process.stdin.on("end", () => process.exit(0)).resume();',
)}`;

/**
 * Azure Blob Storage on loopback: Microsoft's emulator Azurite (a dev dependency), its blob service
 * only, in memory, in a child process on a free port. There is no Blob stand-in of our own: Azurite
 * is the reference emulator and the real SDK accepts it.
 */
export async function startAzuriteBlob({
  host = "127.0.0.1",
  containers = [],
  startTimeoutMs = 20_000,
}: AzuriteBlobOptions = {}): Promise<AzuriteBlob> {
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js");
  // Azurite writes a debug log and its extent metadata beside it even in memory: not in the repository.
  const workDir = await mkdtemp(join(tmpdir(), "victoria-azurite-"));
  const args = ["--blobHost", host, "--blobPort", "0", "--inMemoryPersistence", "--extentMemoryLimit", "64"];
  args.push("--loose", "--skipApiVersionCheck", "--silent", "--disableTelemetry");
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    process.execPath,
    ["--import", EXIT_WITH_PARENT, main, ...args],
    { cwd: workDir, stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      // In memory, nothing to flush; a graceful stop would wait for clients' keep-alive sockets.
      child.kill("SIGKILL");
      await exited;
    }
    await rm(workDir, { recursive: true, force: true });
  };
  let timer: NodeJS.Timeout | undefined;
  const exitedEarly = once(child, "exit").then(([code]) => {
    throw new Error(`Azurite exited (${code}) before listening: ${output.trim()}`);
  });
  // Only the race below cares; the exit that close() causes later is no error.
  exitedEarly.catch(() => {});
  try {
    const port = await Promise.race([
      (async () => {
        for await (const line of createInterface({ input: child.stdout })) {
          output += `${line}\n`;
          const match = /successfully listens on http:\/\/[^:]+:(\d+)/.exec(line);
          if (match?.[1]) return Number(match[1]);
        }
        throw new Error(`Azurite stopped before listening: ${output.trim()}`);
      })(),
      exitedEarly,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Azurite did not listen within ${startTimeoutMs} ms`)),
          startTimeoutMs,
        );
      }),
    ]);
    // Nothing more is read from it, but a full pipe would stall it.
    child.stdout.resume();
    const url = `http://${host}:${port}/${AZURITE_ACCOUNT}`;
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${url};`;
    if (containers.length > 0) {
      const { BlobServiceClient } = await import("@azure/storage-blob");
      const service = BlobServiceClient.fromConnectionString(connectionString);
      await Promise.all(containers.map((name) => service.getContainerClient(name).createIfNotExists()));
    }
    return { url, connectionString, close: stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
