// The workbench page: a Slack-like channel in front of the local server's JSON API.
// This is the entry point: the server bundles it and its modules with esbuild and serves the result.

import { api } from "./api";
import { forgetSeen, renderChannel, sendMessage, wireChannelScroll } from "./channel";
import { byTestId, el, errorText, find } from "./dom";
import { renderHome, reopenHomeIfShown, wireHome } from "./home";
import { startMailPolling } from "./mail";
import { cancelModal, submitModal, syncModal } from "./modal";
import { guarded, showNotice } from "./notice";
import { page } from "./page";
import { renderAudit, renderQueues, renderVault, setUpTrouble } from "./panels";
import { forgetRendered, POLL_MS, poll, refreshNow, renderIfChanged, setStateRenderer } from "./polling";
import type { WorkbenchConfig, WorkbenchState, WorkbenchUser } from "./types";

function renderState(state: WorkbenchState): void {
  renderIfChanged("messages", state.messages, renderChannel);
  renderIfChanged("home", state.home, renderHome);
  renderIfChanged("queues", state.bus, renderQueues);
  renderIfChanged("vault", state.vault, renderVault);
  renderIfChanged("audit", state.audit, renderAudit);
  syncModal(state.view);
}

function memberLabel(user: WorkbenchUser): string {
  if (user.member === true) return `${user.name} — SRE member`;
  if (user.member === false) return `${user.name} — not a member`;
  return `${user.name} — membership from Graph`;
}

function setUpChannel(config: WorkbenchConfig): void {
  const name = `# ${config.channel.name}`;
  byTestId("channel-name", HTMLHeadingElement).textContent = name;
  byTestId("sidebar-channel", HTMLDivElement).textContent = name;
  byTestId("channel-topic", HTMLSpanElement).textContent =
    `Slack stand-in · app command ${config.command} · bus ${config.bus.namespace}`;
  document.title = `${name} · Victoria workbench`;
  page.userPicker.replaceChildren(
    ...config.users.map((user) => el("option", { value: user.id }, memberLabel(user))),
  );
}

function setComposerEnabled(enabled: boolean): void {
  for (const control of page.composerForm.querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>(
    "textarea, button",
  )) {
    control.disabled = !enabled;
  }
}

function wireComposer(): void {
  page.composerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void guarded(sendMessage);
  });
  page.composer.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a newline; an IME composing text keeps its Enter.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    page.composerForm.requestSubmit();
  });
  for (const chip of page.composerForm.querySelectorAll<HTMLButtonElement>(".chip")) {
    chip.addEventListener("click", () => {
      page.composer.value = chip.textContent ?? "";
      page.composer.focus();
    });
  }
  page.userPicker.addEventListener("change", () => {
    // Ephemeral messages and modals belong to one person: redraw everything for the new one.
    forgetRendered();
    forgetSeen();
    refreshNow();
    reopenHomeIfShown();
  });
}

/**
 * Below 1100 px the side panels are a column the person opens and closes (below 700 px they take
 * the channel's place), so they never sit on top of the channel and its Send button.
 */
function wireLayout(): void {
  const toggle = byTestId("panels-toggle", HTMLButtonElement);
  const setOpen = (open: boolean) => {
    document.body.classList.toggle("panels-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => setOpen(!document.body.classList.contains("panels-open")));
  byTestId("panels-close", HTMLButtonElement).addEventListener("click", () => {
    setOpen(false);
    toggle.focus();
  });
}

function wireDialogs(): void {
  find(".notice-dismiss", HTMLButtonElement, page.notice).addEventListener("click", () => {
    page.notice.hidden = true;
  });
  find("form", HTMLFormElement, page.modal).addEventListener("submit", (event) => {
    event.preventDefault();
    void guarded(submitModal);
  });
  byTestId("modal-cancel", HTMLButtonElement, page.modal).addEventListener(
    "click",
    () => void guarded(cancelModal),
  );
  // Escape is a cancel too, and must tell the server so the view is not reopened.
  page.modal.addEventListener("cancel", (event) => {
    event.preventDefault();
    void guarded(cancelModal);
  });
}

async function start(): Promise<void> {
  setStateRenderer(renderState);
  wireLayout();
  wireChannelScroll();
  wireComposer();
  wireDialogs();
  wireHome();
  let config: WorkbenchConfig;
  try {
    config = await api<WorkbenchConfig>("/workbench/api/config");
  } catch (error) {
    setComposerEnabled(false);
    showNotice(errorText(error));
    return;
  }
  page.config = config;
  setUpChannel(config);
  setUpTrouble(config.bus);
  // Mail does not need the Slack stand-in: it is shown whatever the channel can do.
  startMailPolling();
  if (!config.available) {
    // Without the Slack stand-in there is no channel to show or post to.
    setComposerEnabled(false);
    showNotice(config.reason ?? "The workbench is not available.");
    return;
  }
  await poll();
  window.setInterval(() => void poll(), POLL_MS);
}

void start();
