import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/**
 * The request id, which correlates every hop: minted once at a front door (a Slack request, an
 * alert, a schedule's tick), carried by the dispatched job, the signed `/execute` call, the
 * failed-request envelope and the vault record, and written on every log line and audit record.
 */
export interface RequestContext {
  requestId: string;
}

interface ContextStore {
  run<T>(context: RequestContext, fn: () => T): T;
  get(): RequestContext | undefined;
}

/** Any number of requests at once (the local server): each async chain keeps its own. */
function asyncLocalStore(): ContextStore {
  const storage = new AsyncLocalStorage<RequestContext>();
  return { run: (context, fn) => storage.run(context, fn), get: () => storage.getStore() };
}

/**
 * One request at a time (a Lambda container runs one invocation at a time): a plain variable, set
 * for `fn` and restored when it settles. On Node 20 AsyncLocalStorage turns on promise hooks for
 * every promise after its first `run`, which cost authenticate and execute 12–15 ms of their first
 * response (1.24× and 1.19× the cold start before it; bench/README.md §2). Work a previous
 * invocation left running (a drain's late completions) may log under the next one's id.
 */
function serialStore(): ContextStore {
  let current: RequestContext | undefined;
  return {
    run<T>(context: RequestContext, fn: () => T): T {
      const previous = current;
      current = context;
      let result: T;
      try {
        result = fn();
      } catch (error) {
        current = previous;
        throw error;
      }
      if (!(result instanceof Promise)) {
        current = previous;
        return result;
      }
      return result.finally(() => {
        current = previous;
      }) as T;
    },
    get: () => current,
  };
}

let store: ContextStore = asyncLocalStore();

/** For Lambda entries: one invocation at a time, so no AsyncLocalStorage (see `serialStore`). */
export function useOneRequestAtATime(): void {
  store = serialStore();
}

/** What an id from outside (a header, a body, a message property) must look like to be kept. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && REQUEST_ID_PATTERN.test(value);
}

/** A fresh id, for a request that arrives without one. */
export function newRequestId(): string {
  return randomUUID();
}

/** Runs `fn` with `context` as the current request: every log line written inside carries its id. */
export function withRequestContext<T>(context: RequestContext, fn: () => T): T {
  return store.run(context, fn);
}

/** The current request, when code runs inside `withRequestContext`. */
export function currentRequestContext(): RequestContext | undefined {
  return store.get();
}

/** The current request's id, when there is one. */
export function currentRequestId(): string | undefined {
  return store.get()?.requestId;
}
