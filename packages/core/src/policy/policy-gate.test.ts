import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SlackStandIn, startSlackStandIn } from "@victoria/emulators/slack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebApiChat } from "../adapters/slack/web-api-chat";
import { createStaticDirectory } from "../security/static-directory";
import { PolicyError, parsePolicy } from "./policy-file";
import { createPolicyGate, type GateOutcome } from "./policy-gate";
import { policyLoader } from "./policy-source";
import { createStaticSubjectDirectory } from "./subject-directory";

const GROUP = "a0000000-0000-0000-0000-0000000000g1";
const POLICY_TEXT = [
  "subjects:",
  `  sre: { emails: [sre@example.com], entraGroups: ["${GROUP}"] }`,
  "  leads: { slackUsers: [U0LEAD] }",
  "rules:",
  "  - commands: [config view]",
  "    allow: [sre, leads]",
  "  - commands: [deadletter delete]",
  "    allow: [sre]",
  "    channels: [C0OPS]",
  "    approval: { from: [leads], count: 1, expires: 30m }",
  "  - commands: ['*']",
  "    deny: Ask in <!channel>",
  "",
].join("\n");

const OPS = { id: "C0OPS", isDm: false };
const text = (outcome: GateOutcome) =>
  outcome.kind === "refuse"
    ? typeof outcome.message === "string"
      ? outcome.message
      : outcome.message.text
    : "";

