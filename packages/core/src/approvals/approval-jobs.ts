/** Job kinds of the approval flow, run by the worker (AWS) or the in-process dispatcher (local). */

/** An Approve or Reject click on an approval request (dispatched by `/resolve`). */
export const APPROVAL_DECISION_JOB = "approval-decision";

/**
 * Expires pending requests past their time, telling each requester and redrawing the request:
 * scheduled every minute on AWS (EventBridge Scheduler → worker), a timer on the local server.
 */
export const APPROVAL_EXPIRY_JOB = "expire-approvals";

/** Block Kit action ids of the approval request's buttons; the value is the approval id. */
export const APPROVAL_ACTIONS = { approve: "approval_approve", reject: "approval_reject" } as const;
