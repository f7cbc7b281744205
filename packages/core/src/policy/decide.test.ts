import { describe, expect, it } from "vitest";
import { type Decision, decide, type PolicyRequest } from "./decide";
import { parsePolicy } from "./policy-file";
import { createStaticSubjectDirectory, type SubjectDirectory } from "./subject-directory";

const SRE_GROUP = "a0000000-0000-0000-0000-00000000sre0";

/** The example, with a DM-only rule and a group-only subject added. */
const POLICY = parsePolicy(
  [
    "subjects:",
    `  sre:   { entraGroups: ["${SRE_GROUP}"], emails: ["Alice@Example.com"], slackUsers: ["U0SLACKONLY"] }`,
    '  leads: { emails: ["lead@example.com"] }',
    "rules:",
    '  - commands: ["config view", "deadletter ls", "deadletter show", "help", "--help"]',
    "    allow: [sre]",
    '  - commands: ["deadletter replay", "deadletter delete", "store * put", "encrypt rotate"]',
    "    allow: [sre]",
    '    channels: ["C0OPS"]',
    "    approval: { from: [leads], count: 1, expires: 30m }",
    '  - commands: ["encrypt decrypt"]',
    "    allow: [sre]",
    "    channels: [dm]",
    '  - commands: ["*"]',
    '    deny: "Not allowed here"',
    "",
  ].join("\n"),
  "policy.yaml",
);

const OPS = { id: "C0OPS", isDm: false };
const GENERAL = { id: "C0GENERAL", isDm: false };
const DM = { id: "D0ALICE", isDm: true };

/** Group look-ups from a table, counted. */
function directory(groups: Record<string, string[]> = { [SRE_GROUP]: ["bob@example.com"] }) {
  const inner = createStaticSubjectDirectory(groups);
  const calls: string[] = [];
  const dir: SubjectDirectory = {
    inGroup(groupId, email) {
      calls.push(`${groupId} ${email}`);
      return inner.inGroup(groupId, email);
    },
  };
  return { dir, calls };
}

/** `email` null: the Slack profile shows none. */
function request(command: string, channel = GENERAL, email: string | null = "alice@example.com") {
  const user = email === null ? { slackId: "U0ALICE" } : { slackId: "U0ALICE", email };
  return { user, channel, command: command.split(" ").filter(Boolean) } satisfies PolicyRequest;
}

/** The decision with its Slack message as the text Slack is sent. */
async function decideWith(req: PolicyRequest, dir: SubjectDirectory = directory().dir, policy = POLICY) {
  const decision: Decision = await decide(policy, req, dir);
  return "message" in decision ? { ...decision, message: decision.message.text } : decision;
}

describe("decide: allowed", () => {
  it("a member by email runs a read command anywhere; the decision names rule and subject", async () => {
    for (const channel of [GENERAL, OPS, DM]) {
      const decision = await decideWith(request("config view", channel));
      expect(decision).toEqual({
        outcome: "allow",
        ruleIndex: 0,
        subject: "sre",
        command: "config view",
        explanation: "allowed by rules[0] (line 5): sre may run `config view` anywhere",
      });
    }
  });

  it("emails compare case-insensitively, both ways", async () => {
    expect((await decideWith(request("deadletter ls", GENERAL, " ALICE@example.COM "))).outcome).toBe(
      "allow",
    );
    const { dir, calls } = directory({ [SRE_GROUP]: ["Bob@Example.com"] });
    expect((await decideWith(request("deadletter ls", GENERAL, "BOB@EXAMPLE.COM"), dir)).outcome).toBe(
      "allow",
    );
    expect(calls).toEqual([`${SRE_GROUP} bob@example.com`]);
  });

  it("by Slack id, even without an email; by Entra group", async () => {
    const slackOnly = { user: { slackId: "U0SLACKONLY" }, channel: GENERAL, command: ["config", "view"] };
    expect(await decideWith(slackOnly)).toMatchObject({ outcome: "allow", subject: "sre" });
    expect(await decideWith(request("config view", GENERAL, "bob@example.com"))).toMatchObject({
      outcome: "allow",
      subject: "sre",
    });
  });

  it("help as typed: `help`, `help deadletter`, `--help`, `-h`", async () => {
    for (const command of ["help", "help deadletter", "--help", "-h"]) {
      expect(await decideWith(request(command)), command).toMatchObject({ outcome: "allow", ruleIndex: 0 });
    }
  });

  it("a DM-only rule applies in direct messages", async () => {
    expect(await decideWith(request("encrypt decrypt --envelope x", DM))).toMatchObject({
      outcome: "allow",
      ruleIndex: 2,
      explanation: "allowed by rules[2] (line 11): sre may run `encrypt decrypt` in direct messages",
    });
  });
});

