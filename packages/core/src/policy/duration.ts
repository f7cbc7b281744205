/**
 * Durations as operators write them in the policy: `30m`, `2h`, `1d`, or combined, `1h30m`.
 * Only these units: a bare number would leave the reader guessing between seconds and minutes.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(?:\d+[smhd])+$/;

/** Milliseconds of `30m`-style text, or `undefined` when it is not one. */
export function parseDuration(text: string): number | undefined {
  const compact = text.trim();
  if (!DURATION.test(compact)) return undefined;
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+)([smhd])/g)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  return total;
}

/** The shortest `1h30m`-style text for `ms` (whole seconds); `0s` for nothing. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000)) * 1000;
  let text = "";
  for (const unit of ["d", "h", "m", "s"] as const) {
    const amount = Math.floor(rest / UNIT_MS[unit]);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * UNIT_MS[unit];
  }
  return text || "0s";
}
