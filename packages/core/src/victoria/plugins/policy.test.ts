import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfiguredPolicy } from "../../policy/configured-policy";
import { parsePolicy } from "../../policy/policy-file";
import { createStaticSubjectDirectory } from "../../policy/subject-directory";
import { createVictoria } from "../engine";
import { BufferedOutput } from "../output";
import type { ProviderFactories } from "../providers";
import { corePlugins } from "./core-plugins";
import { NO_POLICY, policyPlugin, policyWarnings } from "./policy";

const providers: ProviderFactories = { encryption: {}, storage: {} };

/** Group ids as a policy file writes them: letters, digits and dashes. */
const SRE_GROUP = "0000-sre";

const POLICY_TEXT = `subjects:
  sre: { entraGroups: ["${SRE_GROUP}"] }
  leads: { emails: ["lead@example.com", "boss@example.com"] }
  oncall: { slackUsers: ["U0ONCALL"] }
rules:
  - commands: ["config view", "deadletter ls", "deadletter show"]
    allow: [sre, leads, oncall]
  - commands: ["encrypt decrypt"]
    allow: [sre]
    channels: [dm]
  - commands: ["deadletter delete", "deadletter replay"]
    allow: [sre]
    channels: [C0OPS]
    approval: { from: [leads], count: 2, expires: 1h }
  - commands: ["encrypt data"]
    allow: [leads]
  - commands: ["*"]
    deny: "Not in this policy: ask #sre-leads"
`;

const groups = createStaticSubjectDirectory({ [SRE_GROUP]: ["alice@example.com"] });

function setup(configured?: Partial<ConfiguredPolicy>, env: NodeJS.ProcessEnv = {}, mode?: "server") {
  const policy = async (): Promise<ConfiguredPolicy> => ({
    policy: parsePolicy(POLICY_TEXT, "policy.yaml"),
    source: "VICTORIA_POLICY (policy.yaml)",
    groups,
    ...configured,
  });
  const victoria = createVictoria({
    plugins: corePlugins,
    providers,
    env,
    ...(configured === undefined ? {} : { policy }),
    ...(mode ? { mode } : {}),
  });
  return async (...argv: string[]) => {
    const out = new BufferedOutput();
    const outcome = await victoria.execute(["policy", ...argv], { out });
    return { ...outcome, output: out.text() };
  };
}

