import { parseDuration } from "../policy/duration";
import { MAX_BULK_RATE, MAX_CANARY } from "./bulk-job";

/**
 * The filter's typed-in values as a person writes them, read the same way by the command's flags
 * (`--since 2h`, `--where k=v`) and the Slack bulk dialog's fields. Pure: each caller words its own
 * refusal (a usage error, a field error).
 */

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `2h` → two hours before `now`; an ISO-8601 time as itself (normalised); anything else undefined. */
export function parseInstant(value: string, now: Date): string | undefined {
  const ago = parseDuration(value);
  if (ago !== undefined) return new Date(now.getTime() - ago).toISOString();
  const at = ISO_INSTANT.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

/** `KEY=VALUE` split at the first `=` (values may hold more); undefined without a key. */
export function parseWherePair(pair: string): { key: string; value: string } | undefined {
  const eq = pair.indexOf("=");
  return eq <= 0 ? undefined : { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
}

/** `20` or `20/s`, from just above 0 to `MAX_BULK_RATE` per second; undefined otherwise. */
export function parseBulkRate(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  const rate = match ? Number(match[1]) : Number.NaN;
  return rate > 0 && rate <= MAX_BULK_RATE ? rate : undefined;
}

/** A whole number of canaries from 1 to `MAX_CANARY`; undefined otherwise. */
export function parseCanary(text: string): number | undefined {
  const canary = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  return canary >= 1 && canary <= MAX_CANARY ? canary : undefined;
}