describe("decide: approval", () => {
  it("a risky command in its channel needs approval: from, count, expiry and rule", async () => {
    const decision = await decideWith(request("deadletter delete abc", OPS));
    expect(decision).toEqual({
      outcome: "approval",
      ruleIndex: 1,
      rule: "rules[1] (line 7)",
      subject: "sre",
      from: ["leads"],
      count: 1,
      expiresMs: 30 * 60_000,
      command: "deadletter delete",
      message: "`deadletter delete` needs approval from leads",
      explanation:
        "needs approval by rules[1] (line 7): sre may run `deadletter delete` in C0OPS with approval from leads within 30m",
    });
  });

  it("`store * put` covers every provider, not other store commands", async () => {
    expect(await decideWith(request("store s3 put --data x KEY", OPS))).toMatchObject({
      outcome: "approval",
      command: "store s3 put",
    });
    expect(await decideWith(request("store s3 get KEY", OPS))).toMatchObject({
      outcome: "refuse",
      reason: "denied",
      command: "store s3 get",
    });
  });

  it("counts above one are spelt out", async () => {
    const policy = parsePolicy(
      [
        "subjects: { sre: { emails: [alice@example.com] }, leads: { emails: [l@example.com] } }",
        "rules: [{ commands: [encrypt rotate], allow: [sre], approval: { from: [leads, sre], count: 2, expires: 2h } }]",
      ].join("\n"),
      "p.yaml",
    );
    const decision = await decideWith(request("encrypt rotate"), undefined, policy);
    expect(decision).toMatchObject({
      outcome: "approval",
      count: 2,
      expiresMs: 7_200_000,
      from: ["leads", "sre"],
    });
    expect((decision as { message: string }).message).toBe(
      "`encrypt rotate` needs 2 approvals from leads or sre",
    );
  });

  it("options do not slip a risky command past its rule", async () => {
    for (const command of [
      "-- deadletter delete abc",
      "deadletter -- delete abc",
      "-c x deadletter delete abc",
    ]) {
      expect(await decideWith(request(command, OPS)), command).toMatchObject({
        outcome: "approval",
        ruleIndex: 1,
      });
    }
  });
});

describe("decide: refused, with the reason", () => {
  it("a deny rule gives its reason", async () => {
    expect(await decideWith(request("encrypt data hush-hush"))).toEqual({
      outcome: "refuse",
      reason: "denied",
      ruleIndex: 3,
      command: "encrypt data",
      message: "Not allowed here",
      explanation: "denied by rules[3] (line 14): Not allowed here",
    });
  });

  it("not in the rule's subjects: says who may", async () => {
    const decision = await decideWith(request("config view", GENERAL, "eve@example.com"));
    expect(decision).toEqual({
      outcome: "refuse",
      reason: "not-allowed",
      ruleIndex: 0,
      command: "config view",
      message: "Only sre may run `config view`.",
      explanation:
        "refused by rules[0] (line 5): only sre may run `config view` anywhere, and this user is in none of them",
    });
  });

  it("without an email only Slack ids can match, and the user is told why", async () => {
    const { dir, calls } = directory();
    const decision = await decideWith(request("config view", GENERAL, null), dir);
    expect(decision).toMatchObject({ outcome: "refuse", reason: "not-allowed" });
    expect((decision as { message: string }).message).toContain("Your Slack profile shows no email address");
    expect(calls).toEqual([]);
  });

  it("allowed in another channel: says where, as a Slack channel mention", async () => {
    const decision = await decideWith(request("deadletter delete abc", GENERAL));
    expect(decision).toEqual({
      outcome: "refuse",
      reason: "channel",
      ruleIndex: 3,
      command: "deadletter delete",
      message: "`deadletter delete` is allowed in <#C0OPS> only.",
      explanation:
        "refused in C0GENERAL: rules[1] (line 7) allows `deadletter delete` for this user in C0OPS only; " +
        "here denied by rules[3] (line 14): Not allowed here",
    });
  });

  it("allowed in direct messages only: says so, from a channel", async () => {
    expect(await decideWith(request("encrypt decrypt x", OPS))).toMatchObject({
      reason: "channel",
      message: "`encrypt decrypt` is allowed in direct messages only.",
    });
  });

  it("several rules elsewhere: every place is named", async () => {
    const policy = parsePolicy(
      [
        "subjects: { sre: { emails: [alice@example.com] } }",
        "rules:",
        "  - { commands: [deadletter replay], allow: [sre], channels: [C0OPS] }",
        "  - { commands: [deadletter], allow: [sre], channels: [dm, C0SRE] }",
      ].join("\n"),
      "p.yaml",
    );
    const decision = await decideWith(request("deadletter replay abc", GENERAL), undefined, policy);
    expect(decision).toMatchObject({
      outcome: "refuse",
      reason: "channel",
      ruleIndex: null,
      message: "`deadletter replay` is allowed in <#C0OPS>, <#C0SRE> or direct messages only.",
    });
  });

  it("no channel hint for someone who would not be allowed there either", async () => {
    expect(await decideWith(request("deadletter delete abc", GENERAL, "eve@example.com"))).toMatchObject({
      outcome: "refuse",
      reason: "denied",
      message: "Not allowed here",
    });
  });

  it("nothing matches: says which command, by its leading words only", async () => {
    const policy = parsePolicy(
      "subjects: { sre: { emails: [alice@example.com] } }\nrules: [{ commands: [config view], allow: [sre] }]\n",
      "p.yaml",
    );
    const decision = await decideWith(request("encrypt data my-secret"), undefined, policy);
    expect(decision).toEqual({
      outcome: "refuse",
      reason: "no-rule",
      ruleIndex: null,
      command: "encrypt data",
      message: "No policy rule allows `encrypt data`.",
      explanation: "refused: no rule of p.yaml allows `encrypt data` in C0GENERAL",
    });
    expect(JSON.stringify(decision)).not.toContain("my-secret");
  });

  it("what the user typed cannot mention anyone through the refusal", async () => {
    const policy = parsePolicy(
      "subjects: { s: { emails: [a@b.c] } }\nrules: [{ commands: [x], allow: [s] }]\n",
      "p",
    );
    const decision = (await decideWith(request("<!channel> `hi` &"), undefined, policy)) as {
      message: string;
    };
    expect(decision.message).toBe("No policy rule allows `&lt;!channel&gt; 'hi'`.");
  });
});

