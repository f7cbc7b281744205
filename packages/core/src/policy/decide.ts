import { channelMention, code, joinMrkdwn, type Mrkdwn, mrkdwn } from "../slack/slack-text";
import { describeChannels, inChannels, type RequestChannel } from "./channel-scope";
import { commandLabel, commandWords, matchesCommand } from "./command-pattern";
import { formatDuration } from "./duration";
import { type AllowRule, type CommandPattern, type Policy, type PolicyRule, ruleLabel } from "./policy";
import type { SubjectDirectory } from "./subject-directory";
import { type PolicyUser, subjectMembership } from "./subject-membership";

export type { RequestChannel } from "./channel-scope";
export type { PolicyUser } from "./subject-membership";

export interface PolicyRequest {
  user: PolicyUser;
  channel: RequestChannel;
  /** The argv words as typed, e.g. `["deadletter", "delete", "abc"]` or `["--help"]`. */
  command: readonly string[];
}

interface DecisionBase {
  /** The leading words that name the command (`deadletter delete`), never the rest of the line. */
  command: string;
  /** One line for `victoria policy check` and the audit log: the outcome and the rule that made it. */
  explanation: string;
}

export interface Allowed extends DecisionBase {
  outcome: "allow";
  ruleIndex: number;
  /** The subject that let the user in. */
  subject: string;
}

export interface ApprovalNeeded extends DecisionBase {
  outcome: "approval";
  ruleIndex: number;
  /** The requester's subject in the rule's `allow`. */
  subject: string;
  /** The rule as people read it: `rules[2] (line 7)`. */
  rule: string;
  /** Subjects whose members may approve. */
  from: readonly string[];
  count: number;
  expiresMs: number;
  /** For the requester (Slack mrkdwn), e.g. "`deadletter delete` needs approval from leads". */
  message: Mrkdwn;
}

/**
 * - `denied`: a deny rule; `not-allowed`: the user is in none of the rule's subjects; `channel`: allowed
 *   for this user elsewhere only; `no-rule`: nothing matches; `lookup-failed`: membership could not be
 *   checked (fail closed).
 */
export type RefusalReason = "denied" | "not-allowed" | "channel" | "no-rule" | "lookup-failed";

export interface Refused extends DecisionBase {
  outcome: "refuse";
  reason: RefusalReason;
  /** The rule that refused; `null` when none matched here. */
  ruleIndex: number | null;
  /** For the user (Slack mrkdwn): why, and where or by whom it would be allowed. */
  message: Mrkdwn;
}

export type Decision = Allowed | ApprovalNeeded | Refused;

