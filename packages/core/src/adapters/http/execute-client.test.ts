import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withRequestContext } from "../../logging/request-context";
import { verifyServiceRequest } from "../../security/service-signature";
import { createExecuteClient, ExecuteError } from "./execute-client";

const SECRET = "client-test-secret";
let server: Server;
let url: string;
interface Seen {
  requestId?: string;
  requester?: string;
  attempt?: number;
  headers: Record<string, unknown>;
}
const seen: Seen[] = [];

/** A stand-in `/execute` that checks our signature and answers per the contract. */
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk;
    });
    req.on("end", () => {
      // The id travels in the signed body, so a changed id would fail the signature check below.
      const { requestId, requester, attempt } = JSON.parse(body) as Omit<Seen, "headers">;
      seen.push({ requestId, requester, attempt, headers: req.headers });
      const check = verifyServiceRequest({
        secret: SECRET,
        body,
        timestamp: req.headers["x-victoria-timestamp"] as string,
        signature: req.headers["x-victoria-signature"] as string,
      });
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      };
      if (!check.ok) return send(401, { error: "Unauthorized", message: check.reason });
      const { args } = JSON.parse(body) as { args: string[] };
      if (args[0] === "ok") return send(200, `ran ${args.join(" ")}\n`);
      if (args[0] === "secret") {
        res.setHeader("x-victoria-sensitive", "true");
        return send(200, "hunter2\n");
      }
      if (args[0] === "fail")
        return send(500, { error: "Command failed: non-zero status code", message: "Error: x\n" });
      if (args[0] === "gone")
        return send(500, {
          error: "Command failed: non-zero status code",
          message: "Error: No such key\n",
          failureClass: "not_found",
        });
      if (args[0] === "confg")
        return send(500, {
          error: "Command failed: non-zero status code",
          message: "Error: No such command 'confg'.\n",
          failureClass: "usage",
        });
      if (args[0] === "crash")
        return send(500, {
          error: "Command failed: uncaught Victoria exception detected",
          message: "TypeError: y",
        });
      if (args[0] === "slow") return void setTimeout(() => send(200, "late"), 2_000);
      if (args[0] === "html") return void res.writeHead(502).end("<html>bad gateway</html>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/execute`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("execute client", () => {
  it("signs requests and maps 200 to exit 0 with the output", async () => {
    const client = createExecuteClient({ url, sharedSecret: SECRET, timeoutMs: 1_000 });
    expect(await client.runWithId(["ok", "now"], "req-7")).toEqual({
      exitCode: 0,
      output: "ran ok now\n",
      sensitive: false,
    });
    expect(seen.at(-1)?.requestId).toBe("req-7");
  });

  it("sends the current request's id when none is given (a command run from a job joins its story)", async () => {
    const client = createExecuteClient({ url, sharedSecret: SECRET, timeoutMs: 1_000 });
    await withRequestContext({ requestId: "job-request-1" }, () => client.run(["ok"]));
    expect(seen.at(-1)?.requestId).toBe("job-request-1");
    await client.run(["ok"]);
    expect(seen.at(-1)?.requestId).toBeUndefined();
  });

  it("sends who asked and the attempt in the signed body, not in headers a replay could change", async () => {
    const client = createExecuteClient({ url, sharedSecret: SECRET, timeoutMs: 1_000 });
    expect(await client.runWithId(["ok"], "req-8", { requester: "slack:U1", retryAttempt: 3 })).toMatchObject(
      { exitCode: 0 },
    );
    const sent = seen.at(-1);
    expect(sent).toMatchObject({ requestId: "req-8", requester: "slack:U1", attempt: 3 });
    expect(Object.keys(sent?.headers ?? {})).not.toContain("x-victoria-requester");
    expect(Object.keys(sent?.headers ?? {})).not.toContain("x-victoria-retry");
    // Neither is sent when not given.
    await client.runWithId(["ok"], "req-9");
    expect(seen.at(-1)).toMatchObject({ requester: undefined, attempt: undefined });
  });

  it("maps a non-zero exit to a failed result, not an exception", async () => {
    const client = createExecuteClient({ url: () => url, sharedSecret: SECRET, timeoutMs: 1_000 });
    expect(await client.run(["fail"])).toEqual({ exitCode: 1, output: "Error: x\n", sensitive: false });
  });

  it("reads the failure's class and the sensitive-output mark from the answer", async () => {
    const client = createExecuteClient({ url, sharedSecret: SECRET, timeoutMs: 1_000 });
    expect(await client.run(["gone"])).toEqual({
      exitCode: 1,
      output: "Error: No such key\n",
      sensitive: false,
      failureClass: "not_found",
    });
    expect(await client.run(["secret"])).toEqual({ exitCode: 0, output: "hunter2\n", sensitive: true });
  });

  it("reports a usage error as exit 2, as the CLI exits (the audit records this status)", async () => {
    const client = createExecuteClient({ url, sharedSecret: SECRET, timeoutMs: 1_000 });
    expect(await client.run(["confg"])).toEqual({
      exitCode: 2,
      output: "Error: No such command 'confg'.\n",
      sensitive: false,
      failureClass: "usage",
    });
  });

  it.each([
    ["crash", SECRET, "Command failed: uncaught Victoria exception detected: TypeError: y"],
    ["ok", "wrong-secret", "refused our signature"],
    ["slow", SECRET, "did not finish within 0.3 s"],
    ["html", SECRET, "answered 502 with a body that is not JSON"],
  ])("throws ExecuteError for %s (secret ok: %#)", async (command, secret, message) => {
    const client = createExecuteClient({ url, sharedSecret: secret, timeoutMs: 300 });
    const run = client.run([command]);
    await expect(run).rejects.toThrow(ExecuteError);
    await expect(run).rejects.toThrow(message);
  });

  it("throws ExecuteError when nothing listens", async () => {
    const client = createExecuteClient({
      url: "http://127.0.0.1:9/execute",
      sharedSecret: SECRET,
      timeoutMs: 1_000,
    });
    await expect(client.run(["ok"])).rejects.toThrow(/could not reach the execute service/);
  });
});
