import { randomBytes } from "node:crypto";
import { joinMrkdwn, type Mrkdwn, mention, mrkdwn } from "../slack/slack-text";

// An approval request and its life: pending → approved → ran, or pending → rejected | expired.
// Every transition here is a pure function of the stored request and the moment; the store applies
// it with a conditional write, so of racing callers exactly one sees each transition land.

export type ApprovalState = "pending" | "approved" | "rejected" | "expired" | "ran";

export const APPROVAL_STATES: readonly ApprovalState[] = [
  "pending",
  "approved",
  "rejected",
  "expired",
  "ran",
];

/** Someone on Slack: the id is who they are; the email is what the audit log and Entra know them by. */
export interface Person {
  slackId: string;
  email: string;
}

export interface ApprovalRequest {
  /** Random and url-safe (see `newApprovalId`): it travels in button values, file names and keys. */
  id: string;
  /** Set by the store and bumped by every write; transitions never touch it. */
  version: number;
  command: string[];
  requester: Person;
  channelId: string;
  /** The policy rule that asked for approval: its position and how it is shown. */
  ruleIndex: number;
  ruleLabel: string;
  /** Names of the policy subjects whose members may approve (membership is the caller's check). */
  approvers: string[];
  /** Distinct approvals needed. */
  count: number;
  createdAt: string;
  expiresAt: string;
  state: ApprovalState;
  approvals: Array<Person & { at: string }>;
  rejection?: Person & { at: string; reason?: string };
  run?: { at: string; exitStatus?: number; outcome: string };
  /** Where the Slack request was posted, so it can be redrawn. */
  message?: { channel: string; ts: string };
  /** What runs once approved: the worker job the request held back (a command or a button's action). */
  job?: HeldJob;
}

/** A worker job kept until approval; its payload is parsed again by the job's own schema when it runs. */
export interface HeldJob {
  kind: string;
  payload: unknown;
}

export interface NewApprovalRequest {
  command: string[];
  requester: Person;
  channelId: string;
  ruleIndex: number;
  ruleLabel: string;
  approvers: string[];
  count: number;
  /** How long approvers have, from `now`. */
  expiresInMs: number;
  job?: HeldJob;
}

/** What a write that landed did; the caller acts on it (an `approved` means: run it, once). */
export type ApprovalEvent =
  | "approval-recorded"
  | "approved"
  | "rejected"
  | "expired"
  | "ran"
  | "message-recorded";

export type RefusalReason =
  | "own-request"
  | "already-approved-by-you"
  | "already-approved"
  | "already-rejected"
  | "expired"
  | "already-ran"
  | "not-approved"
  | "not-due"
  | "not-found";

/** Why a transition did not happen, in words fit to show the person who clicked. */
export interface Refusal {
  reason: RefusalReason;
  /** Slack mrkdwn: the people named are mentions, everything else escaped. */
  message: Mrkdwn;
}

/**
 * A transition's answer. A refusal may still carry a change to store: an approval or rejection that
 * finds the request past its expiry is refused, and the request is stored as expired.
 */
export type Step =
  | { ok: true; request: ApprovalRequest; event: ApprovalEvent }
  | { ok: false; refusal: Refusal; change?: { request: ApprovalRequest; event: ApprovalEvent } };

const ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** 128 random bits as base64url: unguessable, and safe in a path, an S3 key and a button value. */
export function newApprovalId(): string {
  return randomBytes(16).toString("base64url");
}

export function isApprovalId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A pending request at version 1; throws naming the field when the input cannot make one. */
export function newApprovalRequest(
  input: NewApprovalRequest,
  now: Date,
  id: string = newApprovalId(),
): ApprovalRequest {
  const problem = !isApprovalId(id)
    ? `id ${JSON.stringify(id)} is not 16-64 url-safe characters`
    : input.command.length === 0
      ? "command is empty"
      : !Number.isInteger(input.count) || input.count < 1
        ? `count must be a whole number of at least 1, not ${input.count}`
        : input.approvers.length === 0
          ? "approvers is empty"
          : !(input.expiresInMs > 0)
            ? `expiresInMs must be positive, not ${input.expiresInMs}`
            : input.requester.slackId === ""
              ? "requester.slackId is empty"
              : undefined;
  if (problem) throw new Error(`Invalid approval request: ${problem}`);
  return {
    id,
    version: 1,
    command: [...input.command],
    requester: { slackId: input.requester.slackId, email: input.requester.email },
    channelId: input.channelId,
    ruleIndex: input.ruleIndex,
    ruleLabel: input.ruleLabel,
    approvers: [...input.approvers],
    count: input.count,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.expiresInMs).toISOString(),
    state: "pending",
    approvals: [],
    ...(input.job ? { job: structuredClone(input.job) } : {}),
  };
}

/**
 * Records `approver`'s approval. The caller has checked that they belong to one of `approvers`.
 * The approval that reaches `count` moves the request to `approved`: the caller whose write of
 * that lands (the store reports event `approved` to it alone) runs the command, then `markRan`.
 */
