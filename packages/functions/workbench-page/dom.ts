// DOM and value helpers. All data (messages, vault bodies, audit output) is untrusted text:
// the DOM is built with createElement/textContent only, never innerHTML.

import type { Json } from "./types";

type Child = Node | string | null | undefined | false;

/** createElement with attributes and children; `undefined`/`false` attributes are left off. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** The element matching `selector`, checked to be of the expected kind: a missing one is a page bug. */
export function find<T extends Element>(selector: string, type: new () => T, root: ParentNode = document): T {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`The page has no ${type.name} matching ${selector}`);
  return found;
}

export const byTestId = <T extends Element>(
  testId: string,
  type: new () => T,
  root: ParentNode = document,
): T => find(`[data-testid="${testId}"]`, type, root);

export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
export const asString = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;
export const asObjects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const pad = (n: number): string => String(n).padStart(2, "0");
const clock = (date: Date): string =>
  Number.isNaN(date.getTime())
    ? "?"
    : `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
/** Slack timestamps are "seconds.micros". */
export const tsClock = (ts: string): string => clock(new Date(Number(ts) * 1000));
export const isoClock = (iso: string): string => clock(new Date(iso));

/** A short, single-line JSON rendering for result lines. */
export function compactJson(value: unknown, max = 300): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
