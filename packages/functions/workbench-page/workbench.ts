// The workbench page: a Slack-like channel in front of the local server's JSON API.
// One file, no imports: the server compiles it with esbuild `transform` and serves it as is.
// All data (messages, vault bodies, audit output) is untrusted text: the DOM is built with
// createElement/textContent only, never innerHTML.

// ---------------------------------------------------------------------------------------------
// API shapes

interface WorkbenchUser {
  id: string;
  name: string;
  email?: string;
  member?: boolean;
}

interface WorkbenchConfig {
  available: boolean;
  reason?: string;
  channel: { id: string; name: string };
  users: WorkbenchUser[];
  bot: { id: string; name: string };
  command: string;
  bus: { embedded: boolean; namespace: string; queues: string[] };
}

type Json = Record<string, unknown>;

interface ChannelMessage {
  ts: string;
  author?: string;
  ephemeral: boolean;
  text?: string;
  blocks?: Json[];
  threadTs?: string;
  edited: boolean;
  files?: Array<{ name: string; title: string; preview: string }>;
}

interface BusState {
  embedded: boolean;
  namespace?: string;
  queues: Array<{ name: string; active: number; deadLetter: number }>;
}

interface VaultRecord {
  id: string;
  state: "parked" | "replayed" | "emailed" | "deleted";
  entity: string;
  namespace: string;
  parkedAt: string;
  messageId: string;
  reason?: string;
  body: string;
  resolution?: { by: string; at: string; note?: string };
}

interface AuditRecord {
  phase: "requested" | "finished" | "refused";
  requestId: string;
  time: string;
  source: string;
  user: { id: string; email?: string };
  channel?: string;
  command: string;
  reason?: string;
  exitStatus?: number | "error";
  durationMs?: number;
  output?: string;
}

interface OpenView {
  id: string;
  view: Json;
}

interface WorkbenchState {
  channel: { id: string; name: string };
  messages: ChannelMessage[];
  view?: OpenView;
  bus: BusState;
  vault: { records: VaultRecord[]; error?: string };
  audit: { records: AuditRecord[]; location: string; error?: string };
}

interface SentRequest {
  route: string;
  kind: string;
  status: number;
  response: unknown;
}

interface PostOutcome {
  sent?: SentRequest;
  notice?: string;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

type Child = Node | string | null | undefined | false;

/** createElement with attributes and children; `undefined`/`false` attributes are left off. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** The element matching `selector`, checked to be of the expected kind: a missing one is a page bug. */
function find<T extends Element>(selector: string, type: new () => T, root: ParentNode = document): T {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`The page has no ${type.name} matching ${selector}`);
  return found;
}

