import { type Chat, ChatError } from "../ports";
import { type AuthorizationChain, authorizeSlackUser } from "../security/authorize-slack-user";
import type { Mrkdwn } from "../slack/slack-text";
import { type ApprovalNeeded, decide } from "./decide";
import type { Policy } from "./policy";
import type { SubjectDirectory } from "./subject-directory";
import { subjectMembership } from "./subject-membership";

/** Where a command or a click comes from: a channel id, and whether it is a direct message. */
export interface GateChannel {
  id: string;
  isDm: boolean;
}

/** A channel as the policy sees it: direct-message channel ids start with `D` (or the event says so). */
export function gateChannel(id: string, direct = false): GateChannel {
  return { id, isDm: direct || id.startsWith("D") };
}

export type GateOutcome =
  | { kind: "allow"; email?: string; explanation?: string }
  /** `message` for the user: a plain string is outside text (escaped when sent), Mrkdwn is sent as is. */
  | { kind: "refuse"; reason: string; message: string | Mrkdwn; email?: string }
  | { kind: "approval"; email?: string; decision: ApprovalNeeded };

export interface PolicyGateDeps extends AuthorizationChain {
  /** The operator's policy (VICTORIA_POLICY…); absent: today's gate, the SRE group may run everything. */
  policy?: () => Promise<Policy>;
  /** Entra groups of the policy's subjects (Graph); absent: a subject naming groups cannot be confirmed. */
  groups?: SubjectDirectory;
}

/**
 * Who may run what, where: without a policy the SRE chain as before (profile → email → SRE group →
 * SLACK_ALLOWED_MEMBERS); with one, the Slack profile (people only) and then the policy alone decides.
 * Commands and buttons pass the same gate, buttons as the commands they stand for.
 */
export interface PolicyGate {
  check(userId: string, channel: GateChannel, command: readonly string[]): Promise<GateOutcome>;
  /** Whether a user is in one of these subjects of the policy (approvers); false without a policy. */
  isInSubjects(userId: string, subjects: readonly string[]): Promise<{ ok: boolean; email?: string }>;
}

const UNCONFIGURED_GROUPS: SubjectDirectory = {
  inGroup: (groupId) =>
    Promise.reject(new Error(`Cannot check Entra group ${groupId}: Microsoft Graph is not configured`)),
};

type Person = { ok: true; email?: string } | { ok: false; reason: string; message: string };

async function lookUp(chat: Chat, userId: string): Promise<Person> {
  try {
    const user = await chat.userInfo(userId);
    if (user.isBot || user.deleted)
      return {
        ok: false,
        reason: "bot or deactivated user",
        message: "Sorry, only people can run Victoria.",
      };
    return user.email ? { ok: true, email: user.email } : { ok: true };
  } catch (error) {
    const code = error instanceof ChatError ? error.code : "error";
    return {
      ok: false,
      reason: `users.info failed: ${code}`,
      message: "Sorry, I could not look you up in Slack, so I cannot check that you may run that.",
    };
  }
}

export function createPolicyGate(deps: PolicyGateDeps): PolicyGate {
  const groups = deps.groups ?? UNCONFIGURED_GROUPS;
  return {
    async check(userId, channel, command) {
      if (!deps.policy) {
        const authorization = await authorizeSlackUser(deps, userId);
        if (authorization.ok) return { kind: "allow", email: authorization.email };
        return {
          kind: "refuse",
          reason: authorization.reason,
          message: authorization.message,
          ...(authorization.email ? { email: authorization.email } : {}),
        };
      }
      const person = await lookUp(deps.chat, userId);
      if (!person.ok) return { kind: "refuse", reason: person.reason, message: person.message };
      let policy: Policy;
      try {
        policy = await deps.policy();
      } catch (error) {
        return {
          kind: "refuse",
          reason: `policy unavailable: ${(error as Error).message}`,
          message: "Sorry, I could not read the command policy just now, so I cannot run that.",
        };
      }
      const email = person.email;
      const decision = await decide(
        policy,
        { user: { slackId: userId, ...(email ? { email } : {}) }, channel, command },
        groups,
      );
      const who = email ? { email } : {};
      if (decision.outcome === "allow") return { kind: "allow", ...who, explanation: decision.explanation };
      if (decision.outcome === "approval") return { kind: "approval", ...who, decision };
      return { kind: "refuse", reason: decision.explanation, message: decision.message, ...who };
    },

    async isInSubjects(userId, subjects) {
      if (!deps.policy) return { ok: false };
      const person = await lookUp(deps.chat, userId);
      if (!person.ok) return { ok: false };
      const email = person.email;
      const policy = await deps.policy();
      const membership = subjectMembership(policy, { slackId: userId, ...(email ? { email } : {}) }, groups);
      const match = await membership.firstOf(subjects);
      return { ok: match.in !== null, ...(email ? { email } : {}) };
    },
  };
}
