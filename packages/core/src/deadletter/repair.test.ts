import { describe, expect, it } from "vitest";
import type { ApprovalRequest } from "../approvals/approval";
import { createMemoryLogger } from "../logging/json-logger";
import type { PolicyGate } from "../policy/policy-gate";
import type { Chat, ChatMessage } from "../ports";
import type { AuditRecord } from "../security/audit-log";
import type { DeadLetter } from "./dead-letter";
import type { DeadLetterActions, ReplayOptions } from "./dead-letter-actions-types";
import { applyRepair, REPAIR_LIMITS, REPLAY_COUNT_PROPERTY, RepairError } from "./repair";
import {
  DIALOG_TEXT_MAX,
  editableBody,
  editableProperties,
  REPAIR_CALLBACK_ID,
  repairDialog,
  repairSubmission,
} from "./repair-dialog";
import { findJsonProblem } from "./repair-json";
import { commandOf, createApprovedActionRunner, createResolveHandler, type ResolveJob } from "./resolve-job";
import type { Vault, VaultRecord } from "./vault";

function message(overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    messageId: "m-1",
    sequenceNumber: "7",
    enqueuedTime: "2024-01-01T00:00:00.000Z",
    deliveryCount: 10,
    body: { kind: "json", value: { order: 1, items: ["a"] } },
    contentType: "application/json",
    applicationProperties: { tenant: "acme", amount: 5, urgent: false, gone: null },
    ...overrides,
  };
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof RepairError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error("expected a RepairError");
};

describe("applyRepair", () => {
  it("replaces a JSON body with parsed JSON and leaves the original untouched", () => {
    const original = message();
    const before = structuredClone(original);
    const repaired = applyRepair(original, { body: '{"order": 2}' });
    expect(repaired.message.body).toEqual({ kind: "json", value: { order: 2 } });
    expect(repaired.changes).toEqual(["body"]);
    expect(repaired.bodyDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(original).toEqual(before);
  });

  it("says where a JSON body stops being JSON, with its line and column", () => {
    expect(refusal(() => applyRepair(message(), { body: '{\n  "order": 2,\n  tru}' }))).toEqual({
      field: "body",
      message:
        "The body is not valid JSON at line 3, column 3: expected a property name in double quotes, found 't'.",
    });
    expect(refusal(() => applyRepair(message(), { body: "" })).message).toBe(
      "The body is not valid JSON at line 1, column 1: expected a value (an object, array, string, number, true, false or null), found the end of the text.",
    );
  });

  it("keeps text as text, and turns text for a binary body into its UTF-8 bytes", () => {
    expect(
      applyRepair(message({ body: { kind: "text", text: "a" } }), { body: "{not json" }).message.body,
    ).toEqual({
      kind: "text",
      text: "{not json",
    });
    const bytes = applyRepair(message({ body: { kind: "bytes", base64: "AAE=" } }), { body: "héllo" });
    expect(Buffer.from((bytes.message.body as { base64: string }).base64, "base64").toString("utf8")).toBe(
      "héllo",
    );
  });

  it("counts pretty-printed JSON with the same value as no change", () => {
    expect(applyRepair(message(), { body: '{\n  "order": 1,\n  "items": ["a"]\n}' }).changes).toEqual([]);
  });

  it("keeps a property's type when the new text reads as it, else a string; new ones are strings", () => {
    const { message: m, changes } = applyRepair(message(), {
      set: { amount: "7.5", urgent: "true", tenant: "globex", gone: "null", zip: "007" },
      unset: [],
    });
    expect(m.applicationProperties).toEqual({
      tenant: "globex",
      amount: 7.5,
      urgent: true,
      gone: null,
      zip: "007",
    });
    expect(changes).toEqual(["set amount", "set urgent", "set tenant", "set zip"]);
    expect(applyRepair(message(), { set: { amount: "lots" } }).message.applicationProperties.amount).toBe(
      "lots",
    );
  });

  it("removes properties, and refuses to remove one the message does not have", () => {
    expect(applyRepair(message(), { unset: ["tenant"] }).message.applicationProperties).not.toHaveProperty(
      "tenant",
    );
    expect(refusal(() => applyRepair(message(), { unset: ["nope"] })).message).toBe(
      "unset nope: the message has no such property.",
    );
    expect(
      refusal(() => applyRepair(message(), { set: { tenant: "x" }, unset: ["tenant"] })).message,
    ).toMatch(/both set and unset/);
  });

  it.each([
    ["set", { set: { [REPLAY_COUNT_PROPERTY]: "0" } }],
    ["unset", { unset: [REPLAY_COUNT_PROPERTY] }],
  ])("refuses to %s the replay counter", (_, edits) => {
    const m = message({ applicationProperties: { [REPLAY_COUNT_PROPERTY]: 1 } });
    expect(refusal(() => applyRepair(m, edits))).toEqual({
      field: "properties",
      message: expect.stringContaining(`${REPLAY_COUNT_PROPERTY}: Victoria counts replays with it`),
    });
  });

  it("bounds the body, property names and the number of properties changed", () => {
    const big = "x".repeat(REPAIR_LIMITS.bodyBytes + 1);
    expect(
      refusal(() => applyRepair(message({ body: { kind: "text", text: "" } }), { body: big })).message,
    ).toMatch(/262145 bytes; at most 262144/);
    expect(refusal(() => applyRepair(message(), { set: { ["k".repeat(129)]: "v" } })).message).toMatch(
      /at most 128 characters/,
    );
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    expect(refusal(() => applyRepair(message(), { set: many })).message).toMatch(
      /65 properties changed; .* at most 64/,
    );
  });
});

describe("findJsonProblem", () => {
  it.each([
    ['{"a":1,}', 1, 8, "expected a property name in double quotes, found '}'"],
    ["[1,2]x", 1, 6, "unexpected 'x' after the JSON value"],
    ['{"a":"b\nc"}', 1, 8, "a line break or control character inside a string"],
  ])("%j: line %i, column %i", (text, line, column, problem) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonProblem(text)).toMatchObject({ line, column, problem });
  });
});

