import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import { repoRoot, type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * The workbench as a person uses it, in headless Chromium (the one `npm ci` installs, see
 * ./browser.ts): a member runs a command, a guest is refused, a dead letter is made and alerted on,
 * Replay puts it back on its queue and the notification names who replayed it. Then the commands
 * the page suggests (`help`, a typo, an `encrypt` round trip, answered privately), and Email on a
 * dead letter through the SMTP stand-in into the Mail panel. Then the same page at 800 px (and
 * 600 px): the panels fold away, nothing covers Send, and the channel scrolls as Slack's does.
 */
const ARTIFACTS = join(repoRoot, "test-artifacts");
const STEP_MS = 15_000;

let server: SpawnedServer;
let browser: Browser;
let page: Page;
let dir: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "workbench-browser-"));
  server = await spawnLocalServer({
    VAULT_DIR: join(dir, "vault"),
    AUDIT_LOG_FILE: join(dir, "audit.jsonl"),
  });
  browser = await launchChromium();
  await mkdir(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openWorkbench(width: number, height: number): Promise<void> {
  await page?.close();
  page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  await page.goto(`${server.url}/`);
  await expect.poll(() => page.getByTestId("user-picker").locator("option").count()).toBe(3);
}

async function send(user: string, text: string): Promise<void> {
  await page.getByTestId("user-picker").selectOption(user);
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("composer").press("Enter");
}

/** Another person's message, posted as the page would but from outside it. */
async function postAs(user: string, text: string): Promise<void> {
  const response = await page.request.post(`${server.url}/workbench/api/messages`, { data: { user, text } });
  expect(response.status()).toBe(200);
}

/** Holds the page's requests to `path` until the returned function is called: a pending state to look at. */
async function holdRequests(path: string): Promise<() => Promise<void>> {
  let release = (): void => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const pattern = `**${path}`;
  const held: Promise<void>[] = [];
  await page.route(pattern, (route) => {
    const continued = released.then(() => route.continue());
    held.push(continued);
    return continued;
  });
  return async () => {
    release();
    // Unrouted only once the held requests went on: unrouting first would let them fall through.
    await Promise.all(held);
    await page.unroute(pattern);
  };
}

/** The app's private answers to the person typing, newest last (the "Running …" acks among them). */
const privateReplies = () =>
  page.locator('[data-testid="message"][data-author="bot"][data-ephemeral="true"]');
/** Everything the app posted, to the channel or privately. */
const botMessages = () => page.locator('[data-testid="message"][data-author="bot"]');

/** The messages `user` can see, as the server tells their page (ephemeral ones only if theirs). */
async function messagesSeenBy(user: string): Promise<Array<{ ts: string; text?: string; blocks?: unknown }>> {
  const response = await page.request.get(`${server.url}/workbench/api/state?user=${user}`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { messages: Array<{ ts: string; text?: string; blocks?: unknown }> })
    .messages;
}

const queueCell = (queue: string, cell: "active" | "dead-letter") =>
  page.locator(`[data-testid="queues"] [data-queue="${queue}"] .${cell}`);

/** Disabled, relabelled and aria-busy: what a button shows while its request is out. */
async function expectBusy(button: Locator, label: string): Promise<void> {
  await expect.poll(() => button.textContent()).toBe(label);
  expect(await button.isDisabled()).toBe(true);
  expect(await button.getAttribute("aria-busy")).toBe("true");
}

async function expectIdle(button: Locator, label: string): Promise<void> {
  await expect.poll(() => button.textContent()).toBe(label);
  expect(await button.isDisabled()).toBe(false);
  expect(await button.getAttribute("aria-busy")).toBeNull();
}

/** Wholly inside the viewport, and what a click at its centre lands on (nothing laid over it). */
async function expectClickable(target: Locator): Promise<void> {
  const box = await target.boundingBox();
  const viewport = page.viewportSize();
  if (box === null || viewport === null) throw new Error("not laid out");
  expect(box.width).toBeGreaterThan(0);
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
  const onTop = await target.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const hit = node.ownerDocument.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit !== null && (hit === node || node.contains(hit));
  });
  expect(onTop).toBe(true);
  // Playwright's own actionability checks (visible, stable, enabled, receives the events), no force.
  await target.click({ trial: true, timeout: 2_000 });
}

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box | null, b: Box | null): boolean =>
  a !== null &&
  b !== null &&
  a.x < b.x + b.width &&
  b.x < a.x + a.width &&
  a.y < b.y + b.height &&
  b.y < a.y + a.height;

