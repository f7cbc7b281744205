import { afterEach, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import type { DeadLetter } from "../../deadletter/dead-letter";
import type {
  ActionOptions,
  ActionOutcome,
  DeadLetterActions,
} from "../../deadletter/dead-letter-actions-types";
import { matchesFilter, type PageRequest, type RecordFilter } from "../../deadletter/record-filter";
import type { VaultRecord, VaultState } from "../../deadletter/vault";
import type { RecordLookup } from "../../deadletter/vault-lookup";
import { scanPage } from "../../deadletter/vault-records";
import { resultReply } from "../../slack/command-reply";
import { createVictoria } from "../engine";
import { BufferedOutput } from "../output";
import type { ProviderFactories } from "../providers";
import { corePlugins } from "./core-plugins";
import { deadletterPlugin, STATS_ROWS } from "./deadletter";

const providers: ProviderFactories = { encryption: {}, storage: {} };

function record(
  id: string,
  parkedAt: string,
  overrides: Partial<VaultRecord> = {},
  message: Partial<DeadLetter> = {},
) {
  return {
    id,
    cluster: "east",
    namespace: "sb-orders-east",
    entity: { kind: "queue", queue: "orders" },
    parkedAt,
    state: "parked",
    version: 1,
    message: {
      messageId: `msg-${id}`,
      sequenceNumber: "42",
      enqueuedTime: "2024-05-01T09:00:00.000Z",
      deliveryCount: 10,
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 10 delivery attempts.",
      body: { kind: "json", value: { orderId: 7, items: ["a"] } },
      contentType: "application/json",
      applicationProperties: { tenant: "acme", attempt: 3 },
      ...message,
    },
    ...overrides,
  } satisfies VaultRecord as VaultRecord;
}

/** Records every call, and moves records out of `parked` once, like the real actions do. */
class FakeActions implements DeadLetterActions {
  readonly calls: unknown[][] = [];
  readonly records: VaultRecord[];
  /** The next action's outcome instead of the normal one (e.g. a failed effect). */
  refuse?: ActionOutcome;

  constructor(records: VaultRecord[]) {
    this.records = records.map((r) => structuredClone(r));
  }

  async list(filter: RecordFilter = {}) {
    this.calls.push(["list", filter]);
    return this.records.filter((r) => matchesFilter(r, filter));
  }

  async search(filter: RecordFilter, page: PageRequest) {
    this.calls.push(["search", filter, page]);
    return scanPage(this.records, filter, page);
  }

  /** The next `show`'s answer instead of the normal one (e.g. an ambiguous reference). */
  showAnswer?: RecordLookup;

  async show(id: string): Promise<RecordLookup> {
    this.calls.push(["show", id]);
    if (this.showAnswer) return this.showAnswer;
    const record = this.records.find((r) => r.id === id);
    return record
      ? { ok: true, record }
      : {
          ok: false,
          reason: "missing",
          message: `No dead letter with id ${id} in the vault.`,
          candidates: [],
        };
  }

  private act(
    id: string,
    to: VaultState,
    by: string,
    note?: string,
    detail?: string,
    options: ActionOptions = {},
  ): ActionOutcome {
    if (this.refuse) return this.refuse;
    const found = this.records.find((r) => r.id === id);
    if (!found)
      return { ok: false, reason: "missing", message: `No dead letter with id ${id} in the vault.` };
    if (found.state !== "parked") {
      return {
        ok: false,
        reason: "already",
        message: `This dead letter was already ${found.state} by ${found.resolution?.by}.`,
        record: found,
      };
    }
    found.state = to;
    found.resolution = { by, at: "2024-05-02T00:00:00.000Z", ...options, ...(note ? { note } : {}) };
    return { ok: true, record: found, ...(detail ? { detail } : {}) };
  }

  async replay(id: string, by: string, options?: ActionOptions) {
    this.calls.push(["replay", id, by, options]);
    return this.act(id, "replayed", by, undefined, "sent back to orders", options);
  }

  async delete(id: string, by: string, note?: string, options?: ActionOptions) {
    this.calls.push(["delete", id, by, note, options]);
    return this.act(id, "deleted", by, note, undefined, options);
  }

  async email(id: string, to: string, by: string, note?: string, options?: ActionOptions) {
    this.calls.push(["email", id, to, by, note, options]);
    return this.act(id, "emailed", by, note, `emailed to ${to}`, options);
  }
}

const fixtures = () => [
  record("a1", "2024-05-01T10:00:00.000Z"),
  record(
    "b2",
    "2024-05-01T12:00:00.000Z",
    {
      cluster: "west",
      entity: { kind: "subscription", topic: "events", subscription: "audit" },
      state: "replayed",
      resolution: { by: "U0MEMBER", at: "2024-05-01T12:05:00.000Z" },
    },
    { deadLetterReason: "Poison\nmessage", body: { kind: "text", text: "line one\nline two\n" } },
  ),
  record("c3", "2024-05-01T11:00:00.000Z", {}, { deadLetterReason: undefined, body: { kind: "empty" } }),
];

function setup(records = fixtures(), env: NodeJS.ProcessEnv = { VICTORIA_ACTOR: "alice" }) {
  const fake = new FakeActions(records);
  const victoria = createVictoria({ plugins: corePlugins, providers, env, deadLetters: async () => fake });
  const run = async (...argv: string[]) => {
    const out = new BufferedOutput();
    const exitCode = await victoria.run(["deadletter", ...argv], { out });
    return { exitCode, output: out.text() };
  };
  return { fake, run };
}

describe("deadletter plugin", () => {
  it("is a core plugin with ls, stats, show, replay, delete and email", async () => {
    expect(corePlugins).toContain(deadletterPlugin);
    const { run } = setup();
    const help = await run("--help");
    expect(help.exitCode).toBe(0);
    expect(help.output).toContain("Inspect and resolve dead letters parked by the watcher.");
    for (const name of ["ls", "stats", "show", "replay", "delete", "email"])
      expect(help.output).toMatch(`\n  ${name} `);
    const ls = await run("ls", "--help");
    expect(ls.output).toContain("Usage: victoria deadletter ls [OPTIONS]");
    expect(ls.output).toMatch(
      /--state \[parked\|replayed\|emailed\|deleted\]\s+Only dead letters in this state\./,
    );
    expect((await run("email", "--help")).output).toContain(
      "Usage: victoria deadletter email [OPTIONS] ID ADDRESS",
    );
  });

  it("`ls` prints aligned columns, newest first, one line per dead letter", async () => {
    const { run } = setup();
    expect(await run("ls")).toEqual({
      exitCode: 0,
      output: [
        "ID  STATE     CLUSTER  ENTITY                      MESSAGE ID  REASON                    PARKED AT",
        "b2  replayed  west     events/Subscriptions/audit  msg-b2      Poison message            2024-05-01T12:00:00.000Z",
        "c3  parked    east     orders                      msg-c3      -                         2024-05-01T11:00:00.000Z",
        "a1  parked    east     orders                      msg-a1      MaxDeliveryCountExceeded  2024-05-01T10:00:00.000Z",
        "",
      ].join("\n"),
    });
  });

  it("`ls` passes its filters on and says when there is nothing", async () => {
    const { run, fake } = setup();
    const { exitCode, output } = await run("ls", "--state=parked", "--cluster", "east", "--entity", "orders");
    expect(exitCode).toBe(0);
    expect(fake.calls).toEqual([
      ["search", { state: "parked", cluster: "east", entity: "orders" }, { limit: 50 }],
    ]);
    expect(
      output
        .trimEnd()
        .split("\n")
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(["ID", "c3", "a1"]);
    expect(await run("ls", "--state", "emailed")).toEqual({ exitCode: 0, output: "No dead letters.\n" });
    expect(await setup([]).run("ls")).toEqual({ exitCode: 0, output: "No dead letters.\n" });
  });

  it("`ls --state` only takes a vault state", async () => {
    const { exitCode, output } = await setup().run("ls", "--state", "gone");
    expect(exitCode).toBe(2);
    expect(output).toContain(
      "Error: Invalid value for '--state': 'gone' is not one of 'parked', 'replayed', 'emailed', 'deleted'.",
    );
  });

  it("`show` prints the record as YAML with a pretty JSON body", async () => {
    const { exitCode, output } = await setup().run("show", "a1");
    expect(exitCode).toBe(0);
    expect(output).toContain('  content: |-\n    {\n      "orderId": 7,');
    expect(parseYaml(output)).toEqual({
      id: "a1",
      state: "parked",
      cluster: "east",
      namespace: "sb-orders-east",
      entity: "orders",
      parkedAt: "2024-05-01T10:00:00.000Z",
      deadLetter: {
        reason: "MaxDeliveryCountExceeded",
        description: "Message could not be consumed after 10 delivery attempts.",
      },
      message: {
        messageId: "msg-a1",
        sequenceNumber: "42",
        enqueuedTime: "2024-05-01T09:00:00.000Z",
        deliveryCount: 10,
        contentType: "application/json",
      },
      applicationProperties: { tenant: "acme", attempt: 3 },
      body: { kind: "json", content: JSON.stringify({ orderId: 7, items: ["a"] }, null, 2) },
    });
  });

  it("`show` prints text as is, and bytes as base64 with a note (and as text when they are UTF-8)", async () => {
    const text = parseYaml((await setup().run("show", "b2")).output);
    expect(text.body).toEqual({ kind: "text", content: "line one\nline two\n" });
    expect(text.entity).toBe("events/Subscriptions/audit");
    expect(text.resolution).toEqual({ by: "U0MEMBER", at: "2024-05-01T12:05:00.000Z" });

    const utf8 = Buffer.from("héllo").toString("base64");
    const binary = Buffer.from([0, 1, 2, 255]).toString("base64");
    const { run } = setup([
      record("t", "2024-05-01T10:00:00.000Z", {}, { body: { kind: "bytes", base64: utf8 } }),
      record("x", "2024-05-01T10:00:00.000Z", {}, { body: { kind: "bytes", base64: binary } }),
    ]);
    expect(parseYaml((await run("show", "t")).output).body).toEqual({
      kind: "bytes",
      note: "binary body (6 bytes), base64-encoded; it is valid UTF-8, also shown as text",
      base64: utf8,
      text: "héllo",
    });
    expect(parseYaml((await run("show", "x")).output).body).toEqual({
      kind: "bytes",
      note: "binary body (4 bytes), base64-encoded",
      base64: binary,
    });
  });

  it("`show` of an unknown id fails with exit 1", async () => {
    expect(await setup().run("show", "nope")).toEqual({
      exitCode: 1,
      output: "Error: No dead letter with id nope in the vault.\n",
    });
  });

  it("`show` of an ambiguous reference is a usage error (exit 2) that lists the candidates", async () => {
    const { run, fake } = setup();
    const message = "a matches 2 dead letters; give more of the id:\n  a1  parked\n  a2  parked";
    fake.showAnswer = { ok: false, reason: "ambiguous", message, candidates: [] };
    expect(await run("show", "a")).toEqual({ exitCode: 2, output: `Error: ${message}\n` });
    fake.refuse = { ok: false, reason: "ambiguous", message };
    expect((await run("replay", "a")).exitCode).toBe(2);
  });

  it("`replay` acts as cli:$VICTORIA_ACTOR via command and prints the outcome; a second replay fails", async () => {
    const { run, fake } = setup();
    expect(await run("replay", "a1")).toEqual({
      exitCode: 0,
      output: "Replayed dead letter a1 (east/orders) as cli:alice.\nsent back to orders\n",
    });
    expect(fake.calls).toEqual([["replay", "a1", "cli:alice", { via: "command" }]]);
    expect(fake.records.find((r) => r.id === "a1")?.resolution?.via).toBe("command");
    expect(await run("replay", "a1")).toEqual({
      exitCode: 1,
      output: "Error: This dead letter was already replayed by cli:alice.\n",
    });
  });

  it("`delete` and `email` pass the id, address, actor and --note", async () => {
    const { run, fake } = setup(fixtures(), { USER: "bob" });
    expect(await run("delete", "a1", "--note", "duplicate order")).toEqual({
      exitCode: 0,
      output: "Deleted dead letter a1 (east/orders) as cli:bob.\n",
    });
    expect(await run("email", "--note=have a look", "c3", "ops@example.com")).toEqual({
      exitCode: 0,
      output: "Emailed dead letter c3 (east/orders) as cli:bob.\nemailed to ops@example.com\n",
    });
    expect(await run("delete", "b2")).toMatchObject({ exitCode: 1 });
    const via = { via: "command" };
    expect(fake.calls).toEqual([
      ["delete", "a1", "cli:bob", "duplicate order", via],
      ["email", "c3", "ops@example.com", "cli:bob", "have a look", via],
      ["delete", "b2", "cli:bob", undefined, via],
    ]);
  });

  it("turns a refused or failed outcome into exit 1 with its message (75 when a retry may help)", async () => {
    const { run, fake } = setup();
    fake.refuse = { ok: false, reason: "failed", message: "Could not replay it: ServiceBusy." };
    expect(await run("replay", "a1")).toEqual({
      exitCode: 75,
      output: "Error: Could not replay it: ServiceBusy.\n",
    });
    fake.refuse = {
      ok: false,
      reason: "unconfigured",
      message: "Email is not configured here (SMTP_URL, MAIL_FROM).",
    };
    expect(await run("email", "a1", "ops@example.com")).toEqual({
      exitCode: 1,
      output: "Error: Email is not configured here (SMTP_URL, MAIL_FROM).\n",
    });
    fake.refuse = { ok: false, reason: "limit", message: "This message was already replayed 3 times." };
    expect(await run("replay", "a1")).toEqual({
      exitCode: 1,
      output: "Error: This message was already replayed 3 times.\n",
    });
  });

  it("checks its arguments before touching the dead-letter service", async () => {
    const { run, fake } = setup();
    const missing = await run("email", "a1");
    expect(missing.exitCode).toBe(2);
    expect(missing.output).toContain("Error: Missing argument 'ADDRESS'.");
    expect(fake.calls).toEqual([]);
  });

  it("fails with exit 1 where the host has no vault or Service Bus", async () => {
    const victoria = createVictoria({ plugins: corePlugins, providers, env: {} });
    for (const argv of [["ls"], ["replay", "a1"]]) {
      const out = new BufferedOutput();
      expect(await victoria.run(["deadletter", ...argv], { out })).toBe(1);
      expect(out.text()).toBe(
        "Error: dead-letter operations are not available here: the vault and Service Bus are not configured\n",
      );
    }
  });
});

/** Any C0 control character but a line break. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0009\u000b-\u001f]/;

describe("deadletter stats", () => {
  const NOW = "2024-05-02T00:00:00.000Z";
  /** The clock only: the engine's timers run as usual. */
  const atNow = () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(NOW));
  };
  afterEach(() => {
    vi.useRealTimers();
  });

  const audit = { kind: "subscription", topic: "events", subscription: "audit" } as const;
  /** Resolved `minutes` after it was parked. */
  const resolved = (
    id: string,
    parkedAt: string,
    state: VaultState,
    minutes: number,
    more = {},
    message = {},
  ) =>
    record(
      id,
      parkedAt,
      {
        state,
        resolution: { by: "cli:alice", at: new Date(Date.parse(parkedAt) + minutes * 60_000).toISOString() },
        ...more,
      },
      message,
    );
  const mixed = () => [
    record("a1", "2024-05-01T20:47:30.000Z"),
    record("c3", "2024-05-01T22:00:00.000Z", {}, { deadLetterReason: undefined }),
    resolved(
      "b2",
      "2024-05-01T12:00:00.000Z",
      "replayed",
      10,
      { cluster: "west", entity: audit },
      {
        deadLetterReason: "Poison",
      },
    ),
    resolved("d4", "2024-05-01T13:00:00.000Z", "deleted", 75, { cluster: "west", entity: audit }),
    resolved("e5", "2024-05-01T14:00:00.000Z", "emailed", 4),
  ];

  it("says there is nothing in an empty vault, and answers zeros as JSON", async () => {
    const { run } = setup([]);
    expect(await run("stats")).toEqual({ exitCode: 0, output: "No dead letters.\n" });
    const json = await run("stats", "--json");
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.output)).toEqual({
      total: 0,
      byState: { parked: 0, replayed: 0, emailed: 0, deleted: 0 },
      byEntity: [],
      byReason: [],
      oldestParked: null,
      timeToResolve: { resolved: 0, medianMs: null },
    });
  });

  it("prints tables by state, entity and reason, the oldest parked age and the median (odd count)", async () => {
    atNow();
    const { run, fake } = setup(mixed());
    expect(await run("stats")).toEqual({
      exitCode: 0,
      output: [
        "Dead letters: 5",
        "",
        "STATE     COUNT",
        "parked    2",
        "replayed  1",
        "emailed   1",
        "deleted   1",
        "",
        "CLUSTER  ENTITY                      COUNT",
        "east     orders                      3",
        "west     events/Subscriptions/audit  2",
        "",
        "REASON                    COUNT",
        "MaxDeliveryCountExceeded  3",
        "Poison                    1",
        "-                         1",
        "",
        "Oldest parked:           3h12m30s (a1, parked 2024-05-01T20:47:30.000Z)",
        "Median time to resolve:  10m (over 3 resolved)",
        "",
      ].join("\n"),
    });
    // The listing `ls` makes, unfiltered.
    expect(fake.calls).toEqual([["list", {}]]);
  });

  it("takes the mean of the two middle times to resolve for an even count", async () => {
    atNow();
    const records = [...mixed(), resolved("f6", "2024-05-01T15:00:00.000Z", "deleted", 20)];
    const { output } = await setup(records).run("stats");
    // 4, 10, 20, 75 minutes: (10 + 20) / 2.
    expect(output).toContain("Median time to resolve:  15m (over 4 resolved)\n");
  });

  it("prints the figures as JSON with --json", async () => {
    atNow();
    const { exitCode, output } = await setup(mixed()).run("stats", "--json");
    expect(exitCode).toBe(0);
    expect(JSON.parse(output)).toEqual({
      total: 5,
      byState: { parked: 2, replayed: 1, emailed: 1, deleted: 1 },
      byEntity: [
        { cluster: "east", entity: "orders", count: 3 },
        { cluster: "west", entity: "events/Subscriptions/audit", count: 2 },
      ],
      byReason: [
        { reason: "MaxDeliveryCountExceeded", count: 3 },
        { reason: "Poison", count: 1 },
        { reason: null, count: 1 },
      ],
      oldestParked: { id: "a1", parkedAt: "2024-05-01T20:47:30.000Z", ageMs: 11_550_000 },
      timeToResolve: { resolved: 3, medianMs: 600_000 },
    });
  });

  it("takes the filters of `ls` and passes them on the same way", async () => {
    atNow();
    const { run, fake } = setup(mixed());
    const { exitCode, output } = await run(
      "stats",
      "--state",
      "parked",
      "--cluster=east",
      "--entity",
      "orders",
    );
    expect(exitCode).toBe(0);
    expect(fake.calls).toEqual([["list", { state: "parked", cluster: "east", entity: "orders" }]]);
    expect(output).toContain("Dead letters: 2\n");
    expect(output).toContain("Median time to resolve:  - (none resolved)\n");
    expect((await run("stats", "--cluster", "north")).output).toBe("No dead letters.\n");
    const help = await run("stats", "--help");
    expect(help.output).toContain("Usage: victoria deadletter stats [OPTIONS]");
    expect(help.output).toMatch(
      /--state \[parked\|replayed\|emailed\|deleted\]\s+Only dead letters in this state\./,
    );
    expect(help.output).toContain("--json");
    expect((await run("stats", "--state", "gone")).exitCode).toBe(2);
  });

  it("says when nothing is parked", async () => {
    const { output } = await setup([resolved("b2", "2024-05-01T12:00:00.000Z", "replayed", 1)]).run("stats");
    expect(output).toContain("Oldest parked:           - (none parked)\n");
  });

  it("shows Slack markup and control characters in entities and reasons harmlessly", async () => {
    atNow();
    const hostile = "<!channel> <http://evil|click> & \u001b[31mred\u0000\nnext";
    const { run } = setup([
      record(
        "h1",
        "2024-05-01T23:00:00.000Z",
        { cluster: "<!here>", entity: { kind: "queue", queue: hostile } },
        { deadLetterReason: hostile },
      ),
    ]);
    const text = await run("stats");
    expect(text.exitCode).toBe(0);
    // Plain text, one line per row, no control character: `ls` shows it the same way.
    expect(text.output).not.toMatch(CONTROL_CHARACTER);
    expect(text.output).toContain("<!here>  <!channel> <http://evil|click> & red next  1\n");
    expect((await run("ls")).output).toContain("<!here>  <!channel> <http://evil|click> & red next");
    // Posted to Slack, the output is escaped: no mention, no link.
    const reply = resultReply(["deadletter", "stats"], { exitCode: 0, output: text.output });
    expect(reply.text).not.toContain("<!channel>");
    expect(reply.text).not.toContain("<!here>");
    expect(reply.text).toContain("&lt;!channel&gt; &lt;http://evil|click&gt; &amp;");

    const json = await run("stats", "--json");
    // The exact values for scripts, with the controls escaped by JSON.
    expect(JSON.parse(json.output).byReason).toEqual([{ reason: hostile, count: 1 }]);
    expect(json.output).not.toMatch(CONTROL_CHARACTER);
  });

  it("escapes C1 controls and bidi overrides in --json, which JSON.stringify leaves as they are", async () => {
    const reason = "a\u009b31mb\u202ec";
    const { output } = await setup([
      record("x", "2024-05-01T23:00:00.000Z", {}, { deadLetterReason: reason }),
    ]).run("stats", "--json");
    expect(output).toContain('"reason": "a\\u009b31mb\\u202ec"');
    expect(JSON.parse(output).byReason[0].reason).toBe(reason);
  });

  it(`shows the first ${STATS_ROWS} entities and sums up the rest; --json has them all`, async () => {
    const records = Array.from({ length: STATS_ROWS + 3 }, (_, i) =>
      record(`q${i}`, "2024-05-01T10:00:00.000Z", {
        entity: { kind: "queue", queue: `q${String(i).padStart(2, "0")}` },
      }),
    );
    records.push(record("extra", "2024-05-01T10:00:00.000Z", { entity: { kind: "queue", queue: "q00" } }));
    const { run } = setup(records);
    const lines = (await run("stats")).output.split("\n");
    const start = lines.indexOf(lines.find((l) => l.startsWith("CLUSTER")) as string);
    expect(lines[start + 1]).toBe("east     q00     2");
    expect(lines[start + STATS_ROWS]).toMatch(/^east {5}q19 {5}1$/);
    expect(lines[start + STATS_ROWS + 1]).toBe("… 3 more (3 dead letters); --json lists them all");
    expect(JSON.parse((await run("stats", "--json")).output).byEntity).toHaveLength(STATS_ROWS + 3);
  });
});