function parkedRecord(m: DeadLetter): VaultRecord {
  return {
    id: "abc123",
    cluster: "prod1",
    namespace: "ns",
    entity: { kind: "queue", queue: "orders" },
    parkedAt: "2024-01-01T00:00:00.000Z",
    state: "parked",
    version: 1,
    message: m,
  };
}

type Input = { block_id?: string; type: string; element?: { initial_value?: string; max_length?: number } };

describe("the Repair… dialog", () => {
  it("pre-fills pretty JSON and one KEY=VALUE a line, leaving the replay counter out", () => {
    const m = message({ applicationProperties: { tenant: "acme", amount: 5, [REPLAY_COUNT_PROPERTY]: 1 } });
    const view = repairDialog(parkedRecord(m), { recordId: "abc123" });
    expect(view.callback_id).toBe(REPAIR_CALLBACK_ID);
    const blocks = view.blocks as Input[];
    const body = blocks.find((b) => b.block_id === "body");
    expect(body?.element).toMatchObject({
      initial_value: '{\n  "order": 1,\n  "items": [\n    "a"\n  ]\n}',
      max_length: DIALOG_TEXT_MAX,
    });
    expect(blocks.find((b) => b.block_id === "properties")?.element?.initial_value).toBe(
      "tenant=acme\namount=5",
    );
    expect(JSON.stringify(blocks)).toContain(
      `Kept as they are (not editable here): \`${REPLAY_COUNT_PROPERTY}\``,
    );
  });

  it("offers the command for a body that is binary or larger than a Slack text box", () => {
    expect(editableBody(message({ body: { kind: "bytes", base64: "/w==" } }))).toEqual({
      reason: "it is binary (1 bytes that are not UTF-8 text)",
    });
    const large = parkedRecord(message({ body: { kind: "text", text: "y".repeat(DIALOG_TEXT_MAX + 1) } }));
    const blocks = repairDialog(large, { recordId: "abc123" }).blocks as Input[];
    expect(blocks.some((b) => b.block_id === "body")).toBe(false);
    expect(JSON.stringify(blocks)).toContain("a Slack text box holds 3,000");
    expect(JSON.stringify(blocks)).toContain("victoria deadletter replay abc123 --body");
  });

  it("turns the submission into only what changed", () => {
    const m = message();
    const lines = editableProperties(m).lines as { text: string };
    const result = repairSubmission(m, {
      body: { text: { value: '{"order": 2}' } },
      properties: { lines: { value: `${lines.text.replace("tenant=acme\n", "")}\nregion=eu` } },
    });
    expect(result).toEqual({
      ok: true,
      edits: { body: '{"order": 2}', set: { region: "eu" }, unset: ["tenant"] },
      changes: ["body", "set region", "unset tenant"],
    });
  });

  it("answers errors on the field: bad JSON on the body, a bad line on the properties, nothing changed", () => {
    const m = message();
    const same = { properties: { lines: { value: (editableProperties(m).lines as { text: string }).text } } };
    expect(repairSubmission(m, { ...same, body: { text: { value: "{oops" } } })).toEqual({
      ok: false,
      errors: {
        body: "The body is not valid JSON at line 1, column 2: expected a property name in double quotes, found 'o'.",
      },
    });
    expect(
      repairSubmission(m, {
        body: { text: { value: '{"order":1,"items":["a"]}' } },
        properties: { lines: { value: "no equals" } },
      }),
    ).toEqual({ ok: false, errors: { properties: "Line 1: expected KEY=VALUE, got 'no equals'." } });
    expect(repairSubmission(m, { body: { text: { value: '{"order":1,"items":["a"]}' } }, ...same })).toEqual({
      ok: false,
      errors: { body: "Nothing was changed. To send it as it is, close this and click Replay." },
    });
  });
});

