import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signServiceRequest } from "@victoria/core/security/service-signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLambdas } from "../../functions/scripts/build-lambdas";
import { createFunctionHost, type FunctionHost } from "./function-host";
import { type FunctionUrl, serveFunctionUrl } from "./function-url";

let dir: string;
const hosts: FunctionHost[] = [];
const urls: FunctionUrl[] = [];
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twin-host-"));
}, 60_000);

afterAll(async () => {
  await Promise.all(urls.map((u) => u.close()));
  await Promise.all(hosts.map((h) => h.close()));
});

async function fakeBundle(source: string): Promise<string> {
  const file = join(dir, `fake-${hosts.length}.mjs`);
  await writeFile(file, source);
  return file;
}

function host(bundle: string, env: Record<string, string>, timeoutSeconds = 5): FunctionHost {
  const created = createFunctionHost({
    id: "Fake",
    functionName: "twin-fake",
    bundle,
    env: { AWS_REGION: "eu-west-2", ...env },
    timeoutSeconds,
    memoryMB: 256,
    log: (line) => logs.push(line),
  });
  hosts.push(created);
  return created;
}

describe("a function of the twin", () => {
  it("runs the built execute bundle behind a Function URL: payload v2 in, its response out", async () => {
    const [bundle] = await buildLambdas(join(dir, "lambda"), { functions: ["execute"] });
    const execute = host(bundle?.outfile as string, { VICTORIA_SHARED_SECRET: "twin-secret" }, 20);
    const url = await serveFunctionUrl(execute, { log: (line) => logs.push(line) });
    urls.push(url);
    const body = JSON.stringify({ args: ["config", "path"] });
    const res = await fetch(`${url.url}execute`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signServiceRequest("twin-secret", body) },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toContain("bundled default config");
    const unsigned = await fetch(`${url.url}execute`, { method: "POST", body });
    expect(unsigned.status).toBe(401);
    expect(
      logs.some((line) =>
        /^REPORT twin-fake Duration: \d+ ms Memory Size: 256 MB Max Memory Used: \d+ MB$/.test(line),
      ),
    ).toBe(true);
  }, 60_000);

  it("sees only the environment it was given", async () => {
    const fake = host(
      await fakeBundle(
        "export const handler = async () => ({ statusCode: 200, body: JSON.stringify(Object.keys(process.env).sort()) });",
      ),
      { ONLY_THIS: "1" },
    );
    const outcome = await fake.invoke({});
    expect(outcome.ok && JSON.parse((outcome.result as { body: string }).body)).toEqual(
      expect.arrayContaining(["AWS_REGION", "ONLY_THIS"]),
    );
    expect(outcome.ok && JSON.parse((outcome.result as { body: string }).body)).not.toContain("HOME");
  });

  it("stops a function past its timeout with Lambda's message, and cold-starts the next invocation", async () => {
    const slow = host(
      await fakeBundle(
        "let calls = 0; export const handler = async (event) => { calls++; if (event.slow) await new Promise((r) => setTimeout(r, 10_000)); return calls; };",
      ),
      {},
      1,
    );
    expect(await slow.invoke({})).toMatchObject({ ok: true, result: 1 });
    const first = await slow.invoke({ slow: true });
    expect(first).toMatchObject({ ok: false, error: { errorMessage: "Task timed out after 1.00 seconds" } });
    expect(first.durationMs).toBeLessThan(3_000);
    // A fresh container: its module state starts again.
    expect(await slow.invoke({})).toMatchObject({ ok: true, result: 1 });
  });

  it("serves many invocations from one container without piling up listeners on it", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const busy = host(await fakeBundle("export const handler = async () => 1;"), {});
      for (let i = 0; i < 15; i++) expect(await busy.invoke({})).toMatchObject({ ok: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("reports a thrown error as the function's error", async () => {
    const failing = host(
      await fakeBundle("export const handler = async () => { throw new RangeError('no'); };"),
      {},
    );
    expect(await failing.invoke({})).toMatchObject({
      ok: false,
      error: { errorType: "RangeError", errorMessage: "no" },
    });
  });
});
