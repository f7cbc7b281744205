import { describe, expect, it } from "vitest";
import {
  type ApprovalRequest,
  approve,
  expire,
  isApprovalId,
  markRan,
  mentions,
  newApprovalId,
  newApprovalRequest,
  recordMessage,
  reject,
  type Step,
} from "./approval";
import { approver, CREATED, LATE, requester, SOON, sampleRequest } from "./approval-store-contract";

/** The request a step led to; fails the test for a refusal. */
function landed(step: Step): ApprovalRequest {
  if (!step.ok) throw new Error(`refused: ${step.refusal.message.text}`);
  return step.request;
}

describe("newApprovalRequest", () => {
  it("makes a pending request at version 1 with a random url-safe id and its expiry", () => {
    const request = sampleRequest(2);
    expect(request).toMatchObject({
      version: 1,
      state: "pending",
      approvals: [],
      count: 2,
      createdAt: "2025-01-02T03:00:00.000Z",
      expiresAt: "2025-01-02T03:30:00.000Z",
      requester,
    });
    expect(request.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sampleRequest().id).not.toBe(request.id);
  });

  it("refuses input that cannot make a request, naming the field", () => {
    const input = {
      command: ["encrypt", "rotate"],
      requester,
      channelId: "C1",
      ruleIndex: 0,
      ruleLabel: "r",
      approvers: ["leads"],
      count: 1,
      expiresInMs: 1000,
    };
    expect(() => newApprovalRequest({ ...input, command: [] }, CREATED)).toThrow("command is empty");
    expect(() => newApprovalRequest({ ...input, count: 0 }, CREATED)).toThrow("count must be");
    expect(() => newApprovalRequest({ ...input, count: 1.5 }, CREATED)).toThrow("count must be");
    expect(() => newApprovalRequest({ ...input, approvers: [] }, CREATED)).toThrow("approvers is empty");
    expect(() => newApprovalRequest({ ...input, expiresInMs: 0 }, CREATED)).toThrow("expiresInMs");
    expect(() => newApprovalRequest(input, CREATED, "a/b")).toThrow("url-safe");
  });

  it("ids are 22 base64url characters; nothing with a dot or slash passes", () => {
    for (let i = 0; i < 50; i += 1) expect(isApprovalId(newApprovalId())).toBe(true);
    expect(isApprovalId("../AAAAAAAAAAAAAAAAAAAA")).toBe(false);
    expect(isApprovalId("AAAAAAAAAAAAAAA.json")).toBe(false);
    expect(isApprovalId("short")).toBe(false);
  });
});

describe("approve", () => {
  it("refuses the requester, by Slack id or by email", () => {
    const request = sampleRequest();
    for (const self of [requester, { slackId: "UOTHER", email: "REQ@example.com" }]) {
      expect(approve(request, self, SOON)).toEqual({
        ok: false,
        refusal: { reason: "own-request", message: { text: "You cannot approve your own request" } },
      });
    }
  });

  it("with count 1, the first approval approves", () => {
    const step = approve(sampleRequest(), approver(1), SOON);
    expect(step).toMatchObject({ ok: true, event: "approved" });
    expect(landed(step)).toMatchObject({
      state: "approved",
      approvals: [{ ...approver(1), at: SOON.toISOString() }],
      version: 1,
    });
  });

  it("with count 2, needs two distinct approvers; a second click by the first is idempotent", () => {
    const once = landed(approve(sampleRequest(2), approver(1), SOON));
    expect(once.state).toBe("pending");
    expect(approve(once, approver(1), SOON)).toEqual({
      ok: false,
      refusal: { reason: "already-approved-by-you", message: { text: "Already approved by you" } },
    });
    // The same person from another Slack account (same email) is not a second approver.
    expect(approve(once, { slackId: "UALT", email: "LEAD1@example.com" }, SOON)).toMatchObject({
      ok: false,
      refusal: { reason: "already-approved-by-you" },
    });
    const twice = approve(once, approver(2), SOON);
    expect(twice).toMatchObject({ ok: true, event: "approved" });
    expect(landed(twice).approvals.map((a) => a.slackId)).toEqual(["ULEAD1", "ULEAD2"]);
  });

  it("refuses once decided, naming the state and who decided", () => {
    const approved = landed(approve(landed(approve(sampleRequest(2), approver(1), SOON)), approver(2), SOON));
    expect(approve(approved, approver(3), SOON)).toEqual({
      ok: false,
      refusal: {
        reason: "already-approved",
        message: { text: "Already approved by <@ULEAD1> and <@ULEAD2>" },
      },
    });
    expect(approve(approved, approver(2), SOON)).toMatchObject({
      refusal: { reason: "already-approved-by-you" },
    });
    const ran = landed(markRan(approved, { outcome: "ok", exitStatus: 0 }, SOON));
    expect(approve(ran, approver(3), SOON)).toMatchObject({
      refusal: {
        message: { text: `Already approved by <@ULEAD1> and <@ULEAD2>; it ran at ${SOON.toISOString()}` },
      },
    });
    const rejected = landed(reject(sampleRequest(), approver(1), SOON, "not now"));
    expect(approve(rejected, approver(2), SOON)).toEqual({
      ok: false,
      refusal: { reason: "already-rejected", message: { text: "Already rejected by <@ULEAD1>: not now" } },
    });
    // An approver whose approval was overtaken by a rejection hears about the rejection.
    const partlyApproved = landed(approve(sampleRequest(2), approver(1), SOON));
    const overtaken = landed(reject(partlyApproved, approver(2), SOON));
    expect(approve(overtaken, approver(1), SOON)).toMatchObject({
      refusal: { reason: "already-rejected", message: { text: "Already rejected by <@ULEAD2>" } },
    });
  });

  it("past expiry: refused, and the request becomes expired (a change to store)", () => {
    const request = sampleRequest();
    const step = approve(request, approver(1), LATE);
    expect(step).toEqual({
      ok: false,
      refusal: { reason: "expired", message: { text: "This request expired at 2025-01-02T03:30:00.000Z" } },
      change: { request: { ...request, state: "expired" }, event: "expired" },
    });
    // At the very instant of expiry it is still open.
    expect(approve(request, approver(1), new Date(request.expiresAt)).ok).toBe(true);
  });

  it("never changes its argument", () => {
    const request = sampleRequest();
    const copy = structuredClone(request);
    approve(request, approver(1), SOON);
    reject(request, approver(1), SOON);
    expire(request, LATE);
    expect(request).toEqual(copy);
  });
});

