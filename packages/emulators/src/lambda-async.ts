/**
 * Lambda's asynchronous invocation as the Lambda stand-in runs `Event` invocations: each event
 * waits in the function's queue, runs, and on a function error (a throw or a timeout) is retried
 * up to the function's `MaximumRetryAttempts` (Lambda waits about 1 minute, then 2); an event older
 * than `MaximumEventAgeInSeconds` when its turn comes is not run. An event that fails every attempt
 * or ages out is sent, as Lambda's invocation record, to the on-failure destination.
 *
 * The destination is a callback, so this stays apart from any queue: wire it to the SQS stand-in
 * with an `SQSClient` and `SendMessageCommand({ MessageBody: JSON.stringify(record) })`, which is
 * what Lambda does for an SQS destination.
 */

/** What a Node.js function's failure looks like to Lambda: the runtime's error object. */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  /** The runtime's stack lines for a thrown error (empty here); absent for a timeout. */
  trace?: string[];
}

/**
 * A function's FunctionEventInvokeConfig, with the on-failure destination as a callback. What is
 * left out has Lambda's default: 2 retries, 6 hours, no destination.
 */
export interface EventInvokeConfig {
  /** 0–2. */
  maximumRetryAttempts?: number;
  /** 60–21,600. */
  maximumEventAgeInSeconds?: number;
  /** Receives the invocation record of an event that failed every attempt or aged out. */
  onFailure?: (record: AsyncInvocationFailureRecord) => Promise<void>;
}

export type AsyncFailureCondition = "RetriesExhausted" | "EventAgeExceeded";

/**
 * The invocation record Lambda sends to an on-failure destination (for SQS, as the message body).
 * `responseContext` and `responsePayload` describe the last attempt; an event that aged out before
 * any attempt has neither (AWS documents no response for an event that never ran).
 */
export interface AsyncInvocationFailureRecord {
  version: "1.0";
  /** ISO 8601, e.g. `2019-11-14T18:16:05.568Z`. */
  timestamp: string;
  requestContext: {
    requestId: string;
    /** Qualified, as Lambda sends it: `arn:aws:lambda:<region>:<account>:function:<name>:$LATEST`. */
    functionArn: string;
    condition: AsyncFailureCondition;
    approximateInvokeCount: number;
  };
  /** The event, as the function received it. */
  requestPayload: unknown;
  responseContext?: { statusCode: 200; executedVersion: "$LATEST"; functionError: "Unhandled" };
  responsePayload?: FunctionErrorPayload;
}

/** How an event ended. */
export type EventOutcome =
  | { condition: "Success"; attempts: number }
  | {
      condition: AsyncFailureCondition;
      attempts: number;
      record: AsyncInvocationFailureRecord;
      /** What the on-failure destination threw (Lambda counts a DestinationDeliveryFailures). */
      destinationError?: string;
    };

export interface QueuedEvent {
  requestId: string;
  functionName: string;
  /** Unqualified: `arn:aws:lambda:<region>:<account>:function:<name>`. */
  functionArn: string;
  event: unknown;
}

export interface EventQueueOptions {
  /** Epoch milliseconds: event ages and record timestamps. */
  now: () => number;
  /** Waits before the first and the second retry (Lambda: about 60,000 and 120,000). */
  retryDelaysMs: readonly [number, number];
}

export interface EventQueue {
  /** Sets (replacing) a function's event invoke config, as PutFunctionEventInvokeConfig does. */
  configure(functionName: string, config: EventInvokeConfig): void;
  /** Events of `functionName` stay queued (as with reserved concurrency 0) until `release`. */
  hold(functionName: string): void;
  release(functionName: string): void;
  /**
   * Queues an event; `attempt` runs the function once and resolves with its error, if it failed.
   * Resolves with the outcome, or undefined when the queue was closed first.
   */
  enqueue(
    event: QueuedEvent,
    attempt: () => Promise<FunctionErrorPayload | undefined>,
  ): Promise<EventOutcome | undefined>;
  /** Resolves when no queued event is running, waiting to retry or delivering to its destination (held ones aside). */
  idle(): Promise<void>;
  /** Drops every queued event: pending retries and held events are not run. */
  close(): void;
}

export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21_600;
export const DEFAULT_RETRY_DELAYS_MS = [60_000, 120_000] as const;
/** Lambda's longest function timeout. */
export const MAX_TIMEOUT_SECONDS = 900;

/** Throws, as PutFunctionEventInvokeConfig refuses them, for values outside Lambda's ranges. */
export function checkEventInvokeConfig(config: EventInvokeConfig): void {
  const { maximumRetryAttempts: retries, maximumEventAgeInSeconds: age } = config;
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 2)) {
    throw new Error(`maximumRetryAttempts must be an integer from 0 to 2 (got ${retries})`);
  }
  if (age !== undefined && (!Number.isInteger(age) || age < 60 || age > DEFAULT_MAXIMUM_EVENT_AGE_SECONDS)) {
    throw new Error(`maximumEventAgeInSeconds must be an integer from 60 to 21600 (got ${age})`);
  }
}

