import { createEmfMetrics } from "./emf-metrics";
import { type EmfReading, readEmfLines } from "./emf-reader";
import type { Metrics } from "./metrics";

export interface MemoryMetrics extends Metrics {
  /** The EMF lines flushed so far. */
  readonly lines: string[];
  /** Flushes, then reads back every metric flushed so far (each line checked against the format). */
  readings(): EmfReading[];
}

/** The EMF adapter writing to memory, for tests: what they read is what stdout would have carried. */
export function createMemoryMetrics(service = "test"): MemoryMetrics {
  const lines: string[] = [];
  const metrics = createEmfMetrics({ service, write: (line) => lines.push(line) });
  return {
    add: metrics.add,
    flush: metrics.flush,
    lines,
    readings() {
      metrics.flush();
      return readEmfLines(lines);
    },
  };
}