describe("the repair click in the command policy", () => {
  it("is `deadletter replay`, as on the command line, so one rule governs both", () => {
    const job = {
      requestId: "r",
      action: "repair",
      target: "abc",
      userId: "U",
      edits: { body: "{}" },
    } as const;
    expect(commandOf(job)).toEqual(["deadletter", "replay"]);
  });
});

/** The resolve job with stand-ins that record what reached them: replays asked for, what the clicker was told. */
function resolveWithStandIns() {
  const replays: Array<{ ref: string; options: ReplayOptions | undefined }> = [];
  const told: ChatMessage[] = [];
  const audit: AuditRecord[] = [];
  const gateChecks: string[][] = [];
  const unexpected = () => Promise.reject(new Error("not expected in this test"));
  const chat: Chat = {
    userInfo: unexpected,
    postMessage: unexpected,
    postEphemeral: unexpected,
    updateMessage: unexpected,
    openView: unexpected,
    updateView: unexpected,
    publishView: unexpected,
    uploadFile: unexpected,
    respond: async (_url, message) => void told.push(message),
  };
  const gate: PolicyGate = {
    check: async (_user, _channel, command) => {
      gateChecks.push([...command]);
      return { kind: "allow", email: "sre@example.com" };
    },
    isInSubjects: async () => ({ ok: false }),
  };
  const actions: DeadLetterActions = {
    list: unexpected,
    search: unexpected,
    show: unexpected,
    delete: unexpected,
    email: unexpected,
    replay: async (ref, _by, options) => {
      replays.push({ ref, options });
      return { ok: false, reason: "missing", message: `No dead letter ${ref}.` };
    },
  };
  // Only `get` is reached (App Home clicks); the rest of the vault is never touched by a single click.
  const vault = { get: async () => undefined } as Pick<Vault, "get"> as Vault;
  const deps = {
    chat,
    gate,
    audit: { write: async (record: AuditRecord) => void audit.push(record) },
    actions,
    vault,
    logger: createMemoryLogger(),
  };
  return {
    handler: createResolveHandler(deps),
    approved: createApprovedActionRunner(deps),
    replays,
    told,
    audit,
    gateChecks,
  };
}

describe("a repair job without edits", () => {
  const job = (edits?: ResolveJob["edits"]): ResolveJob => ({
    requestId: "req-1",
    action: "repair",
    target: "rec-1",
    userId: "U1",
    channel: "C1",
    responseUrl: "https://hooks.slack.test/r/1",
    ...(edits === undefined ? {} : { edits }),
  });

  it.each([
    ["no edits at all", undefined],
    ["empty edits", {}],
    ["edits naming nothing", { set: {}, unset: [] }],
  ])("is refused with a clear message and replays nothing (%s)", async (_, edits) => {
    const { handler, replays, told, audit, gateChecks } = resolveWithStandIns();
    await handler(job(edits));
    // Not the unedited original sent again under the name of a repair.
    expect(replays).toEqual([]);
    expect(gateChecks).toEqual([]);
    expect(told.map((m) => m.text).join("\n")).toContain("names no edit");
    expect(told.map((m) => m.text).join("\n")).toContain("click Replay");
    expect(audit).toMatchObject([{ phase: "refused", reason: "repair without edits" }]);
  });

  it("is refused when an approval held one back (held before this check existed)", async () => {
    const { approved, replays, told } = resolveWithStandIns();
    const request: ApprovalRequest = {
      id: "appr-1",
      version: 1,
      command: ["deadletter", "replay", "rec-1"],
      requester: { slackId: "U1", email: "sre@example.com" },
      channelId: "C1",
      ruleIndex: 0,
      ruleLabel: "replays need a second pair of eyes",
      approvers: ["leads"],
      count: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      expiresAt: "2026-01-02T00:00:00.000Z",
      state: "approved",
      approvals: [],
      job: { kind: "resolve-dead-letter", payload: job() },
    };
    expect(await approved(request)).toMatchObject({ exitStatus: 1 });
    expect(replays).toEqual([]);
    expect(told.map((m) => m.text).join("\n")).toContain("names no edit");
  });

  it("still hands a repair with an edit to the replay, with its edits", async () => {
    const { handler, replays } = resolveWithStandIns();
    await handler(job({ set: { tenant: "acme" } }));
    expect(replays).toEqual([
      { ref: "rec-1", options: { via: "button", edits: { set: { tenant: "acme" } } } },
    ]);
  });
});