function or(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** `<#C0OPS>, <#C0SRE> or direct messages`: the refusal's channels as Slack links. */
function channelMentions(channels: readonly string[]): Mrkdwn {
  const names = [...new Set(channels)]
    .sort((a, b) => Number(a === "dm") - Number(b === "dm"))
    .map((entry) => (entry === "dm" ? mrkdwn`direct messages` : channelMention(entry)));
  if (names.length <= 1) return joinMrkdwn(names, "");
  return mrkdwn`${joinMrkdwn(names.slice(0, -1), ", ")} or ${names.at(-1) as Mrkdwn}`;
}

function where(channels: readonly string[] | null): string {
  return channels === null || channels.includes("*") ? "anywhere" : `in ${describeChannels(channels)}`;
}

function here(channel: RequestChannel): string {
  return channel.isDm ? `in a direct message (${channel.id})` : `in ${channel.id}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * What the policy says about one request. The first rule whose commands match (leading words, options
 * aside) and whose channels include this one decides: allow, deny, or approval needed. A rule that
 * matches the command but not the channel is remembered, so a refusal can say where the user may run it
 * ("`deadletter delete` is allowed in <#C0OPS> only"). Membership look-ups that fail refuse (fail closed).
 */
export async function decide(
  policy: Policy,
  request: PolicyRequest,
  directory: SubjectDirectory,
): Promise<Decision> {
  const words = commandWords(request.command);
  const patterns = policy.rules.flatMap((rule) => rule.commands);
  const members = subjectMembership(policy, request.user, directory);
  const elsewhere: { rule: AllowRule; pattern: CommandPattern }[] = [];

  /** Allow rules for this command in other channels that would let this user in. */
  async function allowedElsewhere() {
    const open: { rule: AllowRule; pattern: CommandPattern }[] = [];
    for (const entry of elsewhere) {
      // Only a hint: a look-up that fails here just leaves the rule out.
      if ((await members.firstOf(entry.rule.allow)).in !== null) open.push(entry);
    }
    return open;
  }

  async function channelRefusal(refusal: Refused): Promise<Refused> {
    if (refusal.reason === "lookup-failed") return refusal;
    const open = await allowedElsewhere();
    const first = open[0];
    if (first === undefined) return refusal;
    const channels = open.flatMap(({ rule }) => rule.channels ?? []);
    const label = commandLabel(words, patterns, first.pattern);
    const rules = open.map(({ rule }) => ruleLabel(rule)).join(", ");
    return {
      outcome: "refuse",
      reason: "channel",
      ruleIndex: refusal.ruleIndex,
      command: label,
      message: mrkdwn`${code(label)} is allowed in ${channelMentions(channels)} only.`,
      explanation:
        `refused ${here(request.channel)}: ${rules} allow${open.length === 1 ? "s" : ""} \`${label}\` ` +
        `for this user in ${describeChannels(channels)} only; here ${refusal.explanation}`,
    };
  }

  async function ruleDecision(rule: PolicyRule, label: string): Promise<Decision> {
    const at = ruleLabel(rule);
    if (rule.kind === "deny") {
      return {
        outcome: "refuse",
        reason: "denied",
        ruleIndex: rule.index,
        command: label,
        message: mrkdwn`${rule.reason}`,
        explanation: `denied by ${at}: ${rule.reason}`,
      };
    }
    const who = or(rule.allow);
    const match = await members.firstOf(rule.allow);
    if (match.in === null && match.error !== undefined) {
      return {
        outcome: "refuse",
        reason: "lookup-failed",
        ruleIndex: rule.index,
        command: label,
        message: mrkdwn`Sorry, I could not check whether you may run ${code(label)} just now (a directory look-up failed); please try again shortly.`,
        explanation: `refused (fail closed) by ${at}: could not check membership of ${who}: ${errorText(match.error)}`,
      };
    }
    if (match.in === null) {
      const noEmail = members.hasEmail
        ? ""
        : " Your Slack profile shows no email address I can see, so only your Slack id could be checked.";
      return {
        outcome: "refuse",
        reason: "not-allowed",
        ruleIndex: rule.index,
        command: label,
        message: mrkdwn`Only ${who} may run ${code(label)}.${noEmail}`,
        explanation: `refused by ${at}: only ${who} may run \`${label}\` ${where(rule.channels)}, and this user is in none of them`,
      };
    }
    const allowed = `${match.in} may run \`${label}\` ${where(rule.channels)}`;
    if (rule.approval === null) {
      return {
        outcome: "allow",
        ruleIndex: rule.index,
        subject: match.in,
        command: label,
        explanation: `allowed by ${at}: ${allowed}`,
      };
    }
    const { from, count, expiresMs } = rule.approval;
    const approvals = count === 1 ? "approval" : `${count} approvals`;
    return {
      outcome: "approval",
      ruleIndex: rule.index,
      rule: at,
      subject: match.in,
      from,
      count,
      expiresMs,
      command: label,
      message: mrkdwn`${code(label)} needs ${approvals} from ${or(from)}`,
      explanation: `needs approval by ${at}: ${allowed} with ${approvals} from ${or(from)} within ${formatDuration(expiresMs)}`,
    };
  }

  for (const rule of policy.rules) {
    const pattern = rule.commands.find((candidate) => matchesCommand(candidate, words));
    if (pattern === undefined) continue;
    if (!inChannels(rule.channels, request.channel)) {
      if (rule.kind === "allow") elsewhere.push({ rule, pattern });
      continue;
    }
    const decision = await ruleDecision(rule, commandLabel(words, patterns, pattern));
    return decision.outcome === "refuse" && elsewhere.length > 0 ? channelRefusal(decision) : decision;
  }

  const label = commandLabel(words, patterns);
  return channelRefusal({
    outcome: "refuse",
    reason: "no-rule",
    ruleIndex: null,
    command: label,
    message: mrkdwn`No policy rule allows ${code(label)}.`,
    explanation: `refused: no rule of ${policy.source} allows \`${label}\` ${here(request.channel)}`,
  });
}
