import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileVault } from "../adapters/local/file-vault";
import { createVictoria } from "../victoria/engine";
import { BufferedOutput } from "../victoria/output";
import { corePlugins } from "../victoria/plugins/core-plugins";
import type { DeadLetter, EntityRef } from "./dead-letter";
import { createDeadLetterActions } from "./dead-letter-actions";
import type { Vault } from "./vault";

// `deadletter ls` search flags over the real actions and a real (file) vault.

let dir: string;
let vault: Vault;
// `--since 2h` counts back from the real clock, so the records are parked relative to it.
const NOW = Date.now();
const iso = (hoursAgo: number) => new Date(NOW - hoursAgo * 3_600_000).toISOString();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "victoria-search-"));
  vault = createFileVault(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function message(id: string, overrides: Partial<DeadLetter>): DeadLetter {
  return {
    messageId: `msg-${id}`,
    sequenceNumber: "1",
    enqueuedTime: "2026-12-06T00:00:00.000Z",
    deliveryCount: 10,
    body: { kind: "text", text: "" },
    applicationProperties: {},
    ...overrides,
  };
}

async function park(id: string, hoursAgo: number, entity: EntityRef, overrides: Partial<DeadLetter>) {
  const parkedAt = new Date(NOW - hoursAgo * 3_600_000).toISOString();
  await vault.park({
    id,
    cluster: "east",
    namespace: "ns",
    entity,
    parkedAt,
    message: message(id, overrides),
  });
}

const orders: EntityRef = { kind: "queue", queue: "orders" };
const audit: EntityRef = { kind: "subscription", topic: "events", subscription: "audit" };

async function fixtures() {
  await park("a1", 1, orders, {
    deadLetterReason: "MaxDeliveryCountExceeded",
    body: { kind: "json", value: { orderId: 7, customer: "ACME Corp" } },
    applicationProperties: { tenant: "acme", attempt: 3 },
  });
  await park("b2", 5, orders, {
    deadLetterReason: "TTLExpiredException",
    body: { kind: "text", text: "plain text about widgets" },
    applicationProperties: { tenant: "globex", urgent: true },
  });
  await park("c3", 30, audit, {
    deadLetterReason: "ProcessingFailed",
    deadLetterErrorDescription: "Schema validation: missing field orderId",
    body: { kind: "bytes", base64: Buffer.from("bytes mention acme too").toString("base64") },
    applicationProperties: { tenant: "acme", region: "eu=west" },
  });
}

async function ls(...argv: string[]) {
  const actions = createDeadLetterActions({
    vault,
    bus: { send: async () => undefined, close: async () => undefined } as never,
    connections: {},
    maxReplays: 3,
    now: () => new Date(NOW),
  });
  const victoria = createVictoria({
    plugins: corePlugins,
    providers: { encryption: {}, storage: {} },
    env: { VICTORIA_ACTOR: "alice" },
    deadLetters: async () => actions,
  });
  const out = new BufferedOutput();
  const exitCode = await victoria.run(["deadletter", "ls", ...argv], { out });
  return { exitCode, output: out.text() };
}

/** The ids `ls --json` printed. */
async function ids(...argv: string[]): Promise<string[]> {
  const { exitCode, output } = await ls(...argv, "--json");
  expect(exitCode, output).toBe(0);
  return (JSON.parse(output) as { records: { id: string }[] }).records.map((r) => r.id);
}

describe("deadletter ls search flags", () => {
  beforeEach(fixtures);

  it("--reason matches the reason or its description, any case", async () => {
    expect(await ids("--reason", "ttlexpired")).toEqual(["b2"]);
    expect(await ids("--reason", "SCHEMA validation")).toEqual(["c3"]);
    expect(await ids("--reason", "nothing like it")).toEqual([]);
  });

  it("--grep searches JSON, text and byte bodies, any case", async () => {
    expect(await ids("--grep", "acme")).toEqual(["a1", "c3"]);
    expect(await ids("--grep", '"orderId":7')).toEqual(["a1"]);
    expect(await ids("--grep", "WIDGETS")).toEqual(["b2"]);
  });

  it("--where compares properties as text; repeated, all must hold; the first = splits", async () => {
    expect(await ids("--where", "tenant=acme")).toEqual(["a1", "c3"]);
    expect(await ids("--where", "tenant=acme", "--where", "attempt=3")).toEqual(["a1"]);
    expect(await ids("--where", "urgent=true")).toEqual(["b2"]);
    expect(await ids("--where", "region=eu=west")).toEqual(["c3"]);
    expect(await ids("--where", "tenant=")).toEqual([]);
  });

  it("--since and --until take durations before now or ISO times", async () => {
    expect(await ids("--since", "2h")).toEqual(["a1"]);
    expect(await ids("--since", "1d")).toEqual(["a1", "b2"]);
    expect(await ids("--until", "2h")).toEqual(["b2", "c3"]);
    expect(await ids("--since", iso(10), "--until", iso(2))).toEqual(["b2"]);
    expect(await ids("--since", iso(40).slice(0, 10))).toEqual(["a1", "b2", "c3"]);
  });

  it("combines with --entity and --state", async () => {
    expect(await ids("--entity", "events/Subscriptions/audit", "--grep", "acme")).toEqual(["c3"]);
    expect(await ids("--state", "replayed", "--grep", "acme")).toEqual([]);
  });

  it("pages with --limit and --next, each record once, and says how to go on", async () => {
    const first = await ls("--limit", "2");
    expect(first.exitCode).toBe(0);
    const more = /More: add --next (\S+)/.exec(first.output);
    expect(more).not.toBeNull();
    expect(first.output.split("\n").filter((l) => /^[0-9a-f]+ /.test(l))).toHaveLength(2);
    const page = JSON.parse((await ls("--limit", "2", "--next", more?.[1] ?? "", "--json")).output);
    expect(page).toEqual({
      records: [expect.objectContaining({ id: "c3", reason: "ProcessingFailed" })],
      next: null,
    });
    const whole = JSON.parse((await ls("--limit", "2", "--json")).output);
    expect(whole.records.map((r: { id: string }) => r.id)).toEqual(["a1", "b2"]);
    expect(whole.next).toBe(more?.[1]);
  });

  it("answers bad values with a usage error (exit 2) that says what is expected", async () => {
    const cases: [string[], RegExp][] = [
      [["--since", "yesterday"], /'--since': 'yesterday' is neither a duration/],
      [["--until", "2h ago"], /neither a duration \(30m, 2h, 1d\) nor an ISO-8601 time/],
      [["--where", "tenant"], /'--where': 'tenant' is not KEY=VALUE/],
      [["--where", "=x"], /is not KEY=VALUE/],
      [["--limit", "0"], /'--limit': '0' is not a whole number from 1 to 1000/],
      [["--limit", "5000"], /from 1 to 1000/],
      [["--limit", "2.5"], /not a whole number/],
      [["--next", "../../etc/passwd"], /'--next': not a cursor/],
    ];
    for (const [argv, message] of cases) {
      const { exitCode, output } = await ls(...argv);
      expect(exitCode, argv.join(" ")).toBe(2);
      expect(output).toMatch(message);
    }
  });
});
