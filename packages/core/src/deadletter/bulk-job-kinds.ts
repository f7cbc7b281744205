/**
 * Job kinds of bulk dead-letter actions, run by the worker (AWS) or the in-process dispatcher. A
 * module of names only, so a route that dispatches one loads nothing else.
 */
export const BULK_JOB = "deadletter-bulk";
export const BULK_CANCEL_JOB = "deadletter-bulk-cancel";
/** Takes up jobs nobody runs: the local server's timer (on AWS the `expire-approvals` tick does it). */
export const BULK_RESUME_JOB = "deadletter-bulk-resume";

/** Block Kit action id of the progress message's Cancel button; its value is the job id. */
export const BULK_CANCEL_ACTION = "deadletter_bulk_cancel";
