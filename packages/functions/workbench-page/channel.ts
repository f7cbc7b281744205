// The channel: the message list, and sending messages and button clicks to the app.

import { api, describeOutcome } from "./api";
import { type ButtonHandler, confirmAction, renderBlock } from "./block-kit";
import { asString, el, isObject, tsClock } from "./dom";
import { renderMrkdwn } from "./mrkdwn";
import { guarded } from "./notice";
import { currentUser, displayName, page } from "./page";
import { refreshNow } from "./polling";
import type { ChannelMessage, PostOutcome } from "./types";

export async function sendMessage(): Promise<void> {
  const text = page.composer.value;
  if (text.trim() === "") return;
  page.send.disabled = true;
  try {
    const outcome = await api<PostOutcome>("/workbench/api/messages", { user: currentUser(), text });
    page.composer.value = "";
    page.lastRequest.textContent = describeOutcome(outcome);
  } finally {
    page.send.disabled = false;
    refreshNow();
  }
}

/** A click on a message's button, after its confirm dialog if it has one. */
function buttonHandler(messageTs: string): ButtonHandler {
  return (button, node) =>
    void guarded(async () => {
      if (isObject(button.confirm) && !(await confirmAction(button.confirm))) return;
      node.disabled = true;
      try {
        const outcome = await api<PostOutcome>("/workbench/api/actions", {
          user: currentUser(),
          messageTs,
          actionId: asString(button.action_id) ?? "",
          value: asString(button.value),
        });
        page.lastRequest.textContent = describeOutcome(outcome);
      } finally {
        node.disabled = false;
        refreshNow();
      }
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
  const onButton = buttonHandler(message.ts);
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
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
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
  list.replaceChildren(...nodes);
  if (atBottom) list.scrollTop = list.scrollHeight;
}
