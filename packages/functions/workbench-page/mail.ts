// The Mail panel: what the SMTP stand-in received (the Email button's mail), newest first.
// Mail is not part of the state poll: it changes seldom and its bodies are the largest thing the
// page reads, so it is polled on its own, slower cadence.

import { api } from "./api";
import { byTestId, el, errorText, find, isoClock } from "./dom";
import { renderIfChanged } from "./polling";
import type { MailAttachment, MailMessage, MailState } from "./types";

/** A mail is sent a moment after the modal is submitted: two seconds is soon enough to see it. */
export const MAIL_POLL_MS = 2_000;

const mail = {
  inFlight: false,
  /** The last answer, kept on screen when a later poll fails. */
  last: undefined as MailState | undefined,
  /** Mails the person opened, by their number in arrival order, so a redraw keeps them open. */
  open: new Set<number>(),
};

interface MailView {
  state?: MailState;
  error?: string;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function attachmentItem(attachment: MailAttachment): HTMLElement {
  return el(
    "li",
    { "data-testid": "mail-attachment" },
    el("span", { class: "mail-attachment-name" }, attachment.filename || "(unnamed)"),
    el("span", { class: "small" }, ` ${formatSize(attachment.size)} · ${attachment.contentType}`),
  );
}

function mailItem(message: MailMessage, number: number): HTMLElement {
  const to = message.to.join(", ");
  const details = el(
    "details",
    { class: "mail", "data-testid": "mail-message", open: mail.open.has(number) },
    el(
      "summary",
      {},
      el("span", { class: "mail-subject" }, message.subject || "(no subject)"),
      el("span", { class: "small", title: message.date }, ` ${isoClock(message.date)}`),
      el("span", { class: "small mail-route" }, `${message.from} → ${to}`),
    ),
    el(
      "dl",
      { class: "mail-headers small" },
      el("dt", {}, "From"),
      el("dd", { "data-testid": "mail-from" }, message.from),
      el("dt", {}, "To"),
      el("dd", { "data-testid": "mail-to" }, to),
      el("dt", {}, "Date"),
      el("dd", {}, message.date),
    ),
    el("pre", { class: "mail-text", "data-testid": "mail-text" }, message.text || "(no text part)"),
    message.attachments.length > 0 &&
      el("ul", { class: "mail-attachments" }, ...message.attachments.map(attachmentItem)),
  );
  details.addEventListener("toggle", () => {
    if (details.open) mail.open.add(number);
    else mail.open.delete(number);
  });
  return details;
}

function renderMail({ state, error }: MailView): void {
  const body = find(".panel-body", HTMLDivElement, byTestId("mail", HTMLElement));
  const parts: Array<HTMLElement | false> = [error !== undefined && el("p", { class: "panel-error" }, error)];
  if (state !== undefined && !state.available) {
    parts.push(el("p", { class: "small" }, state.reason ?? "Mail is not shown here."));
  } else if (state !== undefined) {
    const total = state.total ?? state.messages.length;
    if (state.messages.length === 0) {
      parts.push(
        el("p", { class: "small" }, "No mail yet. Email a dead letter from its notification to see it here."),
      );
    }
    // Newest first: the first shown is the total-th received, which numbers stay put as mail arrives.
    parts.push(...state.messages.map((message, index) => mailItem(message, total - index)));
    if (total > state.messages.length) {
      parts.push(el("div", { class: "small" }, `The newest ${state.messages.length} of ${total}.`));
    }
  }
  body.replaceChildren(...parts.filter((part) => part !== false));
}

export async function pollMail(): Promise<void> {
  if (mail.inFlight) return;
  mail.inFlight = true;
  try {
    mail.last = await api<MailState>("/workbench/api/mail");
    renderIfChanged<MailView>("mail", { state: mail.last }, renderMail);
  } catch (error) {
    // Said in the panel, not the notice banner: the state poll owns that for the server going away.
    renderIfChanged<MailView>(
      "mail",
      { ...(mail.last === undefined ? {} : { state: mail.last }), error: errorText(error) },
      renderMail,
    );
  } finally {
    mail.inFlight = false;
  }
}

export function startMailPolling(): void {
  void pollMail();
  window.setInterval(() => void pollMail(), MAIL_POLL_MS);
}
