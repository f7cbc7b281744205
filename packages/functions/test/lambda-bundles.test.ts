import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  buildLambdas,
  importChain,
  LAMBDA_FUNCTIONS,
  type LambdaBundle,
  type LambdaFunctionName,
} from "../scripts/build-lambdas";

/**
 * The deployable artefacts, not the sources: each handler is bundled as SST bundles it, then
 * loaded by a fresh `node` (no tsx, no workspace `node_modules` beside it) and invoked with a
 * Lambda Function URL event, as the Lambda runtime would.
 */
const SHARED_SECRET = "bundle-shared-secret";
const SIGNING_SECRET = "bundle-signing-secret";
const RESULT_MARKER = "__LAMBDA_RESULT__";

/** Runs in the child: imports the bundle, optionally invokes `handler`, prints one marked JSON line. */
const INVOKE_SCRIPT = `
import { pathToFileURL } from "node:url";
const [bundle, eventJson] = process.argv.slice(2);
const mod = await import(pathToFileURL(bundle).href);
let result = { handlerType: typeof mod.handler };
if (eventJson !== undefined) {
  const context = { awsRequestId: "bundle-test", functionName: "bundle-test", getRemainingTimeInMillis: () => 30000 };
  const response = await mod.handler(JSON.parse(eventJson), context);
  const body = response.isBase64Encoded ? Buffer.from(response.body, "base64").toString("utf8") : response.body;
  result = { ...result, statusCode: response.statusCode, headers: response.headers, body };
}
process.stdout.write("\\n${RESULT_MARKER}" + JSON.stringify(result) + "\\n", () => process.exit(0));
`;

interface InvokeResult {
  handlerType: string;
  statusCode?: number;
  headers?: Record<string, string>;
  body?: string;
}

let workDir: string;
let invokeScript: string;
const builds = new Map<LambdaFunctionName, Promise<LambdaBundle>>();

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "lambda-bundles-"));
  invokeScript = join(workDir, "invoke.mjs");
  await writeFile(invokeScript, INVOKE_SCRIPT);
  // One build per function, so a function that fails to bundle fails only its own tests.
  for (const name of LAMBDA_FUNCTIONS) {
    const build = buildLambdas(join(workDir, "dist"), { functions: [name], sourcemap: false }).then(
      ([bundle]) => bundle as LambdaBundle,
    );
    build.catch(() => {}); // reported by the test that awaits it
    builds.set(name, build);
  }
  await Promise.allSettled(builds.values());
}, 60_000);

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function bundleOf(name: LambdaFunctionName): Promise<LambdaBundle> {
  const build = builds.get(name);
  if (build === undefined) throw new Error(`no build for ${name}`);
  return build;
}

