// The page's fixed elements and who is typing, shared by every part of the page.

import { byTestId } from "./dom";
import type { WorkbenchConfig } from "./types";

export const page = {
  config: undefined as WorkbenchConfig | undefined,
  channel: byTestId("channel", HTMLDivElement),
  newMessages: byTestId("new-messages", HTMLButtonElement),
  notice: byTestId("notice", HTMLDivElement),
  composerForm: byTestId("composer-form", HTMLFormElement),
  composer: byTestId("composer", HTMLTextAreaElement),
  send: byTestId("send", HTMLButtonElement),
  userPicker: byTestId("user-picker", HTMLSelectElement),
  lastRequest: byTestId("last-request", HTMLDivElement),
  confirmDialog: byTestId("confirm-dialog", HTMLDialogElement),
  modal: byTestId("modal", HTMLDialogElement),
};

export const currentUser = (): string => page.userPicker.value;

export function displayName(id: string): string {
  const config = page.config;
  if (config === undefined) return id;
  if (id === config.bot.id) return config.bot.name;
  return config.users.find((user) => user.id === id)?.name ?? id;
}
