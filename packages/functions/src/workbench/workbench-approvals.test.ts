import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createMemoryLogger } from "@victoria/core/logging/json-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_DEMO_QUEUE, type LocalServer, startLocalServer } from "../local-server";
import type { WorkbenchState } from "./workbench-state";

/*
 * The workbench with the example command policy (docs/policy.example.yaml): a Delete click by the
 * SRE member is held for a lead's approval, the request is a clickable message in the channel, and
 * the lead's Approve performs the held click once.
 */

const EXAMPLE_POLICY = fileURLToPath(new URL("../../../../docs/policy.example.yaml", import.meta.url));
let dir: string;
let server: LocalServer;

async function api(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/workbench/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function until<T>(user: string, check: (s: WorkbenchState) => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`${server.url}/workbench/api/state?user=${user}`);
    const found = check((await response.json()) as WorkbenchState);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const textOf = (message: WorkbenchState["messages"][number]) =>
  JSON.stringify(message.blocks ?? message.text);
const approvalIdOf = (message: WorkbenchState["messages"][number]) =>
  /"action_id":"approval_approve","value":"([A-Za-z0-9_-]+)"/.exec(textOf(message))?.[1];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "workbench-approvals-"));
  server = await startLocalServer({
    env: {
      PORT: "0",
      VAULT_DIR: join(dir, "vault"),
      AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
      VICTORIA_POLICY: EXAMPLE_POLICY,
    },
    logger: createMemoryLogger(),
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the workbench under the example policy", () => {
  it("a Delete click waits for a lead; the request is clickable; the lead's Approve deletes it once", async () => {
    await api("dead-letters", { queue: LOCAL_DEMO_QUEUE, body: '{"orderId": 9}', reason: "Poison" });
    await api("alerts", { queue: LOCAL_DEMO_QUEUE, kind: "azure-monitor" });
    const notification = await until(
      "U0MEMBER",
      (s) => s.messages.find((m) => textOf(m).includes("deadletter_delete")),
      "the notification",
    );
    const parked = await until("U0MEMBER", (s) => s.vault.records[0], "the parked record");

    await api("actions", {
      user: "U0MEMBER",
      messageTs: notification.ts,
      actionId: "deadletter_delete",
      value: parked.id,
    });
    const told = await until(
      "U0MEMBER",
      (s) =>
        s.messages.find(
          (m) => m.ephemeral && textOf(m).includes("needs approval from leads: request posted"),
        ),
      "the requester's notice",
    );
    expect(told).toBeDefined();
    const request = await until(
      "U0LEAD",
      (s) => s.messages.find((m) => !m.ephemeral && approvalIdOf(m) !== undefined),
      "the approval request",
    );
    expect(textOf(request)).toContain("asked to run `victoria deadletter delete");
    expect((await until("U0MEMBER", (s) => s.vault.records[0], "the record")).state).toBe("parked");

    // The requester's own Approve is refused; the lead's deletes it, as the requester.
    await api("actions", {
      user: "U0MEMBER",
      messageTs: request.ts,
      actionId: "approval_approve",
      value: approvalIdOf(request),
    });
    await until(
      "U0MEMBER",
      (s) => s.messages.find((m) => m.ephemeral && textOf(m).includes("cannot approve your own request")),
      "the self-approval refusal",
    );
    await api("actions", {
      user: "U0LEAD",
      messageTs: request.ts,
      actionId: "approval_approve",
      value: approvalIdOf(request),
    });
    const deleted = await until(
      "U0LEAD",
      (s) => s.vault.records.find((r) => r.id === parked.id && r.state === "deleted"),
      "the deletion",
    );
    expect(deleted.resolution?.by).toBe("U0MEMBER");
    const redrawn = await until(
      "U0LEAD",
      (s) => s.messages.find((m) => m.ts === request.ts && m.edited && textOf(m).includes("ran at")),
      "the redrawn request",
    );
    expect(approvalIdOf(redrawn)).toBeUndefined();
  });
});
