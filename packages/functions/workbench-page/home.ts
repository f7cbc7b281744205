// The app's Home tab: opening it sends Slack's app_home_opened to /authenticate; the app publishes
// the view (views.publish) and the page draws it from the state, with buttons that click as Slack's
// Home tab does (a view, no message).

import { api, describeOutcome } from "./api";
import { confirmAction, renderBlock } from "./block-kit";
import { whileBusy } from "./busy";
import { asObjects, asString, byTestId, compactJson, el, isObject } from "./dom";
import { guarded, showNotice } from "./notice";
import { currentUser, page } from "./page";
import { refreshNow } from "./polling";
import type { OpenView, PostOutcome } from "./types";

const home = byTestId("home", HTMLDivElement);
const channelTab = byTestId("sidebar-channel", HTMLDivElement);
const homeTab = byTestId("sidebar-home", HTMLButtonElement);

export const homeShown = (): boolean => !home.hidden;

function showOutcome(outcome: PostOutcome): void {
  page.lastRequest.textContent = describeOutcome(outcome);
  const sent = outcome.sent;
  if (sent !== undefined && sent.status >= 300)
    showNotice(`The app answered ${sent.status}: ${compactJson(sent.response)}`);
}

/** Shows the Home tab (the channel's messages and composer step aside) and tells the app it opened. */
async function openHome(): Promise<void> {
  document.body.classList.add("home-open");
  home.hidden = false;
  homeTab.classList.add("active");
  channelTab.classList.remove("active");
  showOutcome(await api<PostOutcome>("/workbench/api/home/open", { user: currentUser() }));
  refreshNow();
}

export function showChannel(): void {
  document.body.classList.remove("home-open");
  home.hidden = true;
  homeTab.classList.remove("active");
  channelTab.classList.add("active");
}

/** Reopens the Home for the person now typing (another person has another Home). */
export function reopenHomeIfShown(): void {
  if (homeShown()) void guarded(openHome);
}

export function wireHome(): void {
  homeTab.addEventListener("click", () => void guarded(openHome));
  channelTab.addEventListener("click", showChannel);
}

/** Draws the person's Home as last published (or says it has not been yet). */
export function renderHome(view: OpenView | undefined): void {
  if (view === undefined) {
    home.replaceChildren(el("p", { class: "small" }, "The app has not published a Home tab for you yet."));
    return;
  }
  const onButton = (button: Record<string, unknown>, node: HTMLButtonElement) =>
    void guarded(async () => {
      if (isObject(button.confirm) && !(await confirmAction(button.confirm))) return;
      const outcome = await whileBusy(node, `${node.textContent ?? ""}…`, () =>
        api<PostOutcome>("/workbench/api/home/actions", {
          user: currentUser(),
          actionId: asString(button.action_id) ?? "",
          value: asString(button.value),
        }),
      );
      showOutcome(outcome);
      refreshNow();
    });
  home.replaceChildren(
    el(
      "div",
      { class: "blocks home-blocks", "data-view-id": view.id },
      ...asObjects(view.view.blocks).map((block) => renderBlock(block, onButton)),
    ),
  );
}
