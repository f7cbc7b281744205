/** Small statistics for benchmark reports: medians, ranges and percentiles of plain samples. */

export function sorted(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b);
}

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const ordered = sorted(samples);
  const rank = Math.ceil((p / 100) * ordered.length);
  return ordered[Math.min(ordered.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const ordered = sorted(samples);
  const middle = Math.floor(ordered.length / 2);
  return ordered.length % 2 === 1
    ? (ordered[middle] as number)
    : ((ordered[middle - 1] as number) + (ordered[middle] as number)) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  const ordered = sorted(samples);
  return {
    median: median(ordered),
    min: ordered[0] ?? Number.NaN,
    max: ordered.at(-1) ?? Number.NaN,
    n: ordered.length,
  };
}

/** `12.3 (10.1–15.0)`: a median and its range, for tables. */
export function formatSummary(summary: Summary, digits = 1): string {
  return `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`;
}

/** Renders rows as a GitHub-flavoured Markdown table, for pasting into bench/README.md. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Whether `taskset` can pin processes here (Linux with util-linux); benches fall back to unpinned. */
export function pinned(core: number, command: string, args: readonly string[]): [string, string[]] {
  return process.platform === "linux"
    ? ["taskset", ["-c", String(core), command, ...args]]
    : [command, [...args]];
}
