// The notice banner: where failures are shown.

import { errorText, find } from "./dom";
import { page } from "./page";

/** Whether the notice came from polling: a later good poll clears it, but not an action's error. */
let noticeFromPoll = false;

export function showNotice(text: string, fromPoll = false): void {
  find(".notice-text", HTMLSpanElement, page.notice).textContent = text;
  page.notice.hidden = false;
  noticeFromPoll = fromPoll;
}

export function clearPollNotice(): void {
  if (noticeFromPoll) page.notice.hidden = true;
  noticeFromPoll = false;
}

/** Runs a user-triggered task; any failure lands in the notice banner. */
export async function guarded(task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch (error) {
    showNotice(errorText(error));
  }
}