describe("decide: first match wins", () => {
  const policy = parsePolicy(
    [
      "subjects: { sre: { emails: [alice@example.com] }, all: { emails: [alice@example.com, eve@example.com] } }",
      "rules:",
      "  - { commands: [deadletter delete], deny: Use the runbook }",
      "  - { commands: [deadletter], allow: [sre] }",
      "  - { commands: ['*'], allow: [all] }",
    ].join("\n"),
    "p.yaml",
  );

  it("an earlier deny beats a later allow; the next rule takes what the first leaves", async () => {
    expect(await decideWith(request("deadletter delete x"), undefined, policy)).toMatchObject({
      outcome: "refuse",
      reason: "denied",
      ruleIndex: 0,
      message: "Use the runbook",
    });
    expect(await decideWith(request("deadletter replay x"), undefined, policy)).toMatchObject({
      outcome: "allow",
      ruleIndex: 1,
    });
  });

  it("a matching rule that refuses the user decides: later rules are not tried", async () => {
    expect(
      await decideWith(request("deadletter ls", GENERAL, "eve@example.com"), undefined, policy),
    ).toMatchObject({ outcome: "refuse", reason: "not-allowed", ruleIndex: 1 });
    expect(
      await decideWith(request("config view", GENERAL, "eve@example.com"), undefined, policy),
    ).toMatchObject({
      outcome: "allow",
      ruleIndex: 2,
      subject: "all",
    });
  });
});

describe("decide: membership look-ups", () => {
  const failing: SubjectDirectory = {
    async inGroup() {
      throw new Error("Graph is unavailable");
    },
  };

  it("a failed look-up refuses (fail closed), telling the user to retry and the operator why", async () => {
    const decision = await decideWith(request("config view", GENERAL, "bob@example.com"), failing);
    expect(decision).toEqual({
      outcome: "refuse",
      reason: "lookup-failed",
      ruleIndex: 0,
      command: "config view",
      message:
        "Sorry, I could not check whether you may run `config view` just now (a directory look-up failed); please try again shortly.",
      explanation:
        "refused (fail closed) by rules[0] (line 5): could not check membership of sre: Error: Graph is unavailable",
    });
  });

  it("a directory that throws instead of rejecting fails closed too", async () => {
    const throwing: SubjectDirectory = {
      inGroup() {
        throw new TypeError("boom");
      },
    };
    expect(await decideWith(request("config view", GENERAL, "bob@example.com"), throwing)).toMatchObject({
      reason: "lookup-failed",
    });
  });

  it("a failure does not matter when the user is in by email or Slack id, or in another group", async () => {
    expect(await decideWith(request("config view"), failing)).toMatchObject({ outcome: "allow" });
    const policy = parsePolicy(
      "subjects: { s: { entraGroups: [broken, ok] } }\nrules: [{ commands: ['*'], allow: [s] }]\n",
      "p",
    );
    const partly: SubjectDirectory = {
      async inGroup(groupId) {
        if (groupId === "broken") throw new Error("down");
        return true;
      },
    };
    expect(await decideWith(request("x"), partly, policy)).toMatchObject({ outcome: "allow", subject: "s" });
  });

  it("each group is asked once per request, however many rules and subjects name it", async () => {
    const policy = parsePolicy(
      [
        "subjects:",
        "  a: { entraGroups: [g1, g2] }",
        "  b: { entraGroups: [g2] }",
        "rules:",
        "  - { commands: [x], allow: [a], channels: [C0OPS] }",
        "  - { commands: [x], allow: [b, a] }",
      ].join("\n"),
      "p",
    );
    const { dir, calls } = directory({ g1: [], g2: [] });
    expect(await decideWith(request("x", GENERAL, "Carol@Example.com"), dir, policy)).toMatchObject({
      outcome: "refuse",
      reason: "not-allowed",
    });
    expect(calls.sort()).toEqual(["g1 carol@example.com", "g2 carol@example.com"]);
    // A new request asks again: caching across requests is the directory's job.
    await decideWith(request("x", GENERAL, "carol@example.com"), dir, policy);
    expect(calls).toHaveLength(4);
  });
});
