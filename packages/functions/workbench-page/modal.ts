// The modal (views.open): shown for the person it was opened for, submitted or closed as Slack would.

import { api, describeOutcome } from "./api";
import { plainText, renderBlock, unsupported } from "./block-kit";
import { asObjects, asString, byTestId, compactJson, el, find, isObject } from "./dom";
import { showNotice } from "./notice";
import { currentUser, page } from "./page";
import { refreshNow } from "./polling";
import type { Json, OpenView, SentRequest } from "./types";

const modal = {
  shownId: undefined as string | undefined,
  /** The view as shown: the app may replace it under the same id (views.update, response_action). */
  shownJson: undefined as string | undefined,
  /** Views this page closed or submitted: the server may list them for a moment longer. */
  finished: new Set<string>(),
};

function renderInputBlock(block: Json): HTMLElement {
  const blockId = asString(block.block_id) ?? "";
  const element = isObject(block.element) ? block.element : {};
  const actionId = asString(element.action_id) ?? "";
  const fieldAttrs = {
    id: `modal-${blockId}`,
    "data-block-id": blockId,
    "data-action-id": actionId,
    placeholder: plainText(element.placeholder) || undefined,
  };
  // Pre-filled as Slack pre-fills it (the Repair… dialog's body and properties).
  const initial = asString(element.initial_value) ?? "";
  const rows = String(Math.min(16, Math.max(3, initial.split("\n").length)));
  let field: HTMLElement;
  if (element.type === "email_text_input") field = el("input", { ...fieldAttrs, type: "email" });
  else if (element.type === "plain_text_input")
    field = element.multiline === true ? el("textarea", { ...fieldAttrs, rows }) : el("input", fieldAttrs);
  else if (element.type === "radio_buttons" || element.type === "static_select")
    field = renderChoice(element, fieldAttrs);
  else field = unsupported(`input: ${String(element.type)}`);
  if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) {
    field.value = initial;
    if (typeof element.max_length === "number") field.maxLength = element.max_length;
  }
  return el(
    "div",
    { class: "input-block", "data-block": blockId },
    el(
      "label",
      { for: fieldAttrs.id },
      plainText(block.label),
      block.optional === true && el("span", { class: "small" }, " (optional)"),
    ),
    field,
    isObject(block.hint) && el("div", { class: "hint" }, plainText(block.hint)),
  );
}

/** Radio buttons and a static select alike: a `<select>` whose value is the option's value. */
function renderChoice(element: Json, attrs: Record<string, string | undefined>): HTMLElement {
  const initial = isObject(element.initial_option) ? asString(element.initial_option.value) : undefined;
  const select = el(
    "select",
    attrs,
    ...asObjects(element.options).map((option) =>
      el("option", { value: asString(option.value) ?? "" }, plainText(option.text)),
    ),
  );
  if (initial !== undefined) select.value = initial;
  return select;
}

function openModal({ id, view }: OpenView): void {
  const dialog = page.modal;
  modal.shownId = id;
  modal.shownJson = JSON.stringify(view);
  // A view without a submit (a preview with nothing to do, "Counting…") offers only its close button.
  byTestId("modal-submit", HTMLButtonElement, dialog).hidden = view.submit === undefined;
  find(".dialog-title", HTMLHeadingElement, dialog).textContent = plainText(view.title);
  byTestId("modal-submit", HTMLButtonElement, dialog).textContent = plainText(view.submit) || "Submit";
  byTestId("modal-cancel", HTMLButtonElement, dialog).textContent = plainText(view.close) || "Cancel";
  find(".modal-blocks", HTMLDivElement, dialog).replaceChildren(
    ...asObjects(view.blocks).map((block) =>
      block.type === "input" ? renderInputBlock(block) : renderBlock(block),
    ),
  );
  if (!dialog.open) dialog.showModal();
}

function hideModal(): void {
  modal.shownId = undefined;
  modal.shownJson = undefined;
  if (page.modal.open) page.modal.close();
}

/** Opens the person's modal when a new one appears; hides it when it is gone (or belongs to someone else). */
export function syncModal(view: OpenView | undefined): void {
  if (view === undefined || modal.finished.has(view.id)) {
    if (modal.shownId !== undefined) hideModal();
    return;
  }
  if (view.id !== modal.shownId || JSON.stringify(view.view) !== modal.shownJson) openModal(view);
}

function showModalErrors(errors: Json): void {
  const blocks = find(".modal-blocks", HTMLDivElement, page.modal);
  for (const [blockId, message] of Object.entries(errors)) {
    const target = [...blocks.querySelectorAll<HTMLElement>(".input-block")].find(
      (b) => b.dataset.block === blockId,
    );
    (target ?? blocks).append(
      el("div", { class: "modal-error", "data-testid": "modal-error" }, String(message)),
    );
  }
}

export async function submitModal(): Promise<void> {
  const viewId = modal.shownId;
  if (viewId === undefined) return;
  const values: Record<string, Record<string, string>> = {};
  for (const field of page.modal.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
    "[data-block-id]",
  )) {
    const { blockId = "", actionId = "" } = field.dataset;
    values[blockId] = { ...values[blockId], [actionId]: field.value };
  }
  const submit = byTestId("modal-submit", HTMLButtonElement, page.modal);
  submit.disabled = true;
  try {
    const { sent } = await api<{ sent: SentRequest }>(
      `/workbench/api/views/${encodeURIComponent(viewId)}/submit`,
      {
        user: currentUser(),
        values,
      },
    );
    page.lastRequest.textContent = describeOutcome({ sent });
    for (const old of page.modal.querySelectorAll(".modal-error")) old.remove();
    const response = isObject(sent.response) ? sent.response : {};
    if (response.response_action === "errors" && isObject(response.errors)) showModalErrors(response.errors);
    else if (response.response_action === "update" && isObject(response.view))
      openModal({ id: viewId, view: response.view });
    else if (sent.status !== 200)
      showNotice(`The app answered ${sent.status}: ${compactJson(sent.response)}`);
    else {
      modal.finished.add(viewId);
      hideModal();
    }
  } finally {
    submit.disabled = false;
    refreshNow();
  }
}

export async function cancelModal(): Promise<void> {
  const viewId = modal.shownId;
  if (viewId === undefined) return;
  modal.finished.add(viewId);
  hideModal();
  await api(`/workbench/api/views/${encodeURIComponent(viewId)}/close`, { user: currentUser() });
}
