import { METRICS, METRICS_NAMESPACE, SERVICE_DIMENSION } from "./metric-names";
import type { MetricEntry } from "./metrics";

/** CloudWatch's limits for one EMF document: metrics per directive, values per metric. */
export const EMF_MAX_METRICS = 100;
export const EMF_MAX_VALUES = 100;

export interface EmfOptions {
  /** The emitting function (`authenticate`, `worker`, …) or `local`. */
  service: string;
  /** Milliseconds since the epoch (`_aws.Timestamp`). */
  timestamp: number;
  namespace?: string;
}

/** Splits `items` into runs of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The entries as CloudWatch Embedded Metric Format documents, one JSON line each
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Entries with the same dimension values share a document (a document has one value per
 * dimension key); a metric's repeated values become an array. A metric with extra dimensions is
 * published under two dimension sets, `[Service]` and `[Service, …extra]`, so an alarm can watch
 * the Service-only total while the breakdown exists too.
 */
export function emfLines(entries: readonly MetricEntry[], options: EmfOptions): string[] {
  const groups = new Map<string, { dimensions: Record<string, string>; values: Map<string, number[]> }>();
  for (const entry of entries) {
    const keys = Object.keys(entry.dimensions).sort();
    const key = JSON.stringify(keys.map((k) => [k, entry.dimensions[k]]));
    let group = groups.get(key);
    if (!group) {
      group = { dimensions: { ...entry.dimensions }, values: new Map() };
      groups.set(key, group);
    }
    const values = group.values.get(entry.name) ?? [];
    values.push(entry.value);
    group.values.set(entry.name, values);
  }
  const lines: string[] = [];
  for (const { dimensions, values } of groups.values()) {
    const extra = Object.keys(dimensions).sort();
    const dimensionSets =
      extra.length > 0 ? [[SERVICE_DIMENSION], [SERVICE_DIMENSION, ...extra]] : [[SERVICE_DIMENSION]];
    // Document k holds the k-th run of ≤100 values of every metric, ≤100 metrics at a time.
    const runs = [...values].map(([name, all]) => ({ name, runs: chunks(all, EMF_MAX_VALUES) }));
    const rounds = Math.max(...runs.map((r) => r.runs.length));
    for (let round = 0; round < rounds; round++) {
      const present = runs.filter((r) => r.runs[round] !== undefined);
      for (const batch of chunks(present, EMF_MAX_METRICS)) {
        const document: Record<string, unknown> = {
          _aws: {
            Timestamp: options.timestamp,
            CloudWatchMetrics: [
              {
                Namespace: options.namespace ?? METRICS_NAMESPACE,
                Dimensions: dimensionSets,
                Metrics: batch.map(({ name }) => ({
                  Name: name,
                  Unit: METRICS[name as keyof typeof METRICS].unit,
                })),
              },
            ],
          },
          [SERVICE_DIMENSION]: options.service,
          ...dimensions,
        };
        for (const { name, runs: metricRuns } of batch) {
          const run = metricRuns[round] as number[];
          document[name] = run.length === 1 ? run[0] : run;
        }
        lines.push(JSON.stringify(document));
      }
    }
  }
  return lines;
}
