import { readFileSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { Readable } from "node:stream";

export interface UploadOptions {
  /** Bytes offered: generated on the fly, never held. */
  bytes: number;
  headers?: Record<string, string>;
  /** The upload is abandoned after this long, so a server that never answers cannot hang a test. */
  timeoutMs?: number;
}

export interface UploadResult {
  status?: number;
  headers?: IncomingHttpHeaders;
  text: string;
  /** Bytes handed to the socket when the answer's head arrived. */
  sentWhenAnswered?: number;
  /** Bytes handed to the socket in all. */
  sent: number;
  /** How the upload ended on the client's side, when not cleanly (EPIPE, ECONNRESET: the server closed). */
  errorCode?: string;
}

/**
 * POSTs a body of `bytes` with `Transfer-Encoding: chunked` (no Content-Length) through `node:http`,
 * as an attacker's or a broken client's upload would arrive, and reports how the server answered.
 */
export function uploadChunked(url: string, { bytes, headers = {}, timeoutMs = 15_000 }: UploadOptions) {
  const chunk = Buffer.alloc(64 * 1024, "x");
  let offered = 0;
  const body = new Readable({
    read() {
      if (offered >= bytes) {
        this.push(null);
        return;
      }
      const next = chunk.subarray(0, Math.min(chunk.length, bytes - offered));
      offered += next.length;
      this.push(next);
    },
  });
  return new Promise<UploadResult>((resolve) => {
    const result: UploadResult = { text: "", sent: 0 };
    const req = request(url, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    const sent = () => req.socket?.bytesWritten ?? 0;
    const timer = setTimeout(() => req.destroy(new Error("upload timed out")), timeoutMs);
    req.on("response", (res) => {
      result.status = res.statusCode;
      result.headers = res.headers;
      result.sentWhenAnswered = sent();
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        result.text += text;
      });
      res.on("error", () => {});
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      result.errorCode = error.code ?? error.message;
    });
    req.on("close", () => {
      clearTimeout(timer);
      result.sent = sent();
      body.destroy();
      resolve(result);
    });
    body.pipe(req);
  });
}

/** Resident memory of a process, from /proc (Linux): a spawned server's, or this one's. */
export function residentBytes(pid: number = process.pid): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN) * 1024;
}

/**
 * Samples a process's RSS every few milliseconds while `run` runs and returns the highest growth
 * seen, so a transient buffer that is freed before `run` ends is still counted.
 */
export async function peakRssGrowth<T>(
  run: () => Promise<T>,
  pid: number = process.pid,
): Promise<{ result: T; growth: number }> {
  const before = residentBytes(pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, residentBytes(pid));
  }, 5);
  try {
    const result = await run();
    peak = Math.max(peak, residentBytes(pid));
    return { result, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}