describe("reject", () => {
  it("rejects a pending request, keeping who, when and why", () => {
    const step = reject(sampleRequest(), approver(1), SOON, "too risky");
    expect(step).toMatchObject({ ok: true, event: "rejected" });
    expect(landed(step)).toMatchObject({
      state: "rejected",
      rejection: { ...approver(1), at: SOON.toISOString(), reason: "too risky" },
    });
    expect(landed(reject(sampleRequest(), approver(1), SOON)).rejection).not.toHaveProperty("reason");
  });

  it("lets the requester withdraw their own request", () => {
    expect(reject(sampleRequest(), requester, SOON)).toMatchObject({ ok: true, event: "rejected" });
  });

  it("refuses a decided request and expires a late one", () => {
    const approved = landed(approve(sampleRequest(), approver(1), SOON));
    expect(reject(approved, approver(2), SOON)).toMatchObject({
      ok: false,
      refusal: { reason: "already-approved", message: { text: "Already approved by <@ULEAD1>" } },
    });
    expect(reject(sampleRequest(), approver(1), LATE)).toMatchObject({
      ok: false,
      refusal: { reason: "expired" },
      change: { event: "expired", request: { state: "expired" } },
    });
  });
});

describe("expire", () => {
  it("expires a pending request only once it is past its expiry", () => {
    const request = sampleRequest();
    expect(expire(request, SOON)).toEqual({
      ok: false,
      refusal: {
        reason: "not-due",
        message: { text: "This request does not expire until 2025-01-02T03:30:00.000Z" },
      },
    });
    const expired = expire(request, LATE);
    expect(expired).toMatchObject({ ok: true, event: "expired", request: { state: "expired" } });
    expect(expire(landed(expired), LATE)).toMatchObject({ ok: false, refusal: { reason: "expired" } });
    expect(approve(landed(expired), approver(1), LATE)).toEqual({
      ok: false,
      refusal: { reason: "expired", message: { text: "This request expired at 2025-01-02T03:30:00.000Z" } },
    });
  });

  it("leaves an approved request alone even after its expiry", () => {
    const approved = landed(approve(sampleRequest(), approver(1), SOON));
    expect(expire(approved, LATE)).toMatchObject({ ok: false, refusal: { reason: "already-approved" } });
    // Approval was granted in time, so the run may still be recorded late.
    expect(markRan(approved, { outcome: "ok" }, LATE)).toMatchObject({ ok: true, event: "ran" });
  });
});

describe("markRan", () => {
  it("moves approved to ran once, with the outcome", () => {
    const approved = landed(approve(sampleRequest(), approver(1), SOON));
    const ran = markRan(approved, { outcome: "failed", exitStatus: 2 }, SOON);
    expect(landed(ran)).toMatchObject({
      state: "ran",
      run: { at: SOON.toISOString(), outcome: "failed", exitStatus: 2 },
    });
    expect(markRan(landed(ran), { outcome: "ok" }, SOON)).toEqual({
      ok: false,
      refusal: {
        reason: "already-ran",
        message: { text: `This request already ran at ${SOON.toISOString()}` },
      },
    });
    expect(landed(markRan(approved, { outcome: "timeout" }, SOON)).run).not.toHaveProperty("exitStatus");
  });

  it("refuses anything not approved", () => {
    const pending = sampleRequest();
    expect(markRan(pending, { outcome: "ok" }, SOON)).toEqual({
      ok: false,
      refusal: {
        reason: "not-approved",
        message: { text: "This request is pending, not approved: it cannot run" },
      },
    });
    const rejected = landed(reject(pending, approver(1), SOON));
    expect(markRan(rejected, { outcome: "ok" }, SOON)).toMatchObject({ refusal: { reason: "not-approved" } });
    const expired = landed(expire(pending, LATE));
    expect(markRan(expired, { outcome: "ok" }, LATE)).toMatchObject({ refusal: { reason: "not-approved" } });
  });
});

describe("recordMessage and mentions", () => {
  it("records where the request was posted, in any state", () => {
    const rejected = landed(reject(sampleRequest(), approver(1), SOON));
    expect(recordMessage(rejected, { channel: "C0OPS", ts: "1.2" })).toMatchObject({
      ok: true,
      event: "message-recorded",
      request: { state: "rejected", message: { channel: "C0OPS", ts: "1.2" } },
    });
  });

  it("joins mentions as a sentence", () => {
    expect(mentions([]).text).toBe("nobody");
    expect(mentions([approver(1)]).text).toBe("<@ULEAD1>");
    expect(mentions([approver(1), approver(2), approver(3)]).text).toBe("<@ULEAD1>, <@ULEAD2> and <@ULEAD3>");
  });
});
