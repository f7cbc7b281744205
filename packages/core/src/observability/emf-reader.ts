import { EMF_MAX_METRICS, EMF_MAX_VALUES } from "./emf-lines";

/** One metric of one EMF document, as CloudWatch would extract it. */
export interface EmfReading {
  namespace: string;
  name: string;
  unit: string;
  values: number[];
  /** Every dimension value the document holds at its root (`Service`, `Plugin`, …). */
  dimensions: Record<string, string>;
  /** The dimension sets the metric is published under, e.g. `[["Service"], ["Service", "Plugin"]]`. */
  dimensionSets: string[][];
}

/** CloudWatch's units (the ones an EMF `Unit` may name). */
const UNITS = new Set([
  "Seconds",
  "Microseconds",
  "Milliseconds",
  "Bytes",
  "Kilobytes",
  "Megabytes",
  "Gigabytes",
  "Terabytes",
  "Bits",
  "Kilobits",
  "Megabits",
  "Gigabits",
  "Terabits",
  "Percent",
  "Count",
  "Bytes/Second",
  "Kilobytes/Second",
  "Megabytes/Second",
  "Gigabytes/Second",
  "Terabytes/Second",
  "Bits/Second",
  "Kilobits/Second",
  "Megabits/Second",
  "Gigabits/Second",
  "Terabits/Second",
  "Count/Second",
  "None",
]);

function fail(message: string, line: string): never {
  throw new Error(`Invalid EMF line (${message}): ${line.slice(0, 300)}`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads one log line: undefined when it is not an EMF document (a log line), its metrics when it
 * is, and an error naming the rule when it claims to be one (`_aws`) but breaks the specification
 * in a way CloudWatch would reject or silently drop. Text before the first `{` (a twin's
 * `[Worker] ` prefix) is skipped.
 */
export function readEmfLine(line: string): EmfReading[] | undefined {
  const start = line.indexOf("{");
  if (start < 0) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  if (!isObject(document) || !("_aws" in document)) return undefined;
  const aws = document._aws;
  if (!isObject(aws)) fail("_aws is not an object", line);
  const timestamp = aws.Timestamp;
  // Milliseconds since the epoch: seconds would be a date in 1970.
  if (typeof timestamp !== "number" || !Number.isInteger(timestamp) || timestamp < 1e12)
    fail("_aws.Timestamp is not epoch milliseconds", line);
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) fail("no CloudWatchMetrics directive", line);
  const readings: EmfReading[] = [];
  for (const directive of directives) {
    if (!isObject(directive)) fail("a directive is not an object", line);
    const { Namespace: namespace, Dimensions: sets, Metrics: metrics } = directive;
    if (typeof namespace !== "string" || namespace === "") fail("Namespace missing", line);
    if (!Array.isArray(sets)) fail("Dimensions is not an array", line);
    const dimensions: Record<string, string> = {};
    for (const set of sets) {
      if (!Array.isArray(set) || set.length > 30) fail("a dimension set is not an array of ≤30 keys", line);
      for (const key of set) {
        const value = typeof key === "string" ? document[key] : undefined;
        if (typeof value !== "string" || value === "")
          fail(`dimension ${String(key)} has no string value`, line);
        dimensions[key as string] = value;
      }
    }
    if (!Array.isArray(metrics) || metrics.length > EMF_MAX_METRICS)
      fail(`Metrics is not an array of ≤${EMF_MAX_METRICS}`, line);
    for (const metric of metrics) {
      if (!isObject(metric) || typeof metric.Name !== "string") fail("a metric has no Name", line);
      const unit = metric.Unit ?? "None";
      if (typeof unit !== "string" || !UNITS.has(unit))
        fail(`unit ${String(unit)} is not CloudWatch's`, line);
      const raw = document[metric.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.length === 0 || values.length > EMF_MAX_VALUES)
        fail(`${metric.Name} has no value or more than ${EMF_MAX_VALUES}`, line);
      if (!values.every((v) => typeof v === "number" && Number.isFinite(v)))
        fail(`${metric.Name} is not a number or an array of numbers`, line);
      readings.push({
        namespace,
        name: metric.Name,
        unit,
        values: values as number[],
        dimensions: { ...dimensions },
        dimensionSets: (sets as string[][]).map((set) => [...set]),
      });
    }
  }
  return readings;
}

/** Every metric in these lines (log lines and other output skipped); throws on a malformed EMF line. */
export function readEmfLines(lines: Iterable<string>): EmfReading[] {
  const readings: EmfReading[] = [];
  for (const chunk of lines)
    for (const line of chunk.split("\n")) readings.push(...(readEmfLine(line) ?? []));
  return readings;
}

/** The values of one metric, optionally only where the given dimensions match. */
export function valuesOf(
  readings: readonly EmfReading[],
  name: string,
  where: Record<string, string> = {},
): number[] {
  return readings
    .filter((r) => r.name === name && Object.entries(where).every(([k, v]) => r.dimensions[k] === v))
    .flatMap((r) => r.values);
}

/** Their sum (a count's total); 0 when there are none. */
export function sumOf(
  readings: readonly EmfReading[],
  name: string,
  where: Record<string, string> = {},
): number {
  return valuesOf(readings, name, where).reduce((a, b) => a + b, 0);
}
