// Polling the server's state. What to draw is passed in by main, so the parts that ask for a
// refresh do not import the renderers (no import cycles).

import { api } from "./api";
import { errorText } from "./dom";
import { clearPollNotice, showNotice } from "./notice";
import { currentUser } from "./page";
import type { WorkbenchState } from "./types";

export const POLL_MS = 700;

const polling = {
  inFlight: false,
  /** Someone asked for fresh state while a poll was running: poll again when it ends. */
  again: false,
  /** Last rendered JSON per part, so unchanged parts keep their DOM (hover, scroll, selection). */
  rendered: new Map<string, string>(),
  /** Draws a fresh state; main sets it before anything can poll. */
  render: (_state: WorkbenchState): void => {},
  /** Parts of the page waiting on what the server does next (a drain after an alert). */
  listeners: new Set<(state: WorkbenchState) => void>(),
};

/** Calls `listener` with every state drawn from now on, until the returned function is called. */
export function onState(listener: (state: WorkbenchState) => void): () => void {
  polling.listeners.add(listener);
  return () => polling.listeners.delete(listener);
}

/** The state as the server sees it now, for the person typing. */
export const fetchState = (user = currentUser()): Promise<WorkbenchState> =>
  api<WorkbenchState>(`/workbench/api/state?user=${encodeURIComponent(user)}`);

export function setStateRenderer(render: (state: WorkbenchState) => void): void {
  polling.render = render;
}

/** Forgets what is drawn, so the next poll redraws every part. */
export function forgetRendered(): void {
  polling.rendered.clear();
}

export function renderIfChanged<T>(part: string, data: T, render: (data: T) => void): void {
  const json = JSON.stringify(data);
  if (polling.rendered.get(part) === json) return;
  polling.rendered.set(part, json);
  render(data);
}

export async function poll(): Promise<void> {
  if (polling.inFlight) return;
  polling.inFlight = true;
  const user = currentUser();
  try {
    const state = await fetchState(user);
    // A poll started before a user switch describes the wrong person.
    if (user === currentUser()) {
      polling.render(state);
      for (const listener of [...polling.listeners]) listener(state);
    }
    clearPollNotice();
  } catch (error) {
    showNotice(errorText(error), true);
  } finally {
    polling.inFlight = false;
    if (polling.again) {
      polling.again = false;
      void poll();
    }
  }
}

export function refreshNow(): void {
  if (polling.inFlight) polling.again = true;
  else void poll();
}
