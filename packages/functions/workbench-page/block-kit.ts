// Block Kit: blocks, their elements and buttons, and the confirm dialog a button may ask for.

import { asObjects, asString, byTestId, el, find, isObject } from "./dom";
import { EMOJI, emojify, renderMrkdwn } from "./mrkdwn";
import { displayName, page } from "./page";
import type { Json } from "./types";

export type ButtonHandler = (button: Json, node: HTMLButtonElement) => void;

/** A composition text object: mrkdwn is formatted, plain_text only gets its emoji. */
export function renderText(text: unknown): Node {
  if (!isObject(text)) return document.createTextNode("");
  const value = asString(text.text) ?? "";
  return text.type === "mrkdwn" ? renderMrkdwn(value) : document.createTextNode(emojify(value));
}

export const plainText = (text: unknown): string =>
  isObject(text) ? emojify(asString(text.text) ?? "") : "";

export const unsupported = (what: string): HTMLElement =>
  el("div", { class: "unsupported" }, `[unsupported ${what}]`);

function renderButton(button: Json, onButton?: ButtonHandler): HTMLButtonElement {
  const style = asString(button.style);
  const node = el(
    "button",
    {
      type: "button",
      class: style === "primary" || style === "danger" ? `sl-button ${style}` : "sl-button",
      "data-action-id": asString(button.action_id) ?? "",
      "data-value": asString(button.value),
    },
    plainText(button.text),
  );
  if (onButton === undefined) node.disabled = true;
  else node.addEventListener("click", () => onButton(button, node));
  return node;
}

/** An element inside a section accessory, context or actions block. */
function renderElement(element: Json, onButton?: ButtonHandler): Node {
  switch (element.type) {
    case "button":
      return renderButton(element, onButton);
    case "image":
      return el("span", { class: "image-alt" }, `[${asString(element.alt_text) ?? "image"}]`);
    case "mrkdwn":
    case "plain_text":
      return renderText(element);
    default:
      return unsupported(`element: ${String(element.type)}`);
  }
}

function renderSection(block: Json, onButton?: ButtonHandler): HTMLElement {
  const fields = asObjects(block.fields);
  const accessory = isObject(block.accessory) ? block.accessory : undefined;
  return el(
    "div",
    { class: "block-section" },
    el(
      "div",
      { class: "section-main" },
      block.text !== undefined && renderText(block.text),
      fields.length > 0 && el("div", { class: "section-fields" }, ...fields.map(renderText)),
    ),
    accessory !== undefined && el("div", { class: "section-accessory" }, renderElement(accessory, onButton)),
  );
}

/** rich_text shown as its plain text: enough to read what the app said. */
function richTextPlain(node: Json): string {
  switch (node.type) {
    case "text":
      return asString(node.text) ?? "";
    case "link":
      return asString(node.text) ?? asString(node.url) ?? "";
    case "user":
      return `@${displayName(asString(node.user_id) ?? "")}`;
    case "channel":
      return `#${asString(node.channel_id) ?? ""}`;
    case "broadcast":
      return `@${asString(node.range) ?? ""}`;
    case "emoji": {
      const name = asString(node.name) ?? "";
      return EMOJI[name] ?? `:${name}:`;
    }
    case "rich_text_list":
      return asObjects(node.elements)
        .map((item) => `• ${richTextPlain(item)}`)
        .join("\n");
    case "rich_text":
      return asObjects(node.elements).map(richTextPlain).join("\n");
    default:
      return asObjects(node.elements).map(richTextPlain).join("");
  }
}

export function renderBlock(block: Json, onButton?: ButtonHandler): Node {
  const elements = asObjects(block.elements);
  switch (block.type) {
    case "header":
      return el("div", { class: "block-header" }, plainText(block.text));
    case "section":
      return renderSection(block, onButton);
    case "context":
      return el("div", { class: "block-context" }, ...elements.map((element) => renderElement(element)));
    case "divider":
      return el("hr", { class: "block-divider" });
    case "actions":
      return el(
        "div",
        { class: "block-actions" },
        ...elements.map((element) => renderElement(element, onButton)),
      );
    case "rich_text":
      return el("div", { class: "block-rich-text" }, richTextPlain(block));
    case "image":
      return el("div", { class: "block-context" }, `[image: ${asString(block.alt_text) ?? ""}]`);
    default:
      return unsupported(`block: ${String(block.type)}`);
  }
}

/** Shows a Block Kit `confirm` object; resolves true only for the confirm button. */
export function confirmAction(confirm: Json): Promise<boolean> {
  const dialog = page.confirmDialog;
  const yes = byTestId("confirm-yes", HTMLButtonElement, dialog);
  find(".dialog-title", HTMLHeadingElement, dialog).textContent = plainText(confirm.title) || "Are you sure?";
  find(".dialog-text", HTMLDivElement, dialog).replaceChildren(renderText(confirm.text));
  yes.textContent = plainText(confirm.confirm) || "Yes";
  yes.className = confirm.style === "danger" ? "sl-button danger" : "sl-button primary";
  byTestId("confirm-no", HTMLButtonElement, dialog).textContent = plainText(confirm.deny) || "Cancel";
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}