/**
 * Lambda's error for an invocation that ran past the function's timeout. The stand-in takes
 * fractions of a second so tests need not wait; Lambda takes whole seconds (1–900).
 */
export function timeoutError(requestId: string, timeoutSeconds: number): FunctionErrorPayload {
  return {
    errorType: "Sandbox.Timedout",
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  };
}

export type AttemptResult =
  | { kind: "returned"; value: unknown }
  | { kind: "threw"; error: unknown }
  | { kind: "timedOut" };

/**
 * Runs `run`, giving up after `timeoutSeconds` (none when undefined). A function that times out is
 * not stopped (it runs in this process); what it does afterwards is ignored.
 */
export async function runWithTimeout(
  run: () => Promise<unknown>,
  timeoutSeconds: number | undefined,
): Promise<AttemptResult> {
  const outcome = Promise.resolve()
    .then(run)
    .then(
      (value): AttemptResult => ({ kind: "returned", value }),
      (error: unknown): AttemptResult => ({ kind: "threw", error }),
    );
  if (timeoutSeconds === undefined) return outcome;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<AttemptResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timedOut" }), timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([outcome, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function createEventQueue(options: EventQueueOptions): EventQueue {
  const configs = new Map<string, EventInvokeConfig>();
  /** Held functions, with how many events wait on each; a release removes the entry at once. */
  const holds = new Map<string, { released: Promise<void>; release: () => void; parked: number }>();
  const wakers = new Set<() => void>();
  let driving = 0;
  let closed = false;
  let changed = deferred();

  function signal(): void {
    const previous = changed;
    changed = deferred();
    previous.resolve();
  }

  /** Waits `ms`; cut short by close(). */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  }

  function release(functionName: string): void {
    const hold = holds.get(functionName);
    holds.delete(functionName);
    hold?.release();
  }

  async function whileHeld(functionName: string): Promise<void> {
    for (let hold = holds.get(functionName); hold && !closed; hold = holds.get(functionName)) {
      hold.parked += 1;
      signal();
      await hold.released;
    }
  }

  async function drive(
    queued: QueuedEvent,
    attempt: () => Promise<FunctionErrorPayload | undefined>,
  ): Promise<EventOutcome | undefined> {
    const enqueuedAt = options.now();
    // Like Lambda's queue: the caller has its 202 before the function starts.
    await new Promise((resolve) => setImmediate(resolve));
    let attempts = 0;
    let lastError: FunctionErrorPayload | undefined;

    async function fail(condition: AsyncFailureCondition, config: EventInvokeConfig): Promise<EventOutcome> {
      const record: AsyncInvocationFailureRecord = {
        version: "1.0",
        timestamp: new Date(options.now()).toISOString(),
        requestContext: {
          requestId: queued.requestId,
          functionArn: `${queued.functionArn}:$LATEST`,
          condition,
          approximateInvokeCount: attempts,
        },
        requestPayload: queued.event,
        ...(lastError
          ? {
              responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
              responsePayload: lastError,
            }
          : {}),
      };
      if (!config.onFailure) return { condition, attempts, record };
      try {
        await config.onFailure(record);
        return { condition, attempts, record };
      } catch (error) {
        const destinationError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return { condition, attempts, record, destinationError };
      }
    }

    for (;;) {
      await whileHeld(queued.functionName);
      if (closed) return undefined;
      const config = configs.get(queued.functionName) ?? {};
      const maxAgeMs = (config.maximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS) * 1000;
      if (options.now() - enqueuedAt > maxAgeMs) return fail("EventAgeExceeded", config);
      attempts += 1;
      lastError = await attempt();
      if (!lastError) return { condition: "Success", attempts };
      if (attempts > (config.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS)) {
        return fail("RetriesExhausted", config);
      }
      await sleep(options.retryDelaysMs[Math.min(attempts, 2) - 1] ?? 0);
      if (closed) return undefined;
    }
  }

  return {
    configure(functionName, config) {
      checkEventInvokeConfig(config);
      configs.set(functionName, { ...config });
    },
    hold(functionName) {
      if (!holds.has(functionName)) {
        const { promise, resolve } = deferred();
        holds.set(functionName, { released: promise, release: resolve, parked: 0 });
      }
    },
    release,
    async enqueue(queued, attempt) {
      driving += 1;
      try {
        return await drive(queued, attempt);
      } finally {
        driving -= 1;
        signal();
      }
    },
    async idle() {
      const parked = () => [...holds.values()].reduce((sum, hold) => sum + hold.parked, 0);
      while (driving > parked()) await changed.promise;
    },
    close() {
      closed = true;
      for (const wake of [...wakers]) wake();
      for (const name of [...holds.keys()]) release(name);
    },
  };
}