describe("policy gate over the Slack Web API", () => {
  let slack: SlackStandIn;
  let chat: ReturnType<typeof createWebApiChat>;

  beforeAll(async () => {
    slack = await startSlackStandIn({
      botToken: "xoxb-gate",
      users: [
        { id: "U0SRE", email: "sre@example.com" },
        { id: "U0NESTED", email: "nested@example.com" },
        { id: "U0LEAD", email: "lead@example.com" },
        { id: "U0GUEST", email: "guest@example.com" },
        { id: "U0BOT", email: "bot@example.com", isBot: true },
        { id: "U0GONE", email: "gone@example.com", deleted: true },
      ],
    });
    chat = createWebApiChat({ token: "xoxb-gate", slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  });
  afterAll(() => slack.close());

  const gate = (policy = parsePolicy(POLICY_TEXT, "policy.yaml")) =>
    createPolicyGate({
      chat,
      directory: createStaticDirectory(["sre@example.com"]),
      policy: async () => policy,
      groups: createStaticSubjectDirectory({ [GROUP]: ["nested@example.com"] }),
    });

  it("without a policy, today's gate: the SRE group may run anything anywhere", async () => {
    const sreOnly = createPolicyGate({ chat, directory: createStaticDirectory(["sre@example.com"]) });
    expect(await sreOnly.check("U0SRE", OPS, ["deadletter", "delete", "x"])).toEqual({
      kind: "allow",
      email: "sre@example.com",
    });
    const guest = await sreOnly.check("U0GUEST", OPS, ["config", "view"]);
    expect(guest.kind).toBe("refuse");
    expect(text(guest)).toContain("not a member of the SRE group");
    expect(await sreOnly.isInSubjects("U0SRE", ["sre"])).toEqual({ ok: false });
  });

  it("with a policy, the policy alone decides: by email, Slack id and Entra group", async () => {
    const g = gate();
    for (const user of ["U0SRE", "U0NESTED", "U0LEAD"]) {
      expect((await g.check(user, OPS, ["config", "view"])).kind).toBe("allow");
    }
    const guest = await g.check("U0GUEST", OPS, ["config", "view"]);
    expect(text(guest)).toBe("Only sre or leads may run `config view`.");
  });

  it("an approval rule answers approval with the rule; elsewhere, where it is allowed", async () => {
    const outcome = await g().check("U0SRE", OPS, ["deadletter", "delete", "abc"]);
    expect(outcome).toMatchObject({
      kind: "approval",
      email: "sre@example.com",
      decision: { from: ["leads"], count: 1, rule: "rules[1] (line 7)" },
    });
    const general = await g().check("U0SRE", { id: "C0GENERAL", isDm: false }, [
      "deadletter",
      "delete",
      "abc",
    ]);
    expect(text(general)).toBe("`deadletter delete` is allowed in <#C0OPS> only.");
  });

  it("a deny reason is the operator's text, escaped: it cannot ping the channel", async () => {
    const outcome = await g().check("U0SRE", OPS, ["store", "s3", "put"]);
    expect(text(outcome)).toBe("Ask in &lt;!channel&gt;");
  });

  it("bots and deactivated users are refused before the policy", async () => {
    for (const user of ["U0BOT", "U0GONE"]) {
      expect(text(await g().check(user, OPS, ["config", "view"]))).toBe(
        "Sorry, only people can run Victoria.",
      );
    }
    expect(text(await g().check("U0NOBODY", OPS, ["config", "view"]))).toContain("could not look you up");
  });

  it("approvers: membership of the named subjects, with the email Slack shows", async () => {
    expect(await g().isInSubjects("U0LEAD", ["leads"])).toEqual({ ok: true, email: "lead@example.com" });
    expect(await g().isInSubjects("U0SRE", ["leads"])).toEqual({ ok: false, email: "sre@example.com" });
  });

  it("a policy that cannot be read refuses (fail closed) and says so", async () => {
    const broken = createPolicyGate({
      chat,
      directory: createStaticDirectory([]),
      policy: () => Promise.reject(new Error("bucket unreachable")),
    });
    const outcome = await broken.check("U0SRE", OPS, ["config", "view"]);
    expect(outcome).toMatchObject({ kind: "refuse", reason: "policy unavailable: bucket unreachable" });
    expect(text(outcome)).toContain("could not read the command policy");
  });

  const g = () => gate();
});

describe("policyLoader: where the policy comes from", () => {
  it("none configured: undefined (today's behaviour)", () => {
    expect(policyLoader({})).toBeUndefined();
    expect(policyLoader({ VICTORIA_POLICY: "  " })).toBeUndefined();
  });

  it("VICTORIA_POLICY_YAML wins and is parsed once; errors name the source, line and field", async () => {
    const load = policyLoader({ VICTORIA_POLICY_YAML: POLICY_TEXT, VICTORIA_POLICY: "/nope.yaml" });
    expect((await load?.())?.rules).toHaveLength(3);
    const bad = policyLoader({
      VICTORIA_POLICY_YAML: POLICY_TEXT.replace("allow: [sre, leads]", "alow: [sre]"),
    });
    const error = await bad?.().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect(String((error as Error).message)).toMatch(/VICTORIA_POLICY_YAML.*line 6.*alow.*allow/s);
  });

  it("a file path: read once; a missing file is named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    const file = join(dir, "policy.yaml");
    await writeFile(file, POLICY_TEXT);
    expect((await policyLoader({ VICTORIA_POLICY: file })?.())?.source).toBe(file);
    const missing = await policyLoader({ VICTORIA_POLICY: join(dir, "none.yaml") })?.().catch(
      (e: Error) => e,
    );
    expect(String(missing)).toContain("Could not read the policy file");
  });

  it("s3://bucket/key: through the injected reader, re-read after a failure", async () => {
    let reads = 0;
    const load = policyLoader({ VICTORIA_POLICY: "s3://vault/policy.yaml" }, async (bucket, key) => {
      reads += 1;
      if (reads === 1) throw new Error("AccessDenied");
      expect([bucket, key]).toEqual(["vault", "policy.yaml"]);
      return new TextEncoder().encode(POLICY_TEXT);
    });
    expect(String(await load?.().catch((e: Error) => e))).toContain("s3://vault/policy.yaml");
    expect((await load?.())?.rules).toHaveLength(3);
    await load?.();
    expect(reads).toBe(2);
    const noReader = await policyLoader({ VICTORIA_POLICY: "s3://vault/p.yaml" })?.().catch((e: Error) => e);
    expect(String(noReader)).toContain("cannot read buckets");
  });
});
