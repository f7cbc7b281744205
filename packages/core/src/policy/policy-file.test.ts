import { describe, expect, it } from "vitest";
import { PolicyError, parsePolicy } from "./policy-file";

/** The example of issue 16, line for line. */
const EXAMPLE = [
  "subjects:                          # named audiences; any of the three kinds",
  '  sre:   { entraGroups: ["a0000000-0000-0000-0000-00000000sre0"], emails: ["A@Example.com"], slackUsers: ["U0123"] }',
  '  leads: { emails: ["lead@example.com"] }',
  "rules:                             # first match wins",
  '  - commands: ["config view", "deadletter ls", "deadletter show", "help", "--help"]',
  "    allow: [sre]",
  '  - commands: ["deadletter replay", "deadletter delete", "store * put", "encrypt rotate"]',
  "    allow: [sre]",
  '    channels: ["C0OPS"]            # channel ids; "dm" for direct messages',
  "    approval: { from: [leads], count: 1, expires: 30m }",
  '  - commands: ["*"]',
  '    deny: "Not allowed here"       # the reason shown to the user',
  "",
].join("\n");

/** The file's lines joined; `lines(…)` reads like the file it stands for. */
const lines = (...text: string[]) => `${text.join("\n")}\n`;

function errorOf(text: string): PolicyError {
  try {
    parsePolicy(text, "policy.yaml");
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error("expected a PolicyError");
}

const MINIMAL_SUBJECTS = [
  "subjects:",
  "  sre: { emails: [a@example.com] }",
  "  leads: { slackUsers: [U0LEAD] }",
];

describe("parsePolicy, a valid file", () => {
  it("reads the example of the issue: subjects, rules in order, approval, channels, lines", () => {
    const policy = parsePolicy(EXAMPLE, "policy.yaml");
    expect(policy.source).toBe("policy.yaml");
    expect([...policy.subjects.keys()]).toEqual(["sre", "leads"]);
    expect(policy.subjects.get("sre")).toEqual({
      name: "sre",
      entraGroups: ["a0000000-0000-0000-0000-00000000sre0"],
      emails: ["a@example.com"],
      slackUsers: ["U0123"],
    });
    expect(policy.subjects.get("leads")).toEqual({
      name: "leads",
      entraGroups: [],
      emails: ["lead@example.com"],
      slackUsers: [],
    });

    const [read, write, rest] = policy.rules;
    expect(policy.rules).toHaveLength(3);
    expect(read).toMatchObject({
      index: 0,
      line: 5,
      kind: "allow",
      allow: ["sre"],
      channels: null,
      approval: null,
    });
    expect(read?.commands.map((c) => c.words)).toEqual([
      ["config", "view"],
      ["deadletter", "ls"],
      ["deadletter", "show"],
      ["help"],
      ["--help"],
    ]);
    expect(write).toMatchObject({
      index: 1,
      line: 7,
      kind: "allow",
      channels: ["C0OPS"],
      approval: { from: ["leads"], count: 1, expiresMs: 30 * 60_000 },
    });
    expect(write?.commands[2]).toEqual({ text: "store * put", words: ["store", "*", "put"] });
    expect(rest).toMatchObject({ index: 2, line: 11, kind: "deny", reason: "Not allowed here" });
    expect(rest?.commands).toEqual([{ text: "*", words: [] }]);
  });

  it("fills approval's defaults (count 1, 30 minutes) and reads combined durations", () => {
    const policy = parsePolicy(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: [encrypt rotate]",
        "    allow: [sre]",
        "    approval: { from: [leads] }",
        "  - commands: [store * put]",
        "    allow: [sre]",
        "    approval: { from: [leads, sre], count: 2, expires: 1h30m }",
      ),
      "p",
    );
    expect(policy.rules[0]).toMatchObject({ approval: { from: ["leads"], count: 1, expiresMs: 1_800_000 } });
    expect(policy.rules[1]).toMatchObject({
      approval: { from: ["leads", "sre"], count: 2, expiresMs: 5_400_000 },
    });
  });

  it("lower-cases and de-duplicates emails, normalises command spacing, keeps dm and *", () => {
    const policy = parsePolicy(
      lines(
        "subjects:",
        "  ops: { emails: [' Bob@Example.COM ', bob@example.com], entraGroups: [], slackUsers: [W0ENT] }",
        "rules:",
        "  - commands: ['  deadletter    ls ']",
        "    allow: [ops]",
        "    channels: [dm, '*', C0OPS]",
      ),
      "p",
    );
    expect(policy.subjects.get("ops")?.emails).toEqual(["bob@example.com"]);
    expect(policy.rules[0]?.commands[0]).toEqual({ text: "deadletter ls", words: ["deadletter", "ls"] });
    expect(policy.rules[0]?.channels).toEqual(["dm", "*", "C0OPS"]);
  });
});

