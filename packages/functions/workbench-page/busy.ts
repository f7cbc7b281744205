// Pending state for a button whose request takes a moment: without it nothing changes for the
// 150–300 ms a round trip through the app takes, and people click again.

/**
 * Marks `button` busy (disabled, relabelled, aria-busy) with `label`, or idle again with
 * `label === undefined`. The idle label is kept on the element, so marking a node busy twice, or
 * restoring a node that was redrawn busy, comes back to the right text.
 */
export function setBusy(button: HTMLButtonElement, label: string | undefined): void {
  if (label !== undefined) {
    if (button.dataset.idleLabel === undefined) {
      button.dataset.idleLabel = button.textContent ?? "";
      // Keeps the button's width, so "Send" → "Sending…" does not push its neighbours around.
      if (button.offsetWidth > 0) button.style.minWidth = `${button.offsetWidth}px`;
    }
    button.textContent = label;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    return;
  }
  if (button.dataset.idleLabel !== undefined) button.textContent = button.dataset.idleLabel;
  delete button.dataset.idleLabel;
  button.style.minWidth = "";
  button.disabled = false;
  button.removeAttribute("aria-busy");
}

/** Runs `task` with `button` busy; restores it however the task ends (an error is the caller's to show). */
export async function whileBusy<T>(
  button: HTMLButtonElement,
  label: string,
  task: () => Promise<T>,
): Promise<T> {
  setBusy(button, label);
  try {
    return await task();
  } finally {
    setBusy(button, undefined);
  }
}