export function approve(request: ApprovalRequest, approver: Person, now: Date): Step {
  if (samePerson(approver, request.requester)) {
    return refused("own-request", mrkdwn`You cannot approve your own request`);
  }
  if (request.state === "pending" || request.state === "approved" || request.state === "ran") {
    if (request.approvals.some((given) => samePerson(given, approver))) {
      return refused("already-approved-by-you", mrkdwn`Already approved by you`);
    }
  }
  if (request.state !== "pending") return decided(request);
  if (isPastExpiry(request, now)) return expiredNow(request);
  const approvals = [
    ...request.approvals,
    { slackId: approver.slackId, email: approver.email, at: iso(now) },
  ];
  const approved = approvals.length >= request.count;
  return {
    ok: true,
    request: { ...request, approvals, state: approved ? "approved" : "pending" },
    event: approved ? "approved" : "approval-recorded",
  };
}

/** Rejects a pending request. The requester may reject (withdraw) their own; approvers are the caller's check. */
export function reject(request: ApprovalRequest, who: Person, now: Date, reason?: string): Step {
  if (request.state !== "pending") return decided(request);
  if (isPastExpiry(request, now)) return expiredNow(request);
  const rejection = { slackId: who.slackId, email: who.email, at: iso(now), ...(reason ? { reason } : {}) };
  return { ok: true, request: { ...request, state: "rejected", rejection }, event: "rejected" };
}

/** Expires a pending request once `now` is past `expiresAt` (a sweep, or a click that comes late). */
export function expire(request: ApprovalRequest, now: Date): Step {
  if (request.state !== "pending") return decided(request);
  if (!isPastExpiry(request, now)) {
    return refused("not-due", mrkdwn`This request does not expire until ${request.expiresAt}`);
  }
  return { ok: true, request: { ...request, state: "expired" }, event: "expired" };
}

/**
 * approved → ran, once: the second gate after `approved`. Only the caller that was told `approved`
 * should call it; if it crashes before, the request stays `approved` and is never run again
 * (at most once is what a risky command needs).
 */
export function markRan(
  request: ApprovalRequest,
  result: { outcome: string; exitStatus?: number },
  now: Date,
): Step {
  if (request.state === "ran") {
    return refused(
      "already-ran",
      mrkdwn`This request already ran at ${request.run?.at ?? "an unknown time"}`,
    );
  }
  if (request.state !== "approved") {
    return refused("not-approved", mrkdwn`This request is ${request.state}, not approved: it cannot run`);
  }
  const run = {
    at: iso(now),
    outcome: result.outcome,
    ...(result.exitStatus === undefined ? {} : { exitStatus: result.exitStatus }),
  };
  return { ok: true, request: { ...request, state: "ran", run }, event: "ran" };
}

/** Remembers where the request was posted, in any state, so any later transition can redraw it. */
export function recordMessage(request: ApprovalRequest, message: { channel: string; ts: string }): Step {
  return {
    ok: true,
    request: { ...request, message: { channel: message.channel, ts: message.ts } },
    event: "message-recorded",
  };
}

export function isPastExpiry(request: ApprovalRequest, now: Date): boolean {
  return now.getTime() > Date.parse(request.expiresAt);
}

/** `<@U1>`, `<@U1> and <@U2>`, `<@U1>, <@U2> and <@U3>`: Slack renders mentions as names. */
export function mentions(people: readonly { slackId: string }[]): Mrkdwn {
  const names = people.map((p) => mention(p.slackId));
  const last = names.at(-1);
  if (names.length <= 1 || last === undefined) return last ?? mrkdwn`nobody`;
  return mrkdwn`${joinMrkdwn(names.slice(0, -1), ", ")} and ${last}`;
}

/** The refusal for a request that is no longer pending, naming its state and who decided. */
function decided(request: ApprovalRequest): Step {
  switch (request.state) {
    case "approved":
      return refused("already-approved", mrkdwn`Already approved by ${mentions(request.approvals)}`);
    case "ran":
      return refused(
        "already-approved",
        mrkdwn`Already approved by ${mentions(request.approvals)}; it ran at ${request.run?.at ?? "an unknown time"}`,
      );
    case "rejected": {
      const by = request.rejection ? mentions([request.rejection]) : mrkdwn`someone`;
      const why = request.rejection?.reason ? `: ${request.rejection.reason}` : "";
      return refused("already-rejected", mrkdwn`Already rejected by ${by}${why}`);
    }
    case "expired":
      return refused("expired", mrkdwn`This request expired at ${request.expiresAt}`);
    case "pending":
      throw new Error(`Approval request ${request.id} is pending: nothing was decided`);
  }
}

function expiredNow(request: ApprovalRequest): Step {
  return {
    ok: false,
    refusal: { reason: "expired", message: mrkdwn`This request expired at ${request.expiresAt}` },
    change: { request: { ...request, state: "expired" }, event: "expired" },
  };
}

function refused(reason: RefusalReason, message: Mrkdwn): Step {
  return { ok: false, refusal: { reason, message } };
}

/** The same Slack user, or the same non-empty email (one person with two Slack accounts). */
function samePerson(a: Person, b: Person): boolean {
  if (a.slackId !== "" && a.slackId === b.slackId) return true;
  return a.email !== "" && a.email.toLowerCase() === b.email.toLowerCase();
}

function iso(now: Date): string {
  return now.toISOString();
}
