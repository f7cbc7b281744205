import { describeChannels } from "../../policy/channel-scope";
import type { ConfiguredPolicy } from "../../policy/configured-policy";
import {
  type Decision,
  decide,
  type PolicyUser,
  type RefusalReason,
  type RequestChannel,
} from "../../policy/decide";
import { defaultPolicy } from "../../policy/default-policy";
import { formatDuration } from "../../policy/duration";
import { type CommandPattern, type Policy, type PolicyRule, ruleLabel } from "../../policy/policy";
import { PolicyError, parsePolicy } from "../../policy/policy-file";
import { createUnconfiguredSubjectDirectory } from "../../policy/subject-directory";
import { type Mrkdwn, stripControlCharacters } from "../../slack/slack-text";
import { CommandFailure, ConfigError } from "../errors";
import { type CommandContext, definePlugin } from "../plugin";

/** What `check` and `validate` say when the operator configured no policy. */
export const NO_POLICY = "No policy configured (VICTORIA_POLICY): the SRE group may run every command";

/**
 * Outside text (a typed email or command, a policy's words, an error) on one line: terminal escapes,
 * control and bidi characters removed, whitespace folded, cut to `max`. The result is plain text;
 * posted to Slack, it goes into a code block, which escapes it.
 */
function shown(text: string, max = 120): string {
  const flat = stripControlCharacters(text).replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A decision's message as the user reads it in Slack: links as `#C0OPS`/`@U1`, entities decoded. */
function plainOf(message: Mrkdwn): string {
  const text = message.text
    .replace(/<([#@])([A-Z0-9]+)(?:\|[^>]*)?>/g, "$1$2")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
  return shown(text, 500);
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const SLACK_USER = /^[UW][A-Z0-9]+$/;
const CHANNEL = /^[CG][A-Z0-9]+$/;

function usage(message: string): CommandFailure {
  return new CommandFailure(message, { failureClass: "usage" });
}

/** WHO as typed: an email, a member id, or the mention Slack makes of `@someone` (`<@U0123|alice>`). */
function parseWho(text: string): { kind: "email"; email: string } | { kind: "slack"; slackId: string } {
  const word = text.trim();
  if (EMAIL.test(word)) return { kind: "email", email: word };
  const id = (/^<@([A-Za-z0-9]+)(?:\|[^>]*)?>$/.exec(word)?.[1] ?? word).toUpperCase();
  if (SLACK_USER.test(id)) return { kind: "slack", slackId: id };
  throw usage(
    `WHO must be an email address (alice@example.com) or a Slack member id (U0123ABCD), not '${shown(word, 60)}'.`,
  );
}

/** WHERE as typed: `dm`, a channel id, or the link Slack makes of `#channel` (`<#C0123|ops>`). */
function parseWhere(text: string): RequestChannel {
  const word = text.trim();
  if (word.toLowerCase() === "dm") return { id: "dm", isDm: true };
  const id = (/^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$/.exec(word)?.[1] ?? word).toUpperCase();
  if (CHANNEL.test(id)) return { id, isDm: false };
  throw usage(
    `WHERE must be a channel id (C0123ABCD or G0123ABCD; a name like #ops is not an id) or dm for a direct message, not '${shown(word, 60)}'.`,
  );
}

/** The configured policy, its failures worded for the operator (exit 1, as a configuration error). */
async function configured(ctx: CommandContext): Promise<ConfiguredPolicy> {
  if (!ctx.services.policy) return { policy: undefined, source: undefined, groups: undefined };
  try {
    return await ctx.services.policy();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`The configured policy cannot be used: ${message}`);
  }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function or(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

const REFUSALS: Record<RefusalReason, string> = {
  denied: "a deny rule",
  "not-allowed": "not in the rule's subjects",
  channel: "allowed elsewhere only",
  "no-rule": "no rule allows it here",
  "lookup-failed": "membership could not be checked, so it fails closed",
};

function decisionLine(decision: Decision): string {
  switch (decision.outcome) {
    case "allow":
      return `allowed (as ${decision.subject})`;
    case "approval": {
      const approvals = count(decision.count, "approval");
      return `needs approval from ${or(decision.from)} (${approvals}, expires after ${formatDuration(decision.expiresMs)})`;
    }
    case "refuse":
      return `refused (${REFUSALS[decision.reason]})`;
  }
}

function ruleLine(policy: Policy, index: number | null): string {
  const rule = index === null ? undefined : policy.rules[index];
  if (rule === undefined) return "none matches here";
  return `${rule.index + 1} of ${policy.rules.length}: ${ruleLabel(rule)}`;
}

/** `victoria policy check`: what the policy answers one person for one command in one place. */
async function check(ctx: CommandContext): Promise<void> {
  const who = parseWho(ctx.args.who ?? "");
  const where = parseWhere(ctx.args.where ?? "");
  const emailOption = ctx.options?.email;
  const words = ctx.lists?.command ?? [];
  let user: PolicyUser;
  if (who.kind === "email") {
    if (typeof emailOption === "string") throw usage("--email goes with a Slack member id as WHO.");
    user = { slackId: "", email: who.email };
  } else if (typeof emailOption === "string") {
    if (!EMAIL.test(emailOption.trim())) {
      throw usage(`--email must be an email address (alice@example.com), not '${shown(emailOption, 60)}'.`);
    }
    user = { slackId: who.slackId, email: emailOption.trim() };
  } else {
    user = { slackId: who.slackId };
  }

  const setup = await configured(ctx);
  const policy = setup.policy ?? defaultPolicy();
  // Only what could change the answer: subjects of a kind the person was not given as.
  const subjects = [...policy.subjects.values()];
  const notes: string[] = [];
  if (user.email === undefined && subjects.some((s) => s.emails.length + s.entraGroups.length > 0)) {
    notes.push(
      "Only a Slack id was given, so subjects' emails and Entra groups cannot be confirmed (in Slack, the profile's email is used): add --email to check those too.",
    );
  }
  if (user.slackId === "" && subjects.some((s) => s.slackUsers.length > 0)) {
    notes.push(
      "Only an email was given, so subjects' slackUsers cannot be confirmed: give the Slack member id as WHO (and the email with --email) to check those too.",
    );
  }
  if (setup.policy === undefined) {
    ctx.out.out(NO_POLICY);
    notes.push("SLACK_ALLOWED_MEMBERS, when set, narrows the SRE group further; it is not checked here.");
  }
  const hint = setup.policy
    ? "Microsoft Graph is not configured here (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"
    : "the SRE group is not configured here";
  const groups = setup.groups ?? createUnconfiguredSubjectDirectory(hint);
  const decision = await decide(policy, { user, channel: where, command: words }, groups);

  const person = who.kind === "email" ? who.email : who.slackId;
  const email = user.email !== undefined && who.kind === "slack" ? ` (${user.email})` : "";
  const lines: [string, string][] = [
    ["Policy", shown(setup.source ?? policy.source, 200)],
    ["Who", shown(`${person}${email}`)],
    ["Where", where.isDm ? "a direct message" : where.id],
    ["Command", shown(decision.command) || "(none: victoria alone)"],
    ["Decision", shown(decisionLine(decision), 300)],
    ["Rule", ruleLine(policy, decision.ruleIndex)],
    ["Why", shown(decision.explanation, 600)],
  ];
  if (decision.outcome === "refuse") lines.push(["They see", plainOf(decision.message)]);
  for (const [label, value] of lines) ctx.out.out(`${`${label}:`.padEnd(10)}${value}`);
  for (const note of notes) ctx.out.out(`Note: ${note}`);
}

// ---------------------------------------------------------------------------------------------
// validate

/** Where a rule applies: anywhere, or these entries (channel ids and `dm`). */
type Scope = "anywhere" | ReadonlySet<string>;

function scopeOf(rule: PolicyRule): Scope {
  return rule.channels === null || rule.channels.includes("*") ? "anywhere" : new Set(rule.channels);
}

function describeScope(scope: Scope): string {
  return scope === "anywhere" ? "anywhere" : `in ${describeChannels([...scope])}`;
}

function unionOf(scopes: readonly Scope[]): Scope {
  const entries = new Set<string>();
  for (const scope of scopes) {
    if (scope === "anywhere") return "anywhere";
    for (const entry of scope) entries.add(entry);
  }
  return entries;
}

/** Where both apply; `undefined` when nowhere. */
function intersection(a: Scope, b: Scope): Scope | undefined {
  if (a === "anywhere") return b === "anywhere" || b.size > 0 ? b : undefined;
  if (b === "anywhere") return a.size > 0 ? a : undefined;
  const both = new Set([...a].filter((entry) => b.has(entry)));
  return both.size > 0 ? both : undefined;
}

function scopeCovers(outer: Scope, inner: Scope): boolean {
  if (outer === "anywhere") return true;
  return inner !== "anywhere" && [...inner].every((entry) => outer.has(entry));
}

/** Whether every command `inner` matches, `outer` matches too (`*` covers any one word; `[]` all). */
function patternCovers(outer: CommandPattern, inner: CommandPattern): boolean {
  return (
    outer.words.length <= inner.words.length &&
    outer.words.every((word, i) => word === "*" || word === inner.words[i])
  );
}

/** A command both patterns match, as words (`*` where either leaves it open); undefined if none. */
function overlap(a: CommandPattern, b: CommandPattern): string | undefined {
  const length = Math.max(a.words.length, b.words.length);
  const words: string[] = [];
  for (let i = 0; i < length; i++) {
    const x = a.words[i];
    const y = b.words[i];
    if (x !== undefined && y !== undefined && x !== "*" && y !== "*" && x !== y) return undefined;
    words.push(x !== undefined && x !== "*" ? x : (y ?? x ?? "*"));
  }
  return words.length > 0 ? words.join(" ") : "*";
}

const ruleName = (rule: PolicyRule) => `rule ${rule.index + 1}, ${ruleLabel(rule)}`;
const patterns = (rule: PolicyRule) => rule.commands.map((pattern) => shown(pattern.text, 60)).join(", ");

/**
 * What a valid policy most likely got wrong: a rule that can never match (earlier rules match all
 * its commands wherever it applies: first match wins, whoever asks), and an approval an earlier
 * allow rule without approval makes moot for some commands or channels.
 */
export function policyWarnings(policy: Policy): string[] {
  const warnings: string[] = [];
  policy.rules.forEach((rule, j) => {
    const earlier = policy.rules.slice(0, j);
    const scope = scopeOf(rule);
    const shadowing = new Set<PolicyRule>();
    const unreachable = rule.commands.every((pattern) => {
      const covering = earlier.filter(
        (other) =>
          intersection(scopeOf(other), scope) !== undefined &&
          other.commands.some((candidate) => patternCovers(candidate, pattern)),
      );
      if (!scopeCovers(unionOf(covering.map(scopeOf)), scope)) return false;
      for (const other of covering) shadowing.add(other);
      return true;
    });
    const needsApproval = rule.kind === "allow" && rule.approval !== null;
    if (unreachable) {
      const by = [...shadowing];
      const moot = needsApproval && by.some((other) => other.kind === "allow" && other.approval === null);
      warnings.push(
        `${ruleName(rule)}, can never match: ${by.map(ruleName).join(" and ")} ${by.length === 1 ? "comes" : "come"} first and ` +
          `${by.length === 1 ? "matches" : "match"} every command it names (${patterns(rule)}) ${describeScope(scope)}` +
          (moot ? ", so its approval is never asked for." : "."),
      );
      return;
    }
    if (!needsApproval) return;
    for (const other of earlier) {
      if (other.kind !== "allow" || other.approval !== null) continue;
      const both = intersection(scopeOf(other), scope);
      if (both === undefined) continue;
      const command = other.commands
        .flatMap((a) => rule.commands.map((b) => overlap(a, b)))
        .find((found) => found !== undefined);
      if (command === undefined) continue;
      warnings.push(
        `${ruleName(rule)}: its approval never applies to \`${shown(command, 60)}\` ${describeScope(both)}: ` +
          `${ruleName(other)} comes first and allows it there without approval.`,
      );
    }
  });
  return warnings;
}

function ruleSummary(rule: PolicyRule): string {
  const where = describeScope(scopeOf(rule));
  if (rule.kind === "deny") return `deny ${patterns(rule)} ${where}: "${shown(rule.reason, 80)}"`;
  const who = rule.allow.join(", ");
  if (rule.approval === null) return `allow ${who}: ${patterns(rule)} ${where}`;
  const { from, count: needed, expiresMs } = rule.approval;
  return `approval (${count(needed, "approval")} from ${or(from)}, expires after ${formatDuration(expiresMs)}) for ${who}: ${patterns(rule)} ${where}`;
}

function printSummary(ctx: CommandContext, policy: Policy, source: string): void {
  const subjects = [...policy.subjects.keys()];
  ctx.out.out(`${shown(source, 200)}: valid`);
  ctx.out.out(
    `${count(subjects.length, "subject")} (${subjects.join(", ")}), ${count(policy.rules.length, "rule")}:`,
  );
  for (const rule of policy.rules)
    ctx.out.out(`  ${rule.index + 1}. ${ruleLabel(rule)}: ${ruleSummary(rule)}`);
  const warnings = policyWarnings(policy);
  if (warnings.length === 0) {
    ctx.out.out("No warnings.");
    return;
  }
  ctx.out.out(`${count(warnings.length, "warning")}:`);
  for (const warning of warnings) ctx.out.out(`  - ${warning}`);
}

/** `victoria policy validate [FILE]`: a policy file, or the configured policy, read as the gate reads it. */
async function validate(ctx: CommandContext): Promise<void> {
  const file = ctx.args.file;
  if (file !== undefined) {
    const bytes = await ctx.services.localFile(file, "FILE");
    let policy: Policy;
    try {
      policy = parsePolicy(Buffer.from(bytes).toString("utf8"), file);
    } catch (error) {
      if (error instanceof PolicyError) throw new CommandFailure(shown(error.message, 2000));
      throw error;
    }
    printSummary(ctx, policy, file);
    return;
  }
  const setup = await configured(ctx);
  if (setup.policy === undefined) {
    ctx.out.out(NO_POLICY);
    ctx.out.out("Name a file to validate one: victoria policy validate FILE");
    return;
  }
  printSummary(ctx, setup.policy, setup.source ?? setup.policy.source);
}

/** `policy check|validate`: the command policy (issue 16) as the gate applies it, asked by hand. */
export const policyPlugin = definePlugin({
  name: "policy",
  summary: "Check who may run what, where, under the command policy; validate a policy file.",
  commands: [
    {
      name: "check",
      summary:
        "Say whether WHO may run COMMAND in WHERE: allowed, needs approval (from whom) or refused, and the rule that decides.",
      sensitive: false,
      args: [
        {
          name: "who",
          description:
            "An email address, or a Slack member id (U0123ABCD; @someone in Slack). With an id alone, email subjects and Entra groups cannot be confirmed: add --email.",
        },
        { name: "where", description: "A channel id (C0123ABCD, G0123ABCD; #channel in Slack), or dm." },
        {
          name: "command",
          description:
            "The command line to check, as it would be typed after victoria (its options included); use -- before it when it starts with an option.",
          variadic: true,
        },
      ],
      options: [
        {
          name: "email",
          description: "With a Slack member id as WHO: the person's email, as their Slack profile shows it.",
          takesValue: true,
        },
      ],
      run: check,
    },
    {
      name: "validate",
      summary:
        "Read a policy file (or, without FILE, the configured policy): its rules, or what is wrong and where; warns of rules that never apply.",
      sensitive: false,
      args: [
        {
          name: "file",
          description:
            "A policy file (YAML) on this machine; without it, the configured VICTORIA_POLICY or VICTORIA_POLICY_YAML.",
          optional: true,
        },
      ],
      run: validate,
    },
  ],
});
