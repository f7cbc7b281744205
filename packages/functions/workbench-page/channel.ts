// The channel: the message list, and sending messages and button clicks to the app.

import { api, describeOutcome } from "./api";
import { type ButtonHandler, confirmAction, renderBlock } from "./block-kit";
import { setBusy, whileBusy } from "./busy";
import { asString, compactJson, el, isObject, tsClock } from "./dom";
import { renderMrkdwn } from "./mrkdwn";
import { guarded, showNotice } from "./notice";
import { currentUser, displayName, page } from "./page";
import { refreshNow } from "./polling";
import type { ChannelMessage, PostOutcome } from "./types";

/** Where the list is scrolled, and what the person has already been shown. */
const view = {
  /** Timestamps of the messages drawn so far; undefined until the first draw (nothing is "new" then). */
  seen: undefined as Set<string> | undefined,
  /** The person just sent something: keep the list at the bottom whatever arrives meanwhile. */
  followOwn: false,
  /** At the bottom as of the last scroll: kept there when the list is resized. */
  stuck: true,
};

const NEAR_BOTTOM_PX = 40;
const isNearBottom = (list: HTMLElement): boolean =>
  list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;

export function scrollToBottom(): void {
  page.channel.scrollTop = page.channel.scrollHeight;
  page.newMessages.hidden = true;
  view.stuck = true;
}

/** Forgets what was shown (another person is typing now): their channel is drawn afresh. */
export function forgetSeen(): void {
  view.seen = undefined;
  page.newMessages.hidden = true;
}

export function wireChannelScroll(): void {
  const list = page.channel;
  /** The list's size as the resize observer last saw it. */
  let size = "";
  const sizeNow = () => `${list.clientWidth}x${list.clientHeight}`;
  page.newMessages.addEventListener("click", scrollToBottom);
  list.addEventListener("scroll", () => {
    // A resize rewraps the list, and the browser's scroll anchoring then scrolls it before the
    // observer below runs: that scroll is not the person leaving the bottom, so it must not unstick.
    if (sizeNow() !== size) return;
    view.stuck = isNearBottom(list);
    if (view.stuck) page.newMessages.hidden = true;
  });
  // A narrower list (panels opened, window resized) wraps taller: one read to the end stays there.
  new ResizeObserver(() => {
    size = sizeNow();
    if (view.stuck) list.scrollTop = list.scrollHeight;
  }).observe(list);
}

export async function sendMessage(): Promise<void> {
  const text = page.composer.value;
  // Enter still submits the form while the button is busy (or disabled for want of a channel).
  if (text.trim() === "" || page.send.disabled) return;
  // Set before the request: the poll may draw the person's message before the request answers.
  view.followOwn = true;
  try {
    const outcome = await whileBusy(page.send, "Sending…", () =>
      api<PostOutcome>("/workbench/api/messages", { user: currentUser(), text }),
    );
    page.composer.value = "";
    page.lastRequest.textContent = describeOutcome(outcome);
    scrollToBottom();
  } finally {
    view.followOwn = false;
    refreshNow();
  }
}

// ---------------------------------------------------------------------------------------------
// Button clicks. The channel is redrawn whenever a message changes (every poll may do it), so a
// clicked button's pending state lives here and is put back on the button each time it is drawn.

interface PendingClick {
  messageTs: string;
  actionId: string;
  value: string | undefined;
  label: string;
  /** The message as it was when clicked: when it changes, the app has done what was asked. */
  messageJson: string;
  /** Set once the app answered; then the click is pending only until the message changes. */
  answered: boolean;
}

const pendingClicks = new Map<string, PendingClick>();
/** After the app's answer, how long a button stays busy waiting for its message to change. */
const ANSWERED_GRACE_MS = 2_000;

const BUSY_LABELS: Record<string, string> = {
  deadletter_replay: "Replaying…",
  deadletter_replay_all: "Replaying all…",
  deadletter_delete: "Deleting…",
  deadletter_delete_all: "Deleting all…",
  deadletter_email: "Opening…",
};

const clickKey = (messageTs: string, actionId: string, value: string | undefined): string =>
  JSON.stringify([messageTs, actionId, value ?? null]);

/** The drawn buttons a pending click stands for (matched in code: ids and values are data). */
function clickedButtons(click: PendingClick): HTMLButtonElement[] {
  const message = [...page.channel.querySelectorAll<HTMLElement>(".message")].find(
    (node) => node.dataset.ts === click.messageTs,
  );
  if (message === undefined) return [];
  return [...message.querySelectorAll<HTMLButtonElement>("button[data-action-id]")].filter(
    (button) => button.dataset.actionId === click.actionId && button.dataset.value === click.value,
  );
}

function settleClick(key: string): void {
  const click = pendingClicks.get(key);
  if (click === undefined) return;
  pendingClicks.delete(key);
  for (const button of clickedButtons(click)) setBusy(button, undefined);
}

/** After a redraw: drops clicks whose message changed since, and marks the others' buttons busy again. */
function reapplyPendingClicks(messages: ChannelMessage[]): void {
  const byTs = new Map(messages.map((message) => [message.ts, message]));
  for (const [key, click] of pendingClicks) {
    const message = byTs.get(click.messageTs);
    if (click.answered && (message === undefined || JSON.stringify(message) !== click.messageJson)) {
      pendingClicks.delete(key);
      continue;
    }
    for (const button of clickedButtons(click)) setBusy(button, click.label);
  }
}

