import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import { repoRoot, type SpawnedServer, spawnLocalServer } from "./spawn-local-server";

/**
 * The workbench as a person uses it, in headless Chromium (the one `npm ci` installs, see
 * ./browser.ts): a member runs a command, a guest is refused, a dead letter is made and alerted on,
 * Replay puts it back on its queue and the notification names who replayed it.
 */
const SCREENSHOT = join(repoRoot, "test-artifacts", "workbench.png");
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
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function send(user: string, text: string): Promise<void> {
  await page.getByTestId("user-picker").selectOption(user);
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("composer").press("Enter");
}

const queueCell = (queue: string, cell: "active" | "dead-letter") =>
  page.locator(`[data-testid="queues"] [data-queue="${queue}"] .${cell}`);

describe("the workbench in a browser", () => {
  it("runs the whole story, as a member, a guest and an SRE resolving a dead letter", async () => {
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByTestId("user-picker").locator("option").count()).toBe(2);

    // A member runs `config view` and sees the output in the channel.
    await send("U0MEMBER", "/victoria config view");
    const output = page.getByTestId("message").filter({ hasText: "storage_providers" });
    await output.first().waitFor();
    await expect.poll(() => page.getByTestId("last-request").textContent()).toContain("/authenticate");

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

    // Replay: the message lands back on its queue and the notification says who replayed it.
    await notification.first().locator('button[data-action-id="deadletter_replay"]').click();
    await expect.poll(() => queueCell("orders", "active").textContent(), { timeout: STEP_MS }).toBe("1");
    await page.locator('[data-testid="vault-record"][data-state="replayed"]').first().waitFor();
    await expect
      .poll(() => notification.first().textContent(), { timeout: STEP_MS })
      .toMatch(/Replayed[\s\S]*@sre|@sre[\s\S]*[Rr]eplayed/);

    await mkdir(join(repoRoot, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