const byTestId = <T extends Element>(testId: string, type: new () => T, root: ParentNode = document): T =>
  find(`[data-testid="${testId}"]`, type, root);

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const asString = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const asObjects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const pad = (n: number): string => String(n).padStart(2, "0");
const clock = (date: Date): string =>
  Number.isNaN(date.getTime())
    ? "?"
    : `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
/** Slack timestamps are "seconds.micros". */
const tsClock = (ts: string): string => clock(new Date(Number(ts) * 1000));
const isoClock = (iso: string): string => clock(new Date(iso));

/** A short, single-line JSON rendering for result lines. */
function compactJson(value: unknown, max = 300): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// The JSON API

/** Every request goes through here, so any failure is an Error carrying the server's `message`. */
async function api<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error(`Could not reach the local server (${path}). Is it still running?`);
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? {} : JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the best message we have.
  }
  if (!response.ok) {
    const message = isObject(parsed) ? asString(parsed.message) : undefined;
    throw new Error(message ?? `${path} answered ${response.status} ${response.statusText}`);
  }
  return parsed as T;
}

// ---------------------------------------------------------------------------------------------
// Page state

const page = {
  config: undefined as WorkbenchConfig | undefined,
  channel: byTestId("channel", HTMLDivElement),
  notice: byTestId("notice", HTMLDivElement),
  composerForm: byTestId("composer-form", HTMLFormElement),
  composer: byTestId("composer", HTMLTextAreaElement),
  send: byTestId("send", HTMLButtonElement),
  userPicker: byTestId("user-picker", HTMLSelectElement),
  lastRequest: byTestId("last-request", HTMLDivElement),
  confirmDialog: byTestId("confirm-dialog", HTMLDialogElement),
  modal: byTestId("modal", HTMLDialogElement),
};

const currentUser = (): string => page.userPicker.value;

function displayName(id: string): string {
  const config = page.config;
  if (config === undefined) return id;
  if (id === config.bot.id) return config.bot.name;
  return config.users.find((user) => user.id === id)?.name ?? id;
}

/** Whether the notice came from polling: a later good poll clears it, but not an action's error. */
let noticeFromPoll = false;

function showNotice(text: string, fromPoll = false): void {
  find(".notice-text", HTMLSpanElement, page.notice).textContent = text;
  page.notice.hidden = false;
  noticeFromPoll = fromPoll;
}

function clearPollNotice(): void {
  if (noticeFromPoll) page.notice.hidden = true;
  noticeFromPoll = false;
}

/** Runs a user-triggered task; any failure lands in the notice banner. */
async function guarded(task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch (error) {
    showNotice(errorText(error));
  }
}

// ---------------------------------------------------------------------------------------------
// mrkdwn

const EMOJI: Record<string, string> = {
  white_check_mark: "✅",
  x: "❌",
  rotating_light: "🚨",
  warning: "⚠️",
  no_entry: "⛔",
  hourglass_flowing_sand: "⏳",
  email: "📧",
  wastebasket: "🗑️",
  repeat: "🔁",
  lock: "🔒",
};

const EMOJI_CODE = /:([a-z0-9_+'-]+):/g;
const CODE_BLOCK = /```([\s\S]*?)```/g;
/**
 * One inline token: `code`, <link|mention>, *bold*, _italic_, ~strike~ or :emoji:. The look-arounds
 * keep snake_case words and arithmetic like 2*3*4 from turning into formatting, as in Slack.
 */
const INLINE =
  /`([^`\n]+)`|<([^<>\n]+)>|(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])|(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])|(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])|:([a-z0-9_+'-]+):/g;

/** Slack escapes only these three in message text. */
const decodeEntities = (text: string): string =>
  text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");

const emojify = (text: string): string =>
  text.replace(EMOJI_CODE, (whole, name: string) => EMOJI[name] ?? whole);

const textNode = (text: string): Text => document.createTextNode(decodeEntities(text));

function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const mention = (text: string): HTMLElement => el("span", { class: "mention" }, text);

/** `<…>` in mrkdwn: a user, channel or broadcast mention, or a link with an optional label. */
function renderAngle(inner: string): Node {
  const bar = inner.indexOf("|");
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = displayName(id);
    return mention(`@${name === id && label !== undefined ? label : name}`);
  }
  if (target.startsWith("#")) return mention(`#${label ?? target.slice(1)}`);
  if (target.startsWith("!")) return mention(label ?? `@${target.slice(1).split("^")[0] ?? ""}`);
  const url = decodeEntities(target);
  const href = safeHref(url);
  const text = label ?? url;
  return href === undefined
    ? document.createTextNode(text)
    : el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
}

function renderInline(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) nodes.push(textNode(text.slice(last, match.index)));
    nodes.push(inlineToken(match));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(textNode(text.slice(last)));
  return nodes;
}

function inlineToken([whole, code, angle, bold, italic, strike, emoji]: RegExpExecArray): Node {
  if (code !== undefined) return el("code", {}, decodeEntities(code));
  if (angle !== undefined) return renderAngle(angle);
  if (bold !== undefined) return el("strong", {}, ...renderInline(bold));
  if (italic !== undefined) return el("em", {}, ...renderInline(italic));
  if (strike !== undefined) return el("s", {}, ...renderInline(strike));
  return document.createTextNode(EMOJI[emoji ?? ""] ?? whole);
}

/** Text outside code blocks: lines with inline formatting; runs of `>` lines become one quote. */
function appendProse(parent: HTMLElement, text: string): void {
  if (text === "") return;
  let quote: HTMLElement | undefined;
  text.split("\n").forEach((line, index) => {
    const marker = /^(?:>|&gt;) ?/.exec(line);
    if (marker !== null) {
      if (quote === undefined) {
        quote = el("blockquote");
        parent.append(quote);
      } else {
        quote.append(el("br"));
      }
      quote.append(...renderInline(line.slice(marker[0].length)));
      return;
    }
    // A quote is a block of its own, so the line after it needs no break.
    if (quote !== undefined) quote = undefined;
    else if (index > 0) parent.append(el("br"));
    parent.append(...renderInline(line));
  });
}

/** Code blocks are cut out first so nothing inside them is formatted. */
function renderMrkdwn(source: string): HTMLElement {
  const root = el("div", { class: "mrkdwn" });
  let last = 0;
  // The newlines around a fence belong to the fence, not to the prose.
  const prose = (start: number, end: number) => {
    const text = source.slice(start, end).replace(/\n$/, "");
    appendProse(root, start > 0 ? text.replace(/^\n/, "") : text);
  };
  for (const match of source.matchAll(CODE_BLOCK)) {
    prose(last, match.index);
    root.append(el("pre", { class: "code-block" }, decodeEntities((match[1] ?? "").replace(/^\n/, ""))));
    last = match.index + match[0].length;
  }
  prose(last, source.length);
  return root;
}

// ---------------------------------------------------------------------------------------------
// Block Kit

type ButtonHandler = (button: Json, node: HTMLButtonElement) => void;

/** A composition text object: mrkdwn is formatted, plain_text only gets its emoji. */
function renderText(text: unknown): Node {
  if (!isObject(text)) return document.createTextNode("");
  const value = asString(text.text) ?? "";
  return text.type === "mrkdwn" ? renderMrkdwn(value) : document.createTextNode(emojify(value));
}

