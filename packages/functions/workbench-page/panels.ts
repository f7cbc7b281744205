// The side panels: queue depths, the vault, the audit log, and the "make trouble" controls.

import { api } from "./api";
import { whileBusy } from "./busy";
import { byTestId, compactJson, el, errorText, find, isoClock } from "./dom";
import { showNotice } from "./notice";
import { displayName } from "./page";
import { fetchState, onState, refreshNow } from "./polling";
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
  deadLetter: byTestId("dead-letter", HTMLButtonElement),
  fireAlert: byTestId("fire-alert", HTMLButtonElement),
  result: byTestId("trouble-result", HTMLDivElement),
  followUp: byTestId("trouble-followup", HTMLDivElement),
  fields: find("fieldset", HTMLFieldSetElement, byTestId("trouble", HTMLElement)),
  /** Stops following the drain an earlier alert started. */
  stopFollowing: undefined as (() => void) | undefined,
};

/** Runs one trouble request with the panel disabled, showing its outcome (or error) under it. */
async function makeTrouble(
  button: HTMLButtonElement,
  busyLabel: string,
  task: () => Promise<string>,
): Promise<void> {
  trouble.stopFollowing?.();
  trouble.followUp.textContent = "";
  trouble.fields.disabled = true;
  trouble.result.classList.remove("error");
  try {
    trouble.result.textContent = await whileBusy(button, busyLabel, task);
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
  makeTrouble(trouble.deadLetter, "Dead-lettering…", async () => {
    const { notice } = await api<{ notice?: string }>("/workbench/api/dead-letters", {
      queue: trouble.queue.value,
      body: trouble.body.value,
      reason: trouble.reason.value,
      description: trouble.description.value,
    });
    return notice ?? "Dead-lettered";
  });

/**
 * The drain of an empty dead-letter queue waits a second for a first message, then ends without a
 * word; this is how long the page waits for a notification before saying there was nothing.
 */
const EMPTY_DRAIN_MS = 2_500;
/** With dead letters to drain, how long before the page stops waiting for the notification. */
const FULL_DRAIN_MS = 20_000;

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;
const deadLetters = (state: WorkbenchState, queue: string): number =>
  state.bus.queues.find((q) => q.name === queue)?.deadLetter ?? 0;

function showFollowUp(text: string, state: "draining" | "done"): void {
  trouble.followUp.textContent = text;
  trouble.followUp.dataset.state = state;
}

/**
 * /listener answers 202 before it drains: watches the states the page polls for what the drain did
 * (new notifications about the queue, records parked from it), and says so under the panel.
 */
function followDrain(queue: string, before: WorkbenchState): void {
  const knownMessages = new Set(before.messages.map((message) => message.ts));
  const knownRecords = new Set(before.vault.records.map((record) => record.id));
  const patience = deadLetters(before, queue) === 0 ? EMPTY_DRAIN_MS : FULL_DRAIN_MS;
  const started = Date.now();
  let notificationSeen = false;
  let unsubscribe = (): void => {};
  const stopFollowing = (): void => {
    unsubscribe();
    trouble.stopFollowing = undefined;
  };
  const finish = (text: string): void => {
    showFollowUp(text, "done");
    stopFollowing();
  };
  showFollowUp(`Draining ${queue}…`, "draining");
  unsubscribe = onState((state) => {
    const notifications = state.messages.filter(
      (m) =>
        m.author === undefined &&
        !m.ephemeral &&
        !knownMessages.has(m.ts) &&
        JSON.stringify([m.text, m.blocks]).includes(queue),
    ).length;
    const parked = state.vault.records.filter((r) => !knownRecords.has(r.id) && r.entity === queue).length;
    const dead = deadLetters(state, queue);
    if (notifications > 0) {
      // Counted from the next state: records are parked before the notification is posted, but
      // one state's vault is read a moment before its messages.
      if (!notificationSeen) {
        notificationSeen = true;
        return;
      }
      finish(
        `Drained ${queue}: ${plural(parked, "dead letter")} parked in the vault, ` +
          `${plural(notifications, "notification")} posted to the channel.`,
      );
    } else if (Date.now() - started >= patience) {
      finish(
        parked === 0 && dead === 0
          ? `Nothing dead-lettered on ${queue}: the drain found its dead-letter queue empty, so it posted nothing.`
          : `No notification about ${queue} after ${Math.round(patience / 1000)} s ` +
              `(${plural(dead, "dead letter")} on it): see the local server's log.`,
      );
    }
  });
  trouble.stopFollowing = stopFollowing;
}

const fireAlert = () =>
  makeTrouble(trouble.fireAlert, "Firing…", async () => {
    const queue = trouble.queue.value;
    // What was there before, so what the drain adds can be told apart (none without the Slack
    // stand-in: the alert is still sent, there is just no channel to follow).
    const before = await fetchState().catch(() => undefined);
    const { sent } = await api<PostOutcome>("/workbench/api/alerts", {
      queue,
      kind: trouble.alertKind.value,
    });
    if (sent?.status === 202 && before !== undefined) followDrain(queue, before);
    return sent === undefined ? "Sent" : `POST ${sent.route} → ${sent.status} ${compactJson(sent.response)}`;
  });

/** The embedded broker's connection string (for any AMQP client) and its topics, under the queues. */
function showBusConnection(bus: WorkbenchConfig["bus"]): void {
  if (bus.connectionString === undefined) return;
  const note = byTestId("bus-connection", HTMLParagraphElement);
  const topics = (bus.topics ?? []).map((t) => `${t.name} → ${t.subscriptions.join(", ")}`);
  note.replaceChildren(
    "Connect any AMQP client (Service Bus Explorer, the SDK) with ",
    el("code", {}, bus.connectionString),
    ...(topics.length === 0 ? [] : [el("br", {}), `Topics: ${topics.join("; ")}`]),
  );
  note.hidden = false;
}

export function setUpTrouble(bus: WorkbenchConfig["bus"]): void {
  showBusConnection(bus);
  trouble.queue.replaceChildren(...bus.queues.map((queue) => el("option", { value: queue }, queue)));
  if (!bus.embedded) {
    trouble.fields.disabled = true;
    const note = byTestId("trouble-note", HTMLParagraphElement);
    note.textContent =
      "The bus is a real namespace (SERVICE_BUS_CONNECTIONS): start without it to make trouble.";
    note.hidden = false;
    return;
  }
  trouble.deadLetter.addEventListener("click", () => void deadLetter());
  trouble.fireAlert.addEventListener("click", () => void fireAlert());
}