/** `Label:    value` lines of `check` as a map, and its notes. */
function fields(output: string): Record<string, string> {
  const entries = output
    .trimEnd()
    .split("\n")
    .map((line) => /^([A-Z][A-Za-z ]+):\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => [match[1] as string, match[2] as string]);
  return Object.fromEntries(entries);
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "policy-plugin-"));
  await writeFile(file("policy.yaml"), POLICY_TEXT);
  await writeFile(
    file("bad.yaml"),
    [
      "subjects:",
      '  leads: { emails: ["lead@example.com"] }',
      "rules:",
      '  - commands: ["deadletter delete"]',
      "    allow: [leads]",
      "    approval:",
      "      from: [leads]",
      "      count: 0",
      "",
    ].join("\n"),
  );
  await writeFile(
    file("shadowed.yaml"),
    [
      "subjects:",
      '  sre: { emails: ["alice@example.com"] }',
      '  leads: { emails: ["lead@example.com"] }',
      "rules:",
      '  - commands: ["*"]',
      "    allow: [sre]",
      '  - commands: ["deadletter delete"]',
      "    allow: [leads]",
      "    approval: { from: [sre] }",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("policy plugin", () => {
  it("is a core plugin after deadletter, with check and validate, neither sensitive", async () => {
    const names = corePlugins.map((plugin) => plugin.name);
    expect(names.indexOf("policy")).toBe(names.indexOf("deadletter") + 1);
    expect(policyPlugin.commands.map((c) => [c.name, c.sensitive])).toEqual([
      ["check", false],
      ["validate", false],
    ]);
    const run = setup({});
    expect((await run("check", "--help")).output).toContain(
      "Usage: victoria policy check [OPTIONS] WHO WHERE COMMAND...",
    );
    expect((await run("validate", "--help")).output).toContain(
      "Usage: victoria policy validate [OPTIONS] [FILE]",
    );
  });
});

describe("policy check", () => {
  it("allowed: names the subject, the rule (1-based) and why", async () => {
    const result = await setup({})("check", "alice@example.com", "C0ANY", "deadletter", "show", "abc");
    expect(result).toMatchObject({ exitCode: 0 });
    expect(fields(result.output)).toEqual({
      Policy: "VICTORIA_POLICY (policy.yaml)",
      Who: "alice@example.com",
      Where: "C0ANY",
      Command: "deadletter show",
      Decision: "allowed (as sre)",
      Rule: "1 of 5: rules[0] (line 6)",
      Why: "allowed by rules[0] (line 6): sre may run `deadletter show` anywhere",
      Note: expect.stringContaining("Only an email was given, so subjects' slackUsers cannot be confirmed"),
    });
  });

  it("needs approval: from whom, how many, for how long, by which rule", async () => {
    const result = await setup({})("check", "alice@example.com", "C0OPS", "deadletter", "delete", "x1");
    expect(result.exitCode).toBe(0);
    const out = fields(result.output);
    expect(out.Decision).toBe("needs approval from leads (2 approvals, expires after 1h)");
    expect(out.Rule).toBe("3 of 5: rules[2] (line 11)");
    expect(out.Why).toContain("needs approval by rules[2] (line 11)");
    expect(out["They see"]).toBeUndefined();
  });

  it("refused by channel: says where it is allowed, as the user would read it in Slack", async () => {
    const result = await setup({})("check", "alice@example.com", "C0DEV", "deadletter", "delete", "x1");
    expect(result.exitCode).toBe(0);
    const out = fields(result.output);
    expect(out.Decision).toBe("refused (allowed elsewhere only)");
    // The `*` deny rule is what refuses here; rules[2] would allow it in C0OPS.
    expect(out.Rule).toBe("5 of 5: rules[4] (line 17)");
    expect(out.Why).toContain("rules[2] (line 11) allows `deadletter delete` for this user in C0OPS only");
    expect(out["They see"]).toBe("`deadletter delete` is allowed in #C0OPS only.");
  });

  it("a direct message is `dm`: allowed there, refused in a channel", async () => {
    const run = setup({});
    const dm = fields((await run("check", "alice@example.com", "dm", "encrypt", "decrypt", "f")).output);
    expect(dm).toMatchObject({
      Where: "a direct message",
      Decision: "allowed (as sre)",
      Rule: "2 of 5: rules[1] (line 8)",
    });
    const channel = fields((await run("check", "alice@example.com", "C0OPS", "encrypt", "decrypt")).output);
    expect(channel.Decision).toBe("refused (allowed elsewhere only)");
    expect(channel["They see"]).toBe("`encrypt decrypt` is allowed in direct messages only.");
  });

  it("denied: the deny rule's reason is what the user sees", async () => {
    const out = fields((await setup({})("check", "alice@example.com", "C0OPS", "store", "s3", "put")).output);
    expect(out.Decision).toBe("refused (a deny rule)");
    expect(out["They see"]).toBe("Not in this policy: ask #sre-leads");
  });

  it("a Slack id confirms slackUsers, but not emails or groups, and says so; --email adds them", async () => {
    const run = setup({});
    const oncall = await run("check", "U0ONCALL", "C0ANY", "config", "view");
    expect(fields(oncall.output)).toMatchObject({ Who: "U0ONCALL", Decision: "allowed (as oncall)" });
    expect(oncall.output).toContain(
      "Note: Only a Slack id was given, so subjects' emails and Entra groups cannot be confirmed",
    );

    const idOnly = fields((await run("check", "U0ALICE", "C0ANY", "config", "view")).output);
    expect(idOnly.Decision).toBe("refused (not in the rule's subjects)");
    expect(idOnly["They see"]).toContain("Only sre, leads or oncall may run `config view`.");
    expect(idOnly["They see"]).toContain("no email address");

    const both = await run("check", "--email", "alice@example.com", "U0ALICE", "C0ANY", "config", "view");
    expect(fields(both.output)).toMatchObject({
      Who: "U0ALICE (alice@example.com)",
      Decision: "allowed (as sre)",
    });
    expect(both.output).not.toContain("Note:");

    // An email alone cannot be in a slackUsers-only subject.
    const email = fields((await run("check", "oncall@example.com", "C0ANY", "config", "view")).output);
    expect(email.Decision).toBe("refused (not in the rule's subjects)");
  });

  it("Slack's mention and channel link forms are taken as the ids they name", async () => {
    const out = fields(
      (await setup({})("check", "<@U0ONCALL|bob>", "<#C0OPS|ops>", "config", "view")).output,
    );
    expect(out).toMatchObject({ Who: "U0ONCALL", Where: "C0OPS", Decision: "allowed (as oncall)" });
  });

  it("the command keeps its own options, and `--` lets it start with one", async () => {
    const run = setup({});
    const options = await run("check", "lead@example.com", "C0ANY", "deadletter", "ls", "--state", "parked");
    expect(options.exitCode).toBe(0);
    expect(fields(options.output)).toMatchObject({
      Command: "deadletter ls",
      Decision: "allowed (as leads)",
    });
    // `-- deadletter delete` must not slip past the rule: it is still `deadletter delete`.
    const dashed = fields(
      (await run("check", "lead@example.com", "C0OPS", "--", "--", "deadletter", "delete", "x")).output,
    );
    expect(dashed).toMatchObject({
      Command: "deadletter delete",
      Decision: "refused (not in the rule's subjects)",
    });
    expect((await run("check", "lead@example.com", "C0OPS")).output).toContain(
      "Missing argument 'COMMAND...'.",
    );
  });

  it("outside text is printed on one line without terminal escapes or control characters", async () => {
    const result = await setup({})("check", "alice@example.com", "C0ANY", "\u001b[31mconfig\u202e", "x\ny");
    const output = result.output;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    expect(fields(output).Command).toBe("config x y");
  });

  it("without a policy: says so, and answers with the default policy (the SRE group runs everything)", async () => {
    const run = setup(undefined, { SRE_MEMBERS: "alice@example.com" });
    const sre = await run("check", "alice@example.com", "C0ANY", "deadletter", "delete", "x");
    expect(sre.exitCode).toBe(0);
    expect(sre.output.split("\n")[0]).toBe(NO_POLICY);
    // The default policy's one subject is a group: no Slack-id subjects an email leaves unconfirmed.
    expect(sre.output).not.toContain("slackUsers");
    expect(sre.output).toContain("Note: SLACK_ALLOWED_MEMBERS, when set, narrows the SRE group further");
    expect(fields(sre.output)).toMatchObject({
      Policy: expect.stringContaining("the default policy"),
      Decision: "allowed (as the SRE group)",
      Rule: "1 of 1: rules[0]",
    });
    const other = fields((await run("check", "eve@example.com", "C0ANY", "config", "view")).output);
    expect(other.Decision).toBe("refused (not in the rule's subjects)");
    expect(other["They see"]).toBe("Only the SRE group may run `config view`.");
  });

  it("without a policy or an SRE group, refuses (fail closed) and says what is missing", async () => {
    const result = await setup(undefined, {})("check", "alice@example.com", "dm", "config", "view");
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(NO_POLICY);
    const out = fields(result.output);
    expect(out.Decision).toBe("refused (membership could not be checked, so it fails closed)");
    expect(out.Why).toContain("The SRE directory is not configured");
  });

  it("reads the policy from VICTORIA_POLICY_YAML when the host gives none", async () => {
    const run = setup(undefined, { VICTORIA_POLICY_YAML: POLICY_TEXT });
    const out = fields((await run("check", "lead@example.com", "C0ANY", "encrypt", "data", "s3cret")).output);
    expect(out).toMatchObject({
      Policy: "VICTORIA_POLICY_YAML",
      Command: "encrypt data",
      Decision: "allowed (as leads)",
      Rule: "4 of 5: rules[3] (line 15)",
    });
    // The rest of the line may be data: it is not echoed.
    expect(JSON.stringify(out)).not.toContain("s3cret");
  });

  it("an Entra group without Graph refuses (fail closed), naming what is not configured", async () => {
    const result = await setup({ groups: undefined })(
      "check",
      "alice@example.com",
      "C0ANY",
      "config",
      "view",
    );
    expect(fields(result.output).Why).toContain("Microsoft Graph is not configured here");
  });

  it.each([
    [
      ["nobody", "C0OPS", "config", "view"],
      "WHO must be an email address (alice@example.com) or a Slack member id (U0123ABCD), not 'nobody'.",
    ],
    [
      ["alice@example.com", "#ops", "config", "view"],
      "WHERE must be a channel id (C0123ABCD or G0123ABCD; a name like #ops is not an id) or dm for a direct message, not '#ops'.",
    ],
    [["alice@example.com", "D0123", "config", "view"], "WHERE must be a channel id"],
    [["--email", "x", "U0ALICE", "C0OPS", "config"], "--email must be an email address"],
    [
      ["--email", "a@example.com", "b@example.com", "C0OPS", "config"],
      "--email goes with a Slack member id as WHO.",
    ],
  ])("%j is a usage error (exit 2)", async (argv, message) => {
    const result = await setup({})("check", ...argv);
    expect(result).toMatchObject({ exitCode: 2, failureClass: "usage" });
    expect(result.output).toContain(`Error: ${message}`);
  });

  it("a configured policy that cannot be used fails (exit 1) with its error", async () => {
    const run = setup(undefined, { VICTORIA_POLICY_YAML: "subjects: {}\nrules: []\n" });
    const result = await run("check", "alice@example.com", "C0OPS", "config", "view");
    expect(result).toMatchObject({ exitCode: 1, failureClass: "configuration" });
    expect(result.output).toContain("Error: The configured policy cannot be used: VICTORIA_POLICY_YAML line");
  });
});

describe("policy validate", () => {
  it("a valid file: subjects, rules one per line (number, label, kind), no warnings", async () => {
    const result = await setup({})("validate", file("policy.yaml"));
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.output).toBe(
      [
        `${file("policy.yaml")}: valid`,
        "3 subjects (sre, leads, oncall), 5 rules:",
        "  1. rules[0] (line 6): allow sre, leads, oncall: config view, deadletter ls, deadletter show anywhere",
        "  2. rules[1] (line 8): allow sre: encrypt decrypt in direct messages",
        "  3. rules[2] (line 11): approval (2 approvals from leads, expires after 1h) for sre: deadletter delete, deadletter replay in C0OPS",
        "  4. rules[3] (line 15): allow leads: encrypt data anywhere",
        '  5. rules[4] (line 17): deny * anywhere: "Not in this policy: ask #sre-leads"',
        "No warnings.",
        "",
      ].join("\n"),
    );
  });

  it("an invalid file: exit 1, the error names the file, line, column and field", async () => {
    const result = await setup({})("validate", file("bad.yaml"));
    expect(result).toMatchObject({ exitCode: 1, failureClass: "invalid" });
    expect(result.output).toBe(
      `Error: ${file("bad.yaml")} line 8, column 7, rules[0].approval.count: expected a whole number ≥ 1\n`,
    );
  });

  it("a file that is not there: exit 1, naming it", async () => {
    const result = await setup({})("validate", file("none.yaml"));
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain(`Could not open file '${file("none.yaml")}'`);
  });

  it("in server mode, FILE may not name a server file (usage error, nothing read)", async () => {
    const result = await setup({}, {}, "server")("validate", file("policy.yaml"));
    expect(result).toMatchObject({ exitCode: 2, failureClass: "usage" });
    expect(result.output).toContain("FILE would name a file on the server");
    expect(result.output).not.toContain("rules[0]");
  });

  it("without FILE: the configured policy, or that there is none", async () => {
    const configured = await setup({}, {}, "server")("validate");
    expect(configured.exitCode).toBe(0);
    expect(configured.output).toMatch(/^VICTORIA_POLICY \(policy\.yaml\): valid\n3 subjects/);
    const none = await setup(undefined, {})("validate");
    expect(none).toMatchObject({ exitCode: 0 });
    expect(none.output.split("\n")[0]).toBe(NO_POLICY);
    const invalid = await setup(undefined, {
      VICTORIA_POLICY_YAML: "subjects: {}\nrules:\n  - commands: [x]\n    alow: [a]\n",
    })("validate");
    expect(invalid).toMatchObject({ exitCode: 1 });
    expect(invalid.output).toContain("VICTORIA_POLICY_YAML line 4, column 5, rules[0].alow: unknown key");
  });

  it("warns of a rule after `*` that can never match, and of its approval never being asked for", async () => {
    const result = await setup({})("validate", file("shadowed.yaml"));
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(
      "1 warning:\n  - rule 2, rules[1] (line 7), can never match: rule 1, rules[0] (line 5) comes first and matches every command it names (deadletter delete) anywhere, so its approval is never asked for.\n",
    );
  });
});

describe("policyWarnings", () => {
  const warnings = (rules: string) =>
    policyWarnings(
      parsePolicy(
        `subjects:\n  a: { emails: ["a@example.com"] }\n  b: { emails: ["b@example.com"] }\nrules:\n${rules}`,
        "p.yaml",
      ),
    );

  it("none for a policy whose rules all apply somewhere", () => {
    expect(
      warnings(
        [
          '  - { commands: ["deadletter delete"], allow: [a], channels: [C0OPS], approval: { from: [b] } }',
          '  - { commands: ["deadletter"], allow: [a] }',
          '  - { commands: ["*"], deny: "no" }',
        ].join("\n"),
      ),
    ).toEqual([]);
  });

  it("a rule covered by earlier rules only in some of its channels still applies in the others", () => {
    const rules = (channels: string) =>
      [
        '  - { commands: ["store * put"], allow: [a], channels: [C0OPS] }',
        '  - { commands: ["store"], deny: "no", channels: [dm] }',
        `  - { commands: ["store s3 put"], allow: [b], channels: ${channels} }`,
      ].join("\n");
    expect(warnings(rules("[C0OPS, C0DEV]"))).toEqual([]);
    expect(warnings(rules("[C0OPS, dm]"))).toEqual([
      "rule 3, rules[2] (line 7), can never match: rule 1, rules[0] (line 5) and rule 2, rules[1] (line 6) come first and match every command it names (store s3 put) in C0OPS or direct messages.",
    ]);
    // A `*` inside a later pattern is not covered by a literal word earlier.
    expect(
      warnings(
        [
          '  - { commands: ["store s3 put"], allow: [a] }',
          '  - { commands: ["store * put"], allow: [b] }',
        ].join("\n"),
      ),
    ).toEqual([]);
  });

  it("an allow rule without approval before an approval rule it overlaps: the approval never applies there", () => {
    expect(
      warnings(
        [
          '  - { commands: ["deadletter"], allow: [a], channels: [C0OPS] }',
          '  - { commands: ["deadletter delete"], allow: [a], approval: { from: [b] } }',
        ].join("\n"),
      ),
    ).toEqual([
      "rule 2, rules[1] (line 6): its approval never applies to `deadletter delete` in C0OPS: rule 1, rules[0] (line 5) comes first and allows it there without approval.",
    ]);
    // `store * get` and `store s3` overlap on `store s3 get`.
    expect(
      warnings(
        [
          '  - { commands: ["store * get"], allow: [a] }',
          '  - { commands: ["store s3"], allow: [a], channels: [dm], approval: { from: [b] } }',
        ].join("\n"),
      ),
    ).toEqual([
      "rule 2, rules[1] (line 6): its approval never applies to `store s3 get` in direct messages: rule 1, rules[0] (line 5) comes first and allows it there without approval.",
    ]);
    // An earlier rule that itself needs approval, or applies elsewhere, or to other commands: no warning.
    expect(
      warnings(
        [
          '  - { commands: ["deadletter"], allow: [a], approval: { from: [b] }, channels: [C0OPS] }',
          '  - { commands: ["deadletter"], allow: [a], channels: [dm] }',
          '  - { commands: ["config"], allow: [a] }',
          '  - { commands: ["deadletter delete"], allow: [a], channels: [C0OPS, C0DEV], approval: { from: [b] } }',
        ].join("\n"),
      ),
    ).toEqual([]);
  });
});

describe("victoria policy from a shell (bin.ts)", () => {
  const require = createRequire(import.meta.url);
  const repoRoot = fileURLToPath(new URL("../../../../../", import.meta.url));

  async function victoria(env: NodeJS.ProcessEnv, ...args: string[]) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        join(repoRoot, "packages/core/src/victoria/bin.ts"),
        ...args,
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stdout, stderr };
  }

  it("checks against VICTORIA_POLICY and validates a file, with the CLI's exit codes", async () => {
    const env = { VICTORIA_POLICY: file("policy.yaml") };
    const [allowed, denied, bad, usage] = await Promise.all([
      victoria(env, "policy", "check", "lead@example.com", "C0OPS", "encrypt", "data", "x"),
      victoria(env, "policy", "check", "U0ONCALL", "dm", "store", "s3", "put", "k"),
      victoria({}, "policy", "validate", file("bad.yaml")),
      victoria(env, "policy", "check", "someone", "C0OPS", "config", "view"),
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`Policy:   VICTORIA_POLICY (${file("policy.yaml")})`);
    expect(allowed.stdout).toContain("Decision: allowed (as leads)");
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain("They see: Not in this policy: ask #sre-leads");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("line 8, column 7, rules[0].approval.count");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Error: WHO must be an email address");
  }, 30_000);
});
