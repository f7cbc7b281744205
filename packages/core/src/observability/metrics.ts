import { METRICS, type MetricName } from "./metric-names";

/** The dimensions a metric carries besides `Service` (metric-names.ts), by name. */
type ExtraDimension<N extends MetricName> = (typeof METRICS)[N]["dimensions"][number];

/** `add`'s last argument: the metric's extra dimensions, or nothing for a metric that has none. */
export type DimensionArgs<N extends MetricName> = [ExtraDimension<N>] extends [never]
  ? []
  : [dimensions: Record<ExtraDimension<N>, string>];

/** One value as it waits in the buffer. */
export interface MetricEntry {
  name: MetricName;
  value: number;
  /** The extra dimensions only (`Service` is the emitter's). */
  dimensions: Readonly<Record<string, string>>;
}

/**
 * Victoria's own metrics (the catalogue in metric-names.ts). Values wait in memory; `flush()`
 * writes them out (as CloudWatch Embedded Metric Format lines on stdout: no API call on the hot
 * path). Lambda entries flush once at the end of each invocation, the local server after each
 * request and job. Neither method throws: a metric must never fail the work it measures.
 */
export interface Metrics {
  add<N extends MetricName>(name: N, value: number, ...dimensions: DimensionArgs<N>): void;
  flush(): void;
}

/** For callers that were given no metrics (tests, the CLI). */
export const noMetrics: Metrics = { add: () => {}, flush: () => {} };

/** Runs `work`, then flushes whatever it added, also when it throws. */
export async function flushingAfter<T>(metrics: Metrics, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    metrics.flush();
  }
}

/** The unit and dimension keys of a metric, from the catalogue. */
export function metricDefinition(name: MetricName): (typeof METRICS)[MetricName] {
  return METRICS[name];
}
