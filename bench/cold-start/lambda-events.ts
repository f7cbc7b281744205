import { signServiceRequest } from "@victoria/core/security/service-signature";
import { signSlackRequest } from "@victoria/core/security/slack-signature";
import { sampleAlert } from "../../packages/functions/src/workbench/sample-alerts";

/** Secrets the bench's Secrets Manager stand-in holds; the functions read them at cold start. */
export const BENCH_CONFIG = {
  SLACK_SIGNING_SECRET: "bench-signing-secret",
  SLACK_BOT_TOKEN: "xoxb-bench",
  VICTORIA_SHARED_SECRET: "bench-shared-secret",
  LISTENER_TOKEN: "bench-listener-token",
  SERVICE_BUS_CONNECTIONS: JSON.stringify({
    local:
      "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=bench;SharedAccessKey=bench;UseDevelopmentEmulator=true",
  }),
};

/** A Lambda Function URL event (payload 2.0, base64 body), as AWS delivers it. */
function functionUrlEvent(path: string, body: string, headers: Record<string, string>, query = "") {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: query,
    headers: {
      host: "bench.lambda-url.eu-west-2.on.aws",
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
    requestContext: {
      accountId: "anonymous",
      apiId: "bench",
      domainName: "bench.lambda-url.eu-west-2.on.aws",
      domainPrefix: "bench",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

/**
 * The first request each function would really get: a slash command, a `config view`, a fired
 * alert, a Replay click; for the worker (no HTTP: `expectStatus` is what the harness reports for an
 * invocation that resolved) the reminder schedule's tick on an empty vault. Each goes down the
 * function's real path, dispatch included.
 */
export function firstEvent(name: "authenticate" | "execute" | "listener" | "resolve" | "worker"): {
  event: unknown;
  expectStatus: number;
} {
  const form = "application/x-www-form-urlencoded";
  switch (name) {
    case "authenticate": {
      const body = new URLSearchParams({
        command: "/victoria",
        text: "config view",
        user_id: "U0BENCH",
        team_id: "T0BENCH",
        channel_id: "C0BENCH",
        response_url: "http://127.0.0.1:9/response/bench",
        trigger_id: `bench.${crypto.randomUUID()}`,
      }).toString();
      const headers = { "content-type": form, ...signSlackRequest(BENCH_CONFIG.SLACK_SIGNING_SECRET, body) };
      return { event: functionUrlEvent("/authenticate", body, headers), expectStatus: 200 };
    }
    case "execute": {
      const body = JSON.stringify({ args: ["config", "view"] });
      const headers = {
        "content-type": "application/json",
        ...signServiceRequest(BENCH_CONFIG.VICTORIA_SHARED_SECRET, body),
      };
      return { event: functionUrlEvent("/execute", body, headers), expectStatus: 200 };
    }
    case "listener": {
      const body = JSON.stringify(
        sampleAlert("azure-monitor", {
          namespace: "victoria-local",
          queue: "orders",
          count: 1,
          now: new Date(),
        }),
      );
      const headers = { "content-type": "application/json", "x-listener-token": BENCH_CONFIG.LISTENER_TOKEN };
      return { event: functionUrlEvent("/listener", body, headers), expectStatus: 202 };
    }
    case "resolve": {
      const payload = {
        type: "block_actions",
        user: { id: "U0BENCH" },
        team: { id: "T0BENCH" },
        channel: { id: "C0BENCH" },
        message: { ts: "1700000000.000100" },
        trigger_id: `bench.${crypto.randomUUID()}`,
        response_url: "http://127.0.0.1:9/response/bench",
        actions: [{ action_id: "deadletter_replay", value: "0123456789abcdef0123456789abcdef" }],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const headers = { "content-type": form, ...signSlackRequest(BENCH_CONFIG.SLACK_SIGNING_SECRET, body) };
      return { event: functionUrlEvent("/resolve", body, headers), expectStatus: 200 };
    }
    case "worker":
      return { event: { kind: "remind-dead-letters", payload: {} }, expectStatus: 0 };
  }
}
