// The side panels: queue depths, the vault, the audit log, and the "make trouble" controls.

import { api } from "./api";
import { byTestId, compactJson, el, errorText, find, isoClock } from "./dom";
import { showNotice } from "./notice";
import { displayName } from "./page";
import { refreshNow } from "./polling";
import type {
  AuditRecord,
  BusState,
  PostOutcome,
  VaultRecord,
  WorkbenchConfig,
  WorkbenchState,
} from "./types";

function panelBody(testId: string): HTMLDivElement {
  return find(".panel-body", HTMLDivElement, byTestId(testId, HTMLElement));
}

export function renderQueues(bus: BusState): void {
  const body = panelBody("queues");
  if (!bus.embedded) {
    body.replaceChildren(
      el("p", { class: "small" }, "The bus is a real namespace: queue depths are not shown."),
    );
    return;
  }
  const rows = bus.queues.map((queue) =>
    el(
      "tr",
      { "data-queue": queue.name },
      el("td", {}, queue.name),
      el("td", { class: "active" }, String(queue.active)),
      el("td", { class: "dead-letter" }, String(queue.deadLetter)),
    ),
  );
  body.replaceChildren(
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el("tr", {}, el("th", {}, "Queue"), el("th", {}, "Active"), el("th", {}, "Dead letters")),
      ),
      el("tbody", {}, ...rows),
    ),
    el("div", { class: "small" }, bus.namespace === undefined ? "" : `namespace ${bus.namespace}`),
  );
}

const pill = (state: string): HTMLElement => el("span", { class: `pill pill-${state}` }, state);

function vaultRow(record: VaultRecord): HTMLElement {
  const { resolution } = record;
  return el(
    "div",
    { class: "row", "data-testid": "vault-record", "data-state": record.state, title: record.body },
    el(
      "div",
      { class: "row-line" },
      pill(record.state),
      el("code", { title: record.id }, record.id.slice(0, 8)),
      el("span", {}, record.entity),
      el("span", { class: "small" }, isoClock(record.parkedAt)),
    ),
    el("div", { class: "small" }, `message ${record.messageId}`),
    record.reason !== undefined && el("div", { class: "small" }, record.reason),
    resolution !== undefined &&
      el(
        "div",
        { class: "small" },
        `by @${displayName(resolution.by)} at ${isoClock(resolution.at)}`,
        resolution.note !== undefined && ` · ${resolution.note}`,
      ),
  );
}

export function renderVault(vault: WorkbenchState["vault"]): void {
  panelBody("vault").replaceChildren(
    ...(vault.error === undefined ? [] : [el("p", { class: "panel-error" }, vault.error)]),
    ...(vault.records.length === 0
      ? [el("p", { class: "small" }, "Nothing parked yet. Dead-letter a message to see one.")]
      : vault.records.map(vaultRow)),
  );
}

function auditOutcome(record: AuditRecord): string {
  if (record.reason !== undefined) return record.reason;
  if (record.exitStatus === undefined) return "";
  const duration = record.durationMs === undefined ? "" : ` in ${record.durationMs} ms`;
  return `exit ${record.exitStatus}${duration}`;
}

function auditRow(record: AuditRecord): HTMLElement {
  const outcome = auditOutcome(record);
  return el(
    "div",
    { class: "row", "data-testid": "audit-record", "data-phase": record.phase },
    el(
      "div",
      { class: "row-line" },
      el("span", { class: "small" }, isoClock(record.time)),
      pill(record.phase),
      el("span", {}, `@${displayName(record.user.id)}`),
      el("code", {}, record.command),
    ),
    outcome !== "" && el("div", { class: "small" }, outcome),
  );
}

export function renderAudit(audit: WorkbenchState["audit"]): void {
  panelBody("audit").replaceChildren(
    ...(audit.error === undefined ? [] : [el("p", { class: "panel-error" }, audit.error)]),
    ...(audit.records.length === 0
      ? [el("p", { class: "small" }, "No commands run yet.")]
      : audit.records.map(auditRow)),
    el("div", { class: "small" }, audit.location),
  );
}

// ---------------------------------------------------------------------------------------------
// Make trouble

const trouble = {
  queue: byTestId("trouble-queue", HTMLSelectElement),
  body: byTestId("trouble-body", HTMLTextAreaElement),
  reason: byTestId("trouble-reason", HTMLInputElement),
  description: byTestId("trouble-description", HTMLInputElement),
  alertKind: byTestId("alert-kind", HTMLSelectElement),
  result: byTestId("trouble-result", HTMLDivElement),
  fields: find("fieldset", HTMLFieldSetElement, byTestId("trouble", HTMLElement)),
};

/** Runs one trouble request with the panel disabled, showing its outcome (or error) under it. */
async function makeTrouble(task: () => Promise<string>): Promise<void> {
  trouble.fields.disabled = true;
  trouble.result.classList.remove("error");
  try {
    trouble.result.textContent = await task();
  } catch (error) {
    trouble.result.textContent = errorText(error);
    trouble.result.classList.add("error");
    showNotice(errorText(error));
  } finally {
    trouble.fields.disabled = false;
    refreshNow();
  }
}

const deadLetter = () =>
  makeTrouble(async () => {
    const { notice } = await api<{ notice?: string }>("/workbench/api/dead-letters", {
      queue: trouble.queue.value,
      body: trouble.body.value,
      reason: trouble.reason.value,
      description: trouble.description.value,
    });
    return notice ?? "Dead-lettered";
  });

const fireAlert = () =>
  makeTrouble(async () => {
    const { sent } = await api<PostOutcome>("/workbench/api/alerts", {
      queue: trouble.queue.value,
      kind: trouble.alertKind.value,
    });
    return sent === undefined ? "Sent" : `POST ${sent.route} → ${sent.status} ${compactJson(sent.response)}`;
  });

export function setUpTrouble(bus: WorkbenchConfig["bus"]): void {
  trouble.queue.replaceChildren(...bus.queues.map((queue) => el("option", { value: queue }, queue)));
  if (!bus.embedded) {
    trouble.fields.disabled = true;
    const note = byTestId("trouble-note", HTMLParagraphElement);
    note.textContent =
      "The bus is a real namespace (SERVICE_BUS_CONNECTIONS): start without it to make trouble.";
    note.hidden = false;
    return;
  }
  byTestId("dead-letter", HTMLButtonElement).addEventListener("click", () => void deadLetter());
  byTestId("fire-alert", HTMLButtonElement).addEventListener("click", () => void fireAlert());
}