/** A click on a message's button, after its confirm dialog if it has one. */
function buttonHandler(message: ChannelMessage): ButtonHandler {
  return (button, node) =>
    void guarded(async () => {
      if (isObject(button.confirm) && !(await confirmAction(button.confirm))) return;
      const actionId = asString(button.action_id) ?? "";
      const value = asString(button.value);
      const key = clickKey(message.ts, actionId, value);
      if (pendingClicks.has(key)) return;
      const click: PendingClick = {
        messageTs: message.ts,
        actionId,
        value,
        label: BUSY_LABELS[actionId] ?? `${node.textContent ?? ""}…`,
        messageJson: JSON.stringify(message),
        answered: false,
      };
      pendingClicks.set(key, click);
      setBusy(node, click.label);
      let outcome: PostOutcome;
      try {
        outcome = await api<PostOutcome>("/workbench/api/actions", {
          user: currentUser(),
          messageTs: message.ts,
          actionId,
          value,
        });
      } catch (error) {
        settleClick(key);
        throw error;
      } finally {
        refreshNow();
      }
      page.lastRequest.textContent = describeOutcome(outcome);
      const status = outcome.sent?.status;
      if (status === undefined || status >= 300) {
        // Nothing will change the message: give the button back and say what the app answered.
        settleClick(key);
        if (outcome.sent !== undefined)
          showNotice(`The app answered ${outcome.sent.status}: ${compactJson(outcome.sent.response)}`);
        return;
      }
      click.answered = true;
      // The app's chat.update normally lands within a poll or two; a button whose click changes
      // nothing in the message (Email opens a modal) is given back after a moment.
      window.setTimeout(() => {
        if (pendingClicks.get(key) === click) settleClick(key);
      }, ANSWERED_GRACE_MS);
    });
}

const authorName = (message: ChannelMessage): string =>
  message.author === undefined ? (page.config?.bot.name ?? "victoria") : displayName(message.author);

function avatar(message: ChannelMessage): HTMLElement {
  const kind = message.author === undefined ? "avatar bot" : "avatar";
  return el("div", { class: kind, "aria-hidden": "true" }, authorName(message).charAt(0).toUpperCase());
}

function messageMeta(message: ChannelMessage, isReply: boolean): HTMLElement {
  const bot = message.author === undefined;
  return el(
    "div",
    { class: "message-meta" },
    el("span", { class: "author" }, authorName(message)),
    bot && el("span", { class: "app-badge" }, "APP"),
    el("span", { class: "small", title: message.ts }, tsClock(message.ts)),
    message.edited && el("span", { class: "small" }, "(edited)"),
    isReply && el("span", { class: "small" }, "↳ thread"),
  );
}

function fileCard(file: { name: string; title: string; preview: string }): HTMLElement {
  return el(
    "div",
    { class: "file-card" },
    el("div", { class: "file-title" }, file.title),
    file.name !== file.title && el("div", { class: "small" }, file.name),
    el("pre", { class: "file-preview" }, file.preview),
  );
}

function renderMessage(message: ChannelMessage, isReply: boolean): HTMLElement {
  const onButton = buttonHandler(message);
  const content =
    message.blocks !== undefined && message.blocks.length > 0
      ? el("div", { class: "blocks" }, ...message.blocks.map((block) => renderBlock(block, onButton)))
      : renderMrkdwn(message.text ?? "");
  return el(
    "div",
    {
      class: isReply ? "message reply" : "message",
      "data-testid": "message",
      "data-ts": message.ts,
      "data-author": message.author ?? "bot",
      "data-ephemeral": message.ephemeral && "true",
      "data-thread-ts": isReply ? message.threadTs : undefined,
    },
    avatar(message),
    el(
      "div",
      { class: "message-body" },
      messageMeta(message, isReply),
      message.ephemeral && el("div", { class: "small" }, "👁 Only visible to you"),
      content,
      ...(message.files ?? []).map(fileCard),
    ),
  );
}

/** Top-level messages in order, each followed by its thread replies; orphaned replies stay in place. */
export function renderChannel(messages: ChannelMessage[]): void {
  const list = page.channel;
  const follow = view.followOwn || isNearBottom(list);
  const firstDraw = view.seen === undefined;
  const seen = view.seen ?? new Set<string>();
  const arrived = messages.filter((message) => !seen.has(message.ts));
  view.seen = new Set(messages.map((message) => message.ts));
  const present = new Set(messages.map((message) => message.ts));
  const isReply = (m: ChannelMessage) =>
    m.threadTs !== undefined && m.threadTs !== m.ts && present.has(m.threadTs);
  const nodes: HTMLElement[] = [];
  for (const message of messages) {
    if (isReply(message)) continue;
    nodes.push(renderMessage(message, false));
    for (const reply of messages.filter((m) => isReply(m) && m.threadTs === message.ts)) {
      nodes.push(renderMessage(reply, true));
    }
  }
  if (nodes.length === 0) {
    nodes.push(
      el("div", { class: "empty" }, "No messages yet. Try /victoria config view or @victoria help."),
    );
  }
  const { scrollTop } = list;
  list.replaceChildren(...nodes);
  reapplyPendingClicks(messages);
  if (firstDraw || follow) {
    scrollToBottom();
  } else {
    // Scrolled up to read: stay there, and say that something came in below.
    list.scrollTop = scrollTop;
    if (arrived.length > 0) page.newMessages.hidden = false;
  }
}