/** A Lambda Function URL event (payload format 2.0) with a base64 body, as AWS delivers it. */
function functionUrlEvent(path: string, body: string, headers: Record<string, string>) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: {
      host: "abc123.lambda-url.eu-west-2.on.aws",
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
    requestContext: {
      accountId: "anonymous",
      apiId: "abc123",
      domainName: "abc123.lambda-url.eu-west-2.on.aws",
      domainPrefix: "abc123",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bundle-test" },
      requestId: "6b0e4c1e-0000-4000-8000-000000000001",
      routeKey: "$default",
      stage: "$default",
      time: "22/Nov/2026:12:00:00 +0000",
      timeEpoch: Date.now(),
    },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

/** `<version>=<hex HMAC-SHA256(secret, "<version>:" + ts + ":" + body)>`, written out independently of the code under test. */
function timestampedHmac(version: "v0" | "v1", secret: string, body: string, timestamp: string): string {
  return `${version}=${createHmac("sha256", secret).update(`${version}:${timestamp}:${body}`).digest("hex")}`;
}

/** Imports (and with an event, invokes) a bundle in a fresh `node` with only the given environment. */
async function runBundle(
  name: LambdaFunctionName,
  env: Record<string, string>,
  event?: unknown,
): Promise<InvokeResult> {
  const { outfile } = await bundleOf(name);
  const args = [invokeScript, outfile, ...(event === undefined ? [] : [JSON.stringify(event)])];
  const child = spawn(process.execPath, args, {
    // Lambda-like: a directory with no node_modules above it, and an environment without ours.
    cwd: workDir,
    env: { PATH: process.env.PATH ?? "", AWS_REGION: "eu-west-2", AWS_LAMBDA_FUNCTION_NAME: name, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 15_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
  if (code !== 0 || line === undefined) {
    throw new Error(`${name} bundle exited with ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as InvokeResult;
}

describe("Lambda bundles (esbuild, ESM, node20), run by a fresh node", () => {
  it("execute answers a v1-signed `config view` with 200 and the YAML", async () => {
    const body = JSON.stringify({ args: ["config", "view"] });
    const ts = String(Math.floor(Date.now() / 1000));
    const event = functionUrlEvent("/execute", body, {
      "content-type": "application/json",
      "X-Victoria-Timestamp": ts,
      "X-Victoria-Signature": timestampedHmac("v1", SHARED_SECRET, body, ts),
    });
    const result = await runBundle("execute", { VICTORIA_SHARED_SECRET: SHARED_SECRET }, event);
    expect(result.statusCode, result.body).toBe(200);
    const printed = JSON.parse(result.body ?? "null") as unknown;
    expect(typeof printed).toBe("string");
    expect(parseYaml(printed as string)).toMatchObject({ plugins_config: { config: { indent: 2 } } });
  });

  it("authenticate answers a v0-signed url_verification with 200 and the challenge", async () => {
    const body = JSON.stringify({ token: "legacy", challenge: "bundle-challenge", type: "url_verification" });
    const ts = String(Math.floor(Date.now() / 1000));
    const event = functionUrlEvent("/authenticate", body, {
      "content-type": "application/json",
      "X-Slack-Request-Timestamp": ts,
      "X-Slack-Signature": timestampedHmac("v0", SIGNING_SECRET, body, ts),
    });
    const result = await runBundle(
      "authenticate",
      { SLACK_SIGNING_SECRET: SIGNING_SECRET, VICTORIA_WORKER_FUNCTION: "x" },
      event,
    );
    expect(result.statusCode, result.body).toBe(200);
    expect(JSON.parse(result.body ?? "null")).toEqual({ challenge: "bundle-challenge" });
  });

  it("listener refuses a wrong token with 401", async () => {
    const body = JSON.stringify({ schemaId: "azureMonitorCommonAlertSchema", data: {} });
    const event = functionUrlEvent("/listener", body, {
      "content-type": "application/json",
      "X-Listener-Token": "not-the-token",
    });
    const result = await runBundle(
      "listener",
      {
        LISTENER_TOKEN: "bundle-listener-token",
        VICTORIA_WORKER_FUNCTION: "x",
        SERVICE_BUS_CONNECTIONS: "{}",
      },
      event,
    );
    expect(result.statusCode, result.body).toBe(401);
    expect(JSON.parse(result.body ?? "null")).toMatchObject({ error: expect.any(String) });
  });

  it("resolve refuses an unsigned interaction with 401", async () => {
    const payload = JSON.stringify({
      type: "block_actions",
      user: { id: "U1" },
      trigger_id: "t",
      actions: [],
    });
    const body = new URLSearchParams({ payload }).toString();
    const event = functionUrlEvent("/resolve", body, { "content-type": "application/x-www-form-urlencoded" });
    const result = await runBundle(
      "resolve",
      { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: "xoxb-bundle", VICTORIA_WORKER_FUNCTION: "x" },
      event,
    );
    expect(result.statusCode, result.body).toBe(401);
  });

  it.each(["worker", "retry-failed-requests"] as const)("%s imports without throwing", async (name) => {
    const result = await runBundle(name, {});
    expect(result.handlerType).toBe("function");
  });

  it("authenticate does not bundle the Service Bus SDK (ARCHITECTURE.md)", async () => {
    const bundle = await bundleOf("authenticate");
    const chain = importChain(bundle.metafile, "@azure/service-bus");
    expect(
      chain,
      `@azure/service-bus reaches authenticate through:\n  ${chain?.join("\n  → ")}`,
    ).toBeUndefined();
    // keepNames keeps class names in the minified text, so the SDK's client would show up by name.
    const text = (await Promise.all(bundle.files.map((file) => readFile(file, "utf8")))).join("\n");
    expect(text).not.toContain("ServiceBusClient");
    expect(text).not.toContain("@azure/service-bus");
  });

  it.each(["execute", "authenticate", "listener", "resolve"] as const)(
    "%s: the cold-start load counts the entry file and what it imports, within the total",
    async (name) => {
      const bundle = await bundleOf(name);
      const entryBytes = (await stat(bundle.outfile)).size;
      expect(bundle.files[0]).toBe(bundle.outfile);
      expect(bundle.bytes).toBeGreaterThanOrEqual(entryBytes);
      expect(bundle.totalBytes).toBeGreaterThanOrEqual(bundle.bytes);
    },
  );

  it.each(["execute", "authenticate", "listener", "resolve", "worker"] as const)(
    "%s carries neither the workbench nor the stand-ins (they are local only)",
    async (name) => {
      const { metafile } = await bundleOf(name);
      const local = Object.keys(metafile.inputs).filter((input) =>
        /workbench|packages\/emulators\//.test(input),
      );
      expect(local).toEqual([]);
    },
  );
});
