/**
 * Values as `sst.config.ts` declares them, before anything is deployed: plain text, an output of a
 * component (`worker.name`, `vault.arn`), or text `$interpolate`d from both. All plain data, so a
 * declared value crosses threads and processes as it is and reads the same in JSON.
 */

/** An output of a component: `{component: "Vault", property: "name"}` for `vault.name`. */
export interface TwinRef {
  readonly component: string;
  readonly property: string;
}

/** Text built by `$interpolate` / `$concat`: literal text and component outputs, in order. */
export interface Interpolation {
  readonly parts: readonly (string | TwinRef)[];
}

/** A declared value: plain text, an output of a component, or text interpolated from both. */
export type DeclaredValue = string | TwinRef | Interpolation;

/**
 * The component itself passed as a value (`sst.aws.CronV2({function: retryFailedRequests})`), as
 * opposed to one of its outputs: `{component: "RetryFailedRequests", kind: "sst.aws.Function"}`.
 */
export interface ComponentRef {
  readonly component: string;
  readonly kind: string;
}

function hasExactKeys(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => own.includes(key));
}

export function isTwinRef(value: unknown): value is TwinRef {
  return (
    hasExactKeys(value, ["component", "property"]) &&
    typeof value.component === "string" &&
    typeof value.property === "string"
  );
}

export function isInterpolation(value: unknown): value is Interpolation {
  return (
    hasExactKeys(value, ["parts"]) &&
    Array.isArray(value.parts) &&
    value.parts.every((part) => typeof part === "string" || isTwinRef(part))
  );
}

export function isComponentRef(value: unknown): value is ComponentRef {
  return (
    hasExactKeys(value, ["component", "kind"]) &&
    typeof value.component === "string" &&
    typeof value.kind === "string"
  );
}

export function isDeclaredValue(value: unknown): value is DeclaredValue {
  return typeof value === "string" || isTwinRef(value) || isInterpolation(value);
}

/** Turns a declared value into text, asking `resolve(ref)` for each component output. */
export function resolveValue(value: DeclaredValue, resolve: (ref: TwinRef) => string): string {
  if (typeof value === "string") return value;
  if (isTwinRef(value)) return resolve(value);
  return value.parts.map((part) => (typeof part === "string" ? part : resolve(part))).join("");
}

/** A declared value as readable text: outputs shown as `{Component.property}`. */
export function describeValue(value: DeclaredValue): string {
  return resolveValue(value, (ref) => `{${ref.component}.${ref.property}}`);
}

/** The component outputs a declared value depends on, in order. */
export function refsOf(value: DeclaredValue): TwinRef[] {
  if (typeof value === "string") return [];
  if (isTwinRef(value)) return [value];
  return value.parts.filter((part): part is TwinRef => typeof part !== "string");
}
