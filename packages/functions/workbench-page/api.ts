// The local server's JSON API, and how the page describes what it sent on the page's behalf.

import { asString, isObject } from "./dom";
import type { PostOutcome } from "./types";

/** Every request goes through here, so any failure is an Error carrying the server's `message`. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error(`Could not reach the local server (${path}). Is it still running?`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? {} : JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the best message we have.
  }
  if (!response.ok) {
    const message = isObject(parsed) ? asString(parsed.message) : undefined;
    throw new Error(message ?? `${path} answered ${response.status} ${response.statusText}`);
  }
  return parsed as T;
}

/** The "last request" line: what the server sent the app for the page, or why it sent nothing. */
export function describeOutcome(outcome: PostOutcome): string {
  if (outcome.notice !== undefined) return outcome.notice;
  if (outcome.sent === undefined) return "Posted to the channel (Slack sends the app nothing for plain chat)";
  const { route, kind, status } = outcome.sent;
  return `POST ${route} → ${status} (${kind})`;
}
