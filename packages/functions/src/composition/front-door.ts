import type { DedupeStore } from "@victoria/core/idempotency/dedupe-store";
import type { Logger } from "@victoria/core/logging/json-logger";
import type { Metrics } from "@victoria/core/observability/metrics";
import type { Dispatcher } from "@victoria/core/ports";
import type { Env } from "../settings";

/**
 * What a runtime chooses for a front door (authenticate, listener, resolve): how jobs leave it
 * (in-process locally, an asynchronous Lambda invoke on AWS) and where deliveries are remembered.
 */
export interface FrontDoorComposition {
  env: Env;
  logger: Logger;
  /** The runtime's metrics (EMF on stdout, `Service` = the function or `local`). */
  metrics: Metrics;
  /** `timeoutMs`: how long the hand-off may take before the caller is answered with an error. */
  dispatcher: (options: { timeoutMs: number }) => Dispatcher;
}

export interface DedupingFrontDoorComposition extends FrontDoorComposition {
  dedupe: () => DedupeStore;
}

/** Slack answers within 3 s or retries: the hand-off gets one second of it. */
export const SLACK_HAND_OFF_TIMEOUT_MS = 1_000;
/** Azure waits longer for a webhook; a drain hand-off gets two seconds. */
export const ALERT_HAND_OFF_TIMEOUT_MS = 2_000;