const channelScroll = () =>
  page.getByTestId("channel").evaluate((list) => ({
    top: list.scrollTop,
    atBottom: list.scrollHeight - list.scrollTop - list.clientHeight < 2,
    scrollable: list.scrollHeight > list.clientHeight + 100,
  }));

describe("the workbench in a browser", () => {
  it("runs the whole story at 1280 px, as a member, a guest and an SRE resolving a dead letter", async () => {
    await openWorkbench(1280, 800);
    const sendButton = page.getByTestId("send");

    // Wide enough for all three columns: the panels are shown, there is nothing to unfold.
    expect(await page.locator(".side-panels").isVisible()).toBe(true);
    expect(await page.getByTestId("panels-toggle").isVisible()).toBe(false);
    await expectClickable(sendButton);

    // A member runs `config view`: Send is busy at once, until the server answers.
    const releaseSend = await holdRequests("/workbench/api/messages");
    await send("U0MEMBER", "/victoria config view");
    await expectBusy(sendButton, "Sending…");
    await releaseSend();
    await expectIdle(sendButton, "Send");
    const output = page.getByTestId("message").filter({ hasText: "storage_providers" });
    await output.first().waitFor();
    await expect.poll(() => page.getByTestId("last-request").textContent()).toContain("/authenticate");

    // A failed send gives the button back, keeps what was typed and says why.
    await page.route("**/workbench/api/messages", (route) =>
      route.fulfill({
        status: 500,
        contentType: "application/json",
        body: JSON.stringify({ error: "Internal Server Error", message: "the stand-in fell over" }),
      }),
    );
    const errorsBefore = consoleErrors.length;
    await send("U0MEMBER", "/victoria config view --again");
    await expect.poll(() => page.getByTestId("notice").textContent()).toContain("the stand-in fell over");
    await expectIdle(sendButton, "Send");
    expect(await page.getByTestId("composer").inputValue()).toBe("/victoria config view --again");
    await page.unroute("**/workbench/api/messages");
    // Chromium logs the 500 it was made to answer; nothing else.
    expect(consoleErrors.splice(errorsBefore).every((text) => text.includes("500"))).toBe(true);
    await page.locator(".notice-dismiss").click();

    // A guest is refused, privately.
    await send("U0GUEST", "/victoria config view");
    const refusal = page.getByTestId("message").filter({ hasText: "is not a member of the SRE group" });
    await refusal.first().waitFor();
    expect(await refusal.first().getAttribute("data-ephemeral")).toBe("true");
    await page.getByTestId("audit-record").filter({ hasText: "guest" }).first().waitFor();
    expect(await page.getByTestId("audit-record").first().getAttribute("data-phase")).toBe("refused");

    // Trouble: a dead letter on `orders`, then an Azure Monitor alert at /listener.
    await page.getByTestId("user-picker").selectOption("U0MEMBER");
    await page.getByTestId("trouble-queue").selectOption("orders");
    await page.getByTestId("trouble-body").fill('{"orderId": 42, "sku": "WIDGET-7"}');
    await page.getByTestId("trouble-reason").fill("MaxDeliveryCountExceeded");
    await page.getByTestId("dead-letter").click();
    await expect.poll(() => queueCell("orders", "dead-letter").textContent(), { timeout: STEP_MS }).toBe("1");
    await page.getByTestId("alert-kind").selectOption("azure-monitor");
    await page.getByTestId("fire-alert").click();
    await expect.poll(() => page.getByTestId("trouble-result").textContent()).toContain("202");

    // The notification appears; the drain completed the message, so the DLQ is empty and the vault holds it.
    const notification = page.getByTestId("message").filter({ hasText: "dead letter on local / orders" });
    await notification.first().waitFor();
    await expect.poll(() => queueCell("orders", "dead-letter").textContent(), { timeout: STEP_MS }).toBe("0");
    await page.locator('[data-testid="vault-record"][data-state="parked"]').first().waitFor();
    // The panel says what the 202 led to.
    await expect
      .poll(() => page.getByTestId("trouble-followup").textContent(), { timeout: STEP_MS })
      .toBe("Drained orders: 1 dead letter parked in the vault, 1 notification posted to the channel.");

    // Emoji (the notification's 🚨) come from the font the server serves, whatever the machine has.
    const font = await page.request.get(`${server.url}/workbench/emoji.woff2`);
    expect(font.status()).toBe(200);
    expect(font.headers()["content-type"]).toBe("font/woff2");
    expect(font.headers()["cache-control"]).toContain("max-age=31536000");
    expect((await font.body()).subarray(0, 4).toString("latin1")).toBe("wOF2");
    await expect
      .poll(() =>
        page
          .locator("body")
          .evaluate((body) =>
            [...body.ownerDocument.fonts].some(
              (f) => f.family.includes("Workbench Emoji") && f.status === "loaded",
            ),
          ),
      )
      .toBe(true);

    // Replay: busy at once, then the message lands back on its queue and the notification says who.
    const replay = notification.first().locator('button[data-action-id="deadletter_replay"]');
    const releaseReplay = await holdRequests("/workbench/api/actions");
    await replay.click();
    await expectBusy(replay, "Replaying…");
    // Still busy after the channel is redrawn (someone else posts meanwhile).
    await postAs("U0GUEST", "anyone looking at the orders queue?");
    await page
      .getByTestId("message")
      .filter({ hasText: "anyone looking at the orders queue?" })
      .first()
      .waitFor();
    await expectBusy(replay, "Replaying…");
    await releaseReplay();
    await expect.poll(() => queueCell("orders", "active").textContent(), { timeout: STEP_MS }).toBe("1");
    await page.locator('[data-testid="vault-record"][data-state="replayed"]').first().waitFor();
    await expect
      .poll(() => notification.first().textContent(), { timeout: STEP_MS })
      .toMatch(/Replayed[\s\S]*@sre|@sre[\s\S]*[Rr]eplayed/);

    await expectClickable(sendButton);
    await page.screenshot({ path: join(ARTIFACTS, "workbench.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 120_000);

  it("answers help, a typo and an encrypt round trip, the secret to the member only", async () => {
    await openWorkbench(1280, 800);

    // `help`, as the chip and the placeholder suggest: the usage text, not "No such command".
    await send("U0MEMBER", "/victoria help");
    const help = botMessages().filter({ hasText: "Usage: victoria" });
    await help.first().waitFor();
    expect(await help.first().textContent()).toContain("Envelope encrypt data easily.");
    expect(await botMessages().filter({ hasText: "No such command 'help'" }).count()).toBe(0);

    // A typo is answered with what was meant.
    await send("U0MEMBER", "/victoria confg");
    await botMessages()
      .filter({ hasText: "No such command 'confg'. Did you mean 'config'?" })
      .first()
      .waitFor();

    // encrypt works out of the box (the local key): the four lines of an envelope, privately.
    await send("U0MEMBER", "/victoria encrypt data hello");
    const sealed = privateReplies().filter({ has: page.locator("pre", { hasText: /^version: /m }) });
    await sealed.first().waitFor();
    const lines = ((await sealed.first().locator("pre").first().textContent()) ?? "").trim().split("\n");
    expect(lines.map((line) => line.split(":")[0])).toEqual(["data", "iv", "key", "version"]);
    const envelope = Object.fromEntries(
      lines.map((line) => [line.split(":")[0], line.slice(line.indexOf(":") + 2)]),
    );
    expect(envelope.data).not.toBe("");

    // ... and the envelope, given back as JSON, opens to the text.
    await send("U0MEMBER", `/victoria encrypt decrypt --envelope '${JSON.stringify(envelope)}'`);
    const opened = privateReplies().filter({ has: page.locator("pre", { hasText: /^\s*hello\s*$/ }) });
    await opened.first().waitFor();

    // Neither the envelope nor the plaintext reaches anyone else in the channel.
    const secretTs = [
      await sealed.first().getAttribute("data-ts"),
      await opened.first().getAttribute("data-ts"),
    ];
    const guestSees = await messagesSeenBy("U0GUEST");
    expect(guestSees.filter((m) => secretTs.includes(m.ts))).toEqual([]);
    expect(JSON.stringify(guestSees)).not.toContain(envelope.data);
    expect(JSON.stringify(guestSees)).not.toContain("victoria encrypt");
    expect((await messagesSeenBy("U0MEMBER")).filter((m) => secretTs.includes(m.ts))).toHaveLength(2);

    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("emails a dead letter through the SMTP stand-in, and the Mail panel shows it", async () => {
    await openWorkbench(1280, 800);
    await page.getByTestId("user-picker").selectOption("U0MEMBER");
    // No mail yet: the panel says where it comes from.
    await expect.poll(() => page.getByTestId("mail").textContent()).toContain("No mail yet");

    // A dead letter of its own: the story's was replayed, and a resolved record has no buttons.
    await page.getByTestId("trouble-queue").selectOption("orders");
    await page.getByTestId("trouble-body").fill('{"orderId": 43, "sku": "WIDGET-8"}');
    await page.getByTestId("dead-letter").click();
    await expect
      .poll(() => page.getByTestId("trouble-result").textContent())
      .toMatch(/^Dead-lettered message /);
    const messageId = /^Dead-lettered message (\S+) on orders$/.exec(
      (await page.getByTestId("trouble-result").textContent()) ?? "",
    )?.[1];
    if (messageId === undefined) throw new Error("no message id in the dead-letter result");
    await expect.poll(() => queueCell("orders", "dead-letter").textContent(), { timeout: STEP_MS }).toBe("1");
    await page.getByTestId("fire-alert").click();
    const notification = page.getByTestId("message").filter({ hasText: messageId });
    await notification.first().waitFor();

    // Email opens the modal; sent with a recipient (and a note that looks like markup), it closes.
    await notification.first().locator('button[data-action-id="deadletter_email"]').click();
    const modal = page.getByTestId("modal");
    await modal.waitFor();
    expect(await modal.locator(".dialog-title").textContent()).toBe("Email dead letter");
    await modal.locator('[data-block-id="recipient"]').fill("oncall@example.com");
    await modal.locator('[data-block-id="note"]').fill("<b>for the orders team</b>");
    await page.getByTestId("modal-submit").click();
    await modal.waitFor({ state: "hidden" });
    await page.locator('[data-testid="vault-record"][data-state="emailed"]').first().waitFor();

    // The mail, in the Mail panel: collapsed, who to whom; opened, its text and attachments.
    const subject = `Dead letter ${messageId} on local/orders`;
    const mail = page.getByTestId("mail-message").filter({ hasText: subject });
    await mail.waitFor({ timeout: STEP_MS });
    expect(await mail.getAttribute("open")).toBeNull();
    expect(await mail.getByTestId("mail-text").isVisible()).toBe(false);
    expect(await mail.locator("summary").textContent()).toContain("oncall@example.com");
    await mail.locator("summary").click();
    expect(await mail.getByTestId("mail-to").textContent()).toBe("oncall@example.com");
    expect(await mail.getByTestId("mail-from").textContent()).toContain("victoria@example.com");
    const text = mail.getByTestId("mail-text");
    expect(await text.textContent()).toContain(`Message id: ${messageId}`);
    // Outside text is shown as text, never parsed as HTML.
    expect(await text.textContent()).toContain("Note: <b>for the orders team</b>");
    expect(await text.locator("b").count()).toBe(0);
    const attachments = await mail.getByTestId("mail-attachment").allTextContents();
    expect(attachments).toHaveLength(2);
    expect(attachments[0]).toMatch(/^body\.json \d+ B · application\/json$/);
    expect(attachments[1]).toMatch(/^dead-letter-[\w-]+\.json [\d.]+ K?B · application\/json$/);

    // Opened stays opened when the panel is redrawn (switching people redraws every panel).
    await mail.evaluate((node) => {
      node.setAttribute("data-drawn-before", "");
    });
    await page.getByTestId("user-picker").selectOption("U0GUEST");
    await expect.poll(() => mail.getAttribute("data-drawn-before"), { timeout: STEP_MS }).toBeNull();
    expect(await mail.getByTestId("mail-text").isVisible()).toBe(true);
    await page.getByTestId("user-picker").selectOption("U0MEMBER");

    // The API behind the panel lists it first.
    const listed = (await (await page.request.get(`${server.url}/workbench/api/mail`)).json()) as {
      available: boolean;
      messages: Array<{ subject: string; to: string[] }>;
    };
    expect(listed.available).toBe(true);
    expect(listed.messages[0]).toMatchObject({ subject, to: ["oncall@example.com"] });

    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("shows the app's Home tab: a member's dead letters with working buttons, a guest told why not", async () => {
    await openWorkbench(1280, 800);
    await page.getByTestId("user-picker").selectOption("U0MEMBER");
    await page.getByTestId("trouble-queue").selectOption("orders");
    await page.getByTestId("trouble-body").fill('{"orderId": 44, "sku": "WIDGET-9"}');
    await page.getByTestId("dead-letter").click();
    await expect.poll(() => queueCell("orders", "dead-letter").textContent(), { timeout: STEP_MS }).toBe("1");
    await page.getByTestId("fire-alert").click();
    await expect.poll(() => queueCell("orders", "dead-letter").textContent(), { timeout: STEP_MS }).toBe("0");
    const activeBefore = Number(await queueCell("orders", "active").textContent());

    // Opening the tab sends a signed app_home_opened; the published view replaces the channel.
    await page.getByTestId("sidebar-home").click();
    const home = page.getByTestId("home");
    await expect.poll(() => home.textContent(), { timeout: STEP_MS }).toContain("1 dead letter parked");
    expect(await page.getByTestId("last-request").textContent()).toContain("POST /authenticate → 200");
    expect(await page.getByTestId("composer").isVisible()).toBe(false);
    expect(await home.textContent()).toContain("Your recent commands");
    expect(await home.textContent()).toContain("/victoria deadletter");

    // Its Replay is the notification's: sent to /resolve from a view, then the Home is published again.
    await home.locator('button[data-action-id="deadletter_replay"]').first().click();
    await expect
      .poll(() => queueCell("orders", "active").textContent(), { timeout: STEP_MS })
      .toBe(String(activeBefore + 1));
    await expect
      .poll(() => home.textContent(), { timeout: STEP_MS })
      .toContain("No dead letters are parked.");
    expect(await home.locator('button[data-action-id="deadletter_replay"]').count()).toBe(0);

    // Another person has another Home: a guest is told why not, with nothing of the vault.
    await page.getByTestId("user-picker").selectOption("U0GUEST");
    await expect
      .poll(() => home.textContent(), { timeout: STEP_MS })
      .toContain("is not a member of the SRE group");
    expect(await home.textContent()).not.toContain("dead letters are parked");

    // Back to the channel.
    await page.getByTestId("sidebar-channel").click();
    expect(await home.isVisible()).toBe(false);
    expect(await page.getByTestId("composer").isVisible()).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("holds up at 800 px and 600 px: folded panels, Send never covered, the channel scrolls as Slack's", async () => {
    await openWorkbench(800, 800);
    const sendButton = page.getByTestId("send");
    const toggle = page.getByTestId("panels-toggle");
    const panels = page.locator(".side-panels");
    const channel = page.getByTestId("channel");

    // Folded: the channel has the room, Send is where a click lands, and sends.
    expect(await panels.isVisible()).toBe(false);
    expect(await page.locator(".sidebar").isVisible()).toBe(true);
    await expectClickable(sendButton);
    await page.getByTestId("user-picker").selectOption("U0MEMBER");
    await page.getByTestId("composer").fill("hello at 800 px");
    await sendButton.click();
    await page.getByTestId("message").filter({ hasText: "hello at 800 px" }).first().waitFor();

    // Unfolded: a column beside the channel, not over it.
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    await page.getByTestId("trouble").waitFor();
    // The channel, narrower now, still shows its newest message.
    await expect.poll(async () => (await channelScroll()).atBottom).toBe(true);
    await expectClickable(sendButton);
    await expectClickable(page.getByTestId("fire-alert"));
    expect(overlaps(await panels.boundingBox(), await page.getByTestId("composer-form").boundingBox())).toBe(
      false,
    );
    // The Mail panel fits the narrow column: an opened mail wraps rather than widening it.
    const mail = page.getByTestId("mail-message").first();
    await mail.locator("summary").click();
    await mail.getByTestId("mail-text").waitFor();
    expect(await panels.evaluate((column) => column.scrollWidth <= column.clientWidth)).toBe(true);

    // An alert on an empty dead-letter queue: 202, then the panel says that nothing was there.
    await page.getByTestId("trouble-queue").selectOption("victoria-failed-requests");
    await page.getByTestId("alert-kind").selectOption("event-grid");
    const releaseAlert = await holdRequests("/workbench/api/alerts");
    await page.getByTestId("fire-alert").click();
    await expectBusy(page.getByTestId("fire-alert"), "Firing…");
    await releaseAlert();
    await expect.poll(() => page.getByTestId("trouble-result").textContent()).toContain("202");
    await expect
      .poll(() => page.getByTestId("trouble-followup").textContent(), { timeout: STEP_MS })
      .toBe(
        "Nothing dead-lettered on victoria-failed-requests: the drain found its dead-letter queue empty, so it posted nothing.",
      );
    await page.screenshot({ path: join(ARTIFACTS, "workbench-800.png"), fullPage: true });

    // Scrolled up to read, others' messages do not move the list: a pill says they came.
    await postAs("U0GUEST", Array.from({ length: 40 }, (_, i) => `line ${i + 1} of a long paste`).join("\n"));
    await page.getByTestId("message").filter({ hasText: "line 40 of a long paste" }).first().waitFor();
    expect((await channelScroll()).scrollable).toBe(true);
    await channel.evaluate((list) => {
      list.scrollTop = 0;
    });
    await postAs("U0GUEST", "guest chatter while you read");
    await page.getByTestId("message").filter({ hasText: "guest chatter while you read" }).first().waitFor();
    const pill = page.getByTestId("new-messages");
    await pill.waitFor({ state: "visible" });
    expect((await channelScroll()).top).toBe(0);
    await pill.click();
    await expect.poll(async () => (await channelScroll()).atBottom).toBe(true);
    await pill.waitFor({ state: "hidden" });

    // Scrolled up, one's own message brings the list down to it.
    await channel.evaluate((list) => {
      list.scrollTop = 0;
    });
    await page.getByTestId("composer").fill("my own message");
    await page.getByTestId("composer").press("Enter");
    await page.getByTestId("message").filter({ hasText: "my own message" }).first().waitFor();
    await expect.poll(async () => (await channelScroll()).atBottom).toBe(true);
    expect(await pill.isVisible()).toBe(false);

    // 600 px: no sidebar; open panels take the channel's place, and closing them gives Send back.
    await page.setViewportSize({ width: 600, height: 800 });
    expect(await page.locator(".sidebar").isVisible()).toBe(false);
    expect(await panels.isVisible()).toBe(true);
    expect(await sendButton.isVisible()).toBe(false);
    await page.getByTestId("panels-close").click();
    expect(await panels.isVisible()).toBe(false);
    await expectClickable(sendButton);

    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