describe("parsePolicy, errors name the file, line, column and field", () => {
  it("the issue's example of a bad count", () => {
    const error = errorOf(EXAMPLE.replace("count: 1", "count: 0"));
    expect(error).toBeInstanceOf(PolicyError);
    expect(error.message).toBe(
      "policy.yaml line 10, column 32, rules[1].approval.count: expected a whole number ≥ 1",
    );
    expect(error.issues).toEqual([
      { line: 10, column: 32, path: "rules[1].approval.count", message: "expected a whole number ≥ 1" },
    ]);
    expect(error.source).toBe("policy.yaml");
  });

  it.each([
    ["1.5", "expected a whole number ≥ 1"],
    ['"2"', "expected a whole number ≥ 1"],
    ["", "empty (expected a whole number ≥ 1)"],
  ])("count: %s", (value, message) => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: [x]",
        "    allow: [sre]",
        "    approval:",
        "      from: [leads]",
        `      count: ${value}`,
      ),
    );
    expect(error.message).toBe(`policy.yaml line 9, column 7, rules[0].approval.count: ${message}`);
  });

  it("invalid YAML: the parser's line and column", () => {
    expect(errorOf(lines("subjects:", "  sre: { emails: [a@example.com]", "rules: []")).message).toMatch(
      /^policy\.yaml line 3, column 1: invalid YAML: /,
    );
    expect(errorOf(lines("rules: 1", "rules: 2")).message).toBe(
      "policy.yaml line 2, column 1: invalid YAML: Map keys must be unique",
    );
  });

  it("aliases that would expand without bound are refused", () => {
    const bomb = lines(
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    );
    expect(errorOf(bomb).message).toMatch(
      /^policy\.yaml line 1, column 1: invalid YAML: Excessive alias count/,
    );
  });

  it("an empty file, or not a mapping", () => {
    expect(errorOf("").message).toBe(
      "policy.yaml line 1, column 1: empty (expected a mapping with subjects and rules)",
    );
    expect(errorOf("# nothing yet\n").message).toContain(
      "empty (expected a mapping with subjects and rules)",
    );
    expect(errorOf("- a\n").message).toBe(
      "policy.yaml line 1, column 1: expected a mapping with subjects and rules",
    );
  });

  it("missing sections point at the nearest part that exists", () => {
    expect(errorOf(lines(...MINIMAL_SUBJECTS)).message).toBe(
      "policy.yaml line 1, column 1, rules: missing (expected a list of rules)",
    );
    const error = errorOf(lines(...MINIMAL_SUBJECTS, "rules:", "  - allow: [sre]", "    channels: [C0OPS]"));
    expect(error.message).toBe(
      "policy.yaml line 5, column 5, rules[0].commands: missing (expected a list of commands)",
    );
  });

  it("unknown keys are refused where they are written, with a suggestion", () => {
    const error = errorOf(
      lines(
        "subjects:",
        "  sre: { emails: [a@example.com], slackUser: [U1] }",
        "rules:",
        "  - commands: [x]",
        "    allow: [sre]",
        "    chanels: [C0OPS]",
        "    approval: { from: [sre], expire: 1h }",
        "rule: []",
      ),
    );
    expect(error.issues.map(({ line, column, path }) => ({ line, column, path }))).toEqual([
      { line: 2, column: 35, path: "subjects.sre.slackUser" },
      { line: 6, column: 5, path: "rules[0].chanels" },
      { line: 7, column: 30, path: "rules[0].approval.expire" },
      { line: 8, column: 1, path: "rule" },
    ]);
    expect(error.issues[1]?.message).toBe(
      "unknown key (expected commands, allow, deny, channels or approval). Did you mean 'channels'?",
    );
    expect(error.issues[2]?.message).toContain("Did you mean 'expires'?");
    expect(error.message).toContain(
      "line 8, column 1, rule: unknown key (expected subjects or rules). Did you mean 'rules'?",
    );
  });

  it("a rule has allow or deny: both, neither, and approval with deny", () => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: [a]",
        "    allow: [sre]",
        "    deny: no",
        "  - commands: [b]",
        "    channels: [dm]",
        "  - commands: [c]",
        "    deny: Frozen",
        "    approval: { from: [leads] }",
      ),
    );
    expect(error.issues).toEqual([
      { line: 7, column: 5, path: "rules[0].deny", message: "a rule has either allow or deny, not both" },
      {
        line: 8,
        column: 5,
        path: "rules[1]",
        message: "expected allow (who may run these commands) or deny (the reason refused)",
      },
      { line: 12, column: 5, path: "rules[2].approval", message: "approval goes with allow, not deny" },
    ]);
  });

  it("names in allow and approval.from must be subjects, with a suggestion", () => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: [a]",
        "    allow: [sre, sro]",
        "    approval: { from: [lead] }",
      ),
    );
    expect(error.message).toBe(
      "policy.yaml line 6, column 18, rules[0].allow[1]: no subject named 'sro' (subjects: sre, leads). Did you mean 'sre'?; " +
        "line 7, column 24, rules[0].approval.from[0]: no subject named 'lead' (subjects: sre, leads). Did you mean 'leads'?",
    );
  });

  it("a subject must name someone, by a valid name, with ids that look like ids", () => {
    const error = errorOf(
      lines(
        "subjects:",
        "  nobody: { emails: [] }",
        "  'bad name': { emails: [a@example.com] }",
        "  odd:",
        "    entraGroups: [SRE Team]",
        "    emails: [not-an-email]",
        "    slackUsers: ['@alice']",
        "rules:",
        "  - commands: ['*']",
        "    deny: no",
      ),
    );
    expect(error.issues.map(({ line, path, message }) => `${line} ${path}: ${message}`)).toEqual([
      `3 subjects["bad name"]: a subject name is letters, digits, '.', '_' or '-'`,
      "5 subjects.odd.entraGroups[0]: expected a group's object id (Entra ID → Groups → Object ID), not its name",
      "6 subjects.odd.emails[0]: expected an email address, e.g. a@example.com",
      "7 subjects.odd.slackUsers[0]: expected a Slack member id such as U0123ABCD (profile → ⋮ → Copy member ID), not a name",
    ]);
    // Once the shapes are right, what they mean is checked.
    expect(
      errorOf(lines("subjects:", "  nobody: { emails: [] }", "rules:", "  - commands: ['*']", "    deny: no"))
        .message,
    ).toBe(
      "policy.yaml line 2, column 3, subjects.nobody: names no one (expected at least one of entraGroups, emails or slackUsers)",
    );
  });

  it("commands, channels and durations are checked one by one", () => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: ['store*put', '', deadletter ls]",
        "    allow: [sre]",
        "    channels: ['#ops', C0OPS, ops]",
        "    approval: { from: [leads], expires: 30 }",
      ),
    );
    expect(
      error.issues.map(({ line, column, path, message }) => `${line}:${column} ${path}: ${message}`),
    ).toEqual([
      '5:16 rules[0].commands[0]: "store*put": * stands for one whole word, e.g. "store * put"',
      '5:29 rules[0].commands[1]: expected the leading words of a command, e.g. "deadletter ls"',
      '7:16 rules[0].channels[0]: expected a channel id such as C0123ABCD, "dm" or "*" (a name like #ops is not an id)',
      '7:31 rules[0].channels[2]: expected a channel id such as C0123ABCD, "dm" or "*" (a name like #ops is not an id)',
      "8:32 rules[0].approval.expires: expected a duration such as 30m, 2h or 1d",
    ]);
  });

  it("empty lists and empty values are refused, not read as 'any' or 'none'", () => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: []",
        "    allow:",
        "    channels: []",
        "  - commands: [x]",
        "    deny: '  '",
      ),
    );
    expect(error.issues.map(({ line, path, message }) => `${line} ${path}: ${message}`)).toEqual([
      "5 rules[0].commands: expected at least one command",
      "6 rules[0].allow: empty (expected a list of subject names)",
      "7 rules[0].channels: expected at least one channel (leave channels out for any)",
      "9 rules[1].deny: expected the reason shown to the user",
    ]);
    expect(errorOf(lines(...MINIMAL_SUBJECTS, "rules: []")).message).toBe(
      "policy.yaml line 4, column 1, rules: expected at least one rule",
    );
  });

  it("approvals longer than a week are refused as a likely typo", () => {
    const error = errorOf(
      lines(
        ...MINIMAL_SUBJECTS,
        "rules:",
        "  - commands: [x]",
        "    allow: [sre]",
        "    approval: { from: [leads], expires: 30d }",
      ),
    );
    expect(error.message).toBe(
      "policy.yaml line 7, column 32, rules[0].approval.expires: expected a duration from 1s to 7d",
    );
  });

  it("shows the first five problems in line order and counts the rest", () => {
    const bad = Array.from({ length: 7 }, (_, i) => `  - { commands: [x${i}], allow: [nobody${i}] }`);
    const error = errorOf(lines(...MINIMAL_SUBJECTS, "rules:", ...bad));
    expect(error.issues).toHaveLength(7);
    expect(error.issues.map((issue) => issue.line)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(error.message).toMatch(
      /^policy\.yaml line 5, column 31, rules\[0\]\.allow\[0\]: no subject named 'nobody0'/,
    );
    expect(error.message).toMatch(/; line 9, column 31, rules\[4\]\.allow\[0\]: [^;]*\(and 2 more\)$/);
    expect(error.message).not.toContain("\n");
  });
});