const plainText = (text: unknown): string => (isObject(text) ? emojify(asString(text.text) ?? "") : "");

const unsupported = (what: string): HTMLElement =>
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

function renderBlock(block: Json, onButton?: ButtonHandler): Node {
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

// ---------------------------------------------------------------------------------------------
// Confirm dialog

/** Shows a Block Kit `confirm` object; resolves true only for the confirm button. */
function confirmAction(confirm: Json): Promise<boolean> {
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

// ---------------------------------------------------------------------------------------------
// Sending

function describeOutcome(outcome: PostOutcome): string {
  if (outcome.notice !== undefined) return outcome.notice;
  if (outcome.sent === undefined) return "Posted to the channel (Slack sends the app nothing for plain chat)";
  const { route, kind, status } = outcome.sent;
  return `POST ${route} → ${status} (${kind})`;
}

async function sendMessage(): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// Channel

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
function renderChannel(messages: ChannelMessage[]): void {
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

// ---------------------------------------------------------------------------------------------
// Modal (views.open)

const modal = {
  shownId: undefined as string | undefined,
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
  let field: HTMLElement;
  if (element.type === "email_text_input") field = el("input", { ...fieldAttrs, type: "email" });
  else if (element.type === "plain_text_input")
    field =
      element.multiline === true ? el("textarea", { ...fieldAttrs, rows: "3" }) : el("input", fieldAttrs);
  else field = unsupported(`input: ${String(element.type)}`);
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

function openModal({ id, view }: OpenView): void {
  const dialog = page.modal;
  modal.shownId = id;
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
  if (page.modal.open) page.modal.close();
}

/** Opens the person's modal when a new one appears; hides it when it is gone (or belongs to someone else). */
function syncModal(view: OpenView | undefined): void {
  if (view === undefined || modal.finished.has(view.id)) {
    if (modal.shownId !== undefined) hideModal();
    return;
  }
  if (view.id !== modal.shownId) openModal(view);
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

async function submitModal(): Promise<void> {
  const viewId = modal.shownId;
  if (viewId === undefined) return;
  const values: Record<string, Record<string, string>> = {};
  for (const field of page.modal.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>(
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

async function cancelModal(): Promise<void> {
  const viewId = modal.shownId;
  if (viewId === undefined) return;
  modal.finished.add(viewId);
  hideModal();
  await api(`/workbench/api/views/${encodeURIComponent(viewId)}/close`, { user: currentUser() });
}

// ---------------------------------------------------------------------------------------------
// Side panels

function panelBody(testId: string): HTMLDivElement {
  return find(".panel-body", HTMLDivElement, byTestId(testId, HTMLElement));
}

function renderQueues(bus: BusState): void {
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

function renderVault(vault: WorkbenchState["vault"]): void {
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

function renderAudit(audit: WorkbenchState["audit"]): void {
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

function setUpTrouble(bus: WorkbenchConfig["bus"]): void {
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

// ---------------------------------------------------------------------------------------------
// Polling

const POLL_MS = 700;

const polling = {
  inFlight: false,
  /** Someone asked for fresh state while a poll was running: poll again when it ends. */
  again: false,
  /** Last rendered JSON per part, so unchanged parts keep their DOM (hover, scroll, selection). */
  rendered: new Map<string, string>(),
};

function renderIfChanged<T>(part: string, data: T, render: (data: T) => void): void {
  const json = JSON.stringify(data);
  if (polling.rendered.get(part) === json) return;
  polling.rendered.set(part, json);
  render(data);
}

function renderState(state: WorkbenchState): void {
  renderIfChanged("messages", state.messages, renderChannel);
  renderIfChanged("queues", state.bus, renderQueues);
  renderIfChanged("vault", state.vault, renderVault);
  renderIfChanged("audit", state.audit, renderAudit);
  syncModal(state.view);
}

async function poll(): Promise<void> {
  if (polling.inFlight) return;
  polling.inFlight = true;
  const user = currentUser();
  try {
    const state = await api<WorkbenchState>(`/workbench/api/state?user=${encodeURIComponent(user)}`);
    // A poll started before a user switch describes the wrong person.
    if (user === currentUser()) renderState(state);
    clearPollNotice();
  } catch (error) {
    showNotice(errorText(error), true);
  } finally {
    polling.inFlight = false;
    if (polling.again) {
      polling.again = false;
      void poll();
    }
  }
}

function refreshNow(): void {
  if (polling.inFlight) polling.again = true;
  else void poll();
}

// ---------------------------------------------------------------------------------------------
// Start-up

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
    polling.rendered.clear();
    refreshNow();
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
  wireComposer();
  wireDialogs();
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
  if (!config.available) {
    // Without the Slack stand-in there is no channel to show or post to.
    setComposerEnabled(false);
    showNotice(config.reason ?? "The workbench is not available.");
    return;
  }
  await poll();
  page.channel.scrollTop = page.channel.scrollHeight;
  window.setInterval(() => void poll(), POLL_MS);
}

void start();
