import { currentRequestId, isRequestId, newRequestId, withRequestContext } from "../logging/request-context";
import type { Job } from "../ports";
import { describeIssues } from "../validation/describe-issues";
import * as z from "../validation/zod";

/** Runs one kind of job. Receives the payload after a JSON round trip, as a worker Lambda would. */
export type JobHandler = (payload: unknown) => Promise<void>;

/**
 * Job kind → handler. The same map feeds the in-process dispatcher (local) and the job router
 * (the worker Lambda), so a job runs the same code wherever it was dispatched.
 */
export type JobHandlers = Readonly<Record<string, JobHandler>>;

/** Why a job could not be handed off or routed. */
export type DispatchFailure =
  | "invalid-job" // not a `{kind, payload}` object, or the payload is not JSON-serialisable
  | "unknown-kind" // no handler for the kind
  | "too-large" // the encoded job is over the transport's payload limit
  | "invoke-failed"; // the transport (Lambda Invoke) refused or failed

/**
 * A job could not be dispatched or routed. Messages name the job kind, the function and the AWS
 * error, never the payload: it may carry user text (a command line, a Slack message).
 */
export class DispatchError extends Error {
  override readonly name = "DispatchError";
  readonly reason: DispatchFailure;
  /** The AWS error name (`ResourceNotFoundException`, ...) or network error code, when there is one. */
  readonly awsErrorName: string | undefined;
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    details: { reason: DispatchFailure; awsErrorName?: string; httpStatus?: number },
  ) {
    super(message);
    this.reason = details.reason;
    this.awsErrorName = details.awsErrorName;
    this.httpStatus = details.httpStatus;
  }
}

/** What travels between dispatcher and worker: the job plus when it was handed off. */
export interface JobEnvelope {
  kind: string;
  payload: unknown;
  /** ISO-8601 UTC; lets the worker log how long the job waited in the queue. */
  dispatchedAt: string;
  /** The request id, which correlates every hop: the front door's, so the worker logs under it. */
  requestId?: string;
}

/** A validated incoming job; `dispatchedAt` is absent when the sender did not stamp it. */
export interface ReceivedJob {
  kind: string;
  payload: unknown;
  dispatchedAt: string | undefined;
  /** Absent (or malformed, then dropped) when the sender did not stamp one: the worker mints one. */
  requestId: string | undefined;
}

const MAX_KIND_LENGTH = 128;

const jobEnvelopeSchema = z
  .object({
    kind: z
      .string({ error: "kind must be a string" })
      .check(
        z.minLength(1, "kind must not be empty"),
        z.maxLength(MAX_KIND_LENGTH, `kind must be at most ${MAX_KIND_LENGTH} characters`),
      ),
    // Optional here only so the refinement below can say what is wrong in plain words.
    payload: z.optional(z.unknown()),
    dispatchedAt: z.optional(z.iso.datetime({ error: "dispatchedAt must be an ISO-8601 UTC timestamp" })),
    // Checked below, not here: a malformed id is dropped (a fresh one is minted), never a failed job.
    requestId: z.optional(z.unknown()),
  })
  .check(
    z.refine((event) => event.payload !== undefined, {
      path: ["payload"],
      message: "payload is required (null when there is none)",
    }),
  );

/** Job kinds are code-defined, but a malformed event could carry anything; keep messages short. */
function quoteKind(kind: string): string {
  return JSON.stringify(kind.length > MAX_KIND_LENGTH ? `${kind.slice(0, MAX_KIND_LENGTH)}…` : kind);
}

/** `hasOwn`, so kinds such as `constructor` or `__proto__` never reach Object.prototype. */
export function findHandler(handlers: JobHandlers, kind: string): JobHandler | undefined {
  return Object.hasOwn(handlers, kind) ? handlers[kind] : undefined;
}

export function unknownKindError(kind: string): DispatchError {
  return new DispatchError(`No handler for job kind ${quoteKind(kind)}`, { reason: "unknown-kind" });
}

/** The UTF-8 JSON a worker receives. Throws DispatchError when the payload cannot be JSON. */
export function encodeJob(job: Job, now: Date = new Date()): string {
  // `undefined` becomes null: JSON.stringify would drop the key, and the router requires it.
  const payload = job.payload === undefined ? null : job.payload;
  // Stamped here, the one place every dispatcher goes through, so no caller has to remember it.
  const requestId = job.requestId ?? currentRequestId();
  const envelope: JobEnvelope = {
    kind: job.kind,
    payload,
    dispatchedAt: now.toISOString(),
    ...(requestId === undefined ? {} : { requestId }),
  };
  try {
    return JSON.stringify(envelope);
  } catch (error) {
    // Circular structures and BigInts; the error text names neither values nor keys worth hiding.
    throw new DispatchError(
      `Job ${quoteKind(job.kind)} has a payload that is not JSON-serialisable (${(error as Error).name})`,
      { reason: "invalid-job" },
    );
  }
}

/** Checks an incoming event is a job envelope; the message says which field is wrong. */
export function parseJobEvent(event: unknown): ReceivedJob {
  const result = jobEnvelopeSchema.safeParse(event);
  if (!result.success) {
    throw new DispatchError(`Invalid job event: ${describeIssues(result.error)}`, { reason: "invalid-job" });
  }
  const { kind, payload, dispatchedAt, requestId } = result.data;
  return { kind, payload, dispatchedAt, requestId: isRequestId(requestId) ? requestId : undefined };
}

/** The well-formed request id an incoming job event carries, if any (for the entry's own log lines). */
export function requestIdOfJobEvent(event: unknown): string | undefined {
  const requestId = (event as { requestId?: unknown } | null | undefined)?.requestId;
  return isRequestId(requestId) ? requestId : undefined;
}

export interface JobRouter {
  /**
   * Validates `event` as `{kind, payload}` and runs the handler for its kind, inside the job's request
   * context (its `requestId`, or a fresh one for a job that came without: a schedule's tick); rejects
   * if it fails.
   */
  run(event: unknown): Promise<void>;
}

/** What a worker Lambda's entry calls with its event. */
export function createJobRouter(handlers: JobHandlers): JobRouter {
  return {
    async run(event) {
      const { kind, payload, requestId } = parseJobEvent(event);
      const handler = findHandler(handlers, kind);
      if (!handler) throw unknownKindError(kind);
      // Without an id of its own, the job keeps the one it runs under (the worker entry's), else a fresh one.
      const id = requestId ?? currentRequestId() ?? newRequestId();
      await withRequestContext({ requestId: id }, () => handler(payload));
    },
  };
}
