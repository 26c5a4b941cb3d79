/**
 * The demo page in a real browser (Debian's chromium driven by playwright-core)
 * against a real `wrangler dev` with a seeded channel: the newest messages
 * render, a scrollbar drag to the middle shows exactly the messages at that
 * position, a message sent through the API appears live, and a late message
 * outside the view raises the badge whose click lands on it; the API
 * reference at /docs lists every route of the OpenAPI document, without a
 * request to any other host. Screenshots of each step go to test-output/browser/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../scripts/lib/api.ts";
import { removeStateDir, type Server, startServer } from "../../scripts/lib/server.ts";
import { SEED_DEFAULTS, seed } from "../../scripts/seed.ts";
import type { PageBody, Stats } from "../../src/protocol/schemas.ts";

/** The routes of the served OpenAPI document, as the reference page labels them. */
async function documentedRoutes(url: string): Promise<string[]> {
  const doc = await api<{ paths: Record<string, Record<string, unknown>> }>(
    { url },
    "/v1/openapi.json",
  );
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => key !== "parameters")
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUT = "test-output/browser";
const CHANNEL = "browser";
const COUNT = 100_000;
// CI installs chromium (.ci/run); elsewhere the test says why it is skipped.
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it`);
if (!available) console.warn(`browser test skipped: no ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!available)("demo page", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startServer();
    await seed({
      ...SEED_DEFAULTS,
      url: server.url,
      channel: CHANNEL,
      count: COUNT,
      progress: false,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (server) await removeStateDir(server.persistTo);
  });

  /** What the page shows: [position, id] of each rendered message row. */
  async function rendered(): Promise<{ position: number; id: string | null }[]> {
    return page.$$eval(".row", (rows) =>
      rows.map((row) => ({
        position: Number(row.getAttribute("data-position")),
        id: row.getAttribute("data-id"),
      })),
    );
  }

  /** Waits until every visible row holds its message (no placeholders left). */
  async function settled(): Promise<{ position: number; id: string }[]> {
    // A string: this runs in the page, whose DOM types the Node program does not load.
    await page.waitForFunction(
      "document.querySelectorAll('.row').length > 0 && document.querySelectorAll('.row.placeholder').length === 0",
    );
    return (await rendered()) as { position: number; id: string }[];
  }

  async function apiPage(anchor: string, before: number, after: number): Promise<PageBody> {
    return api<PageBody>(
      server,
      `/v1/channels/${CHANNEL}/messages?anchor=${anchor}&before=${before}&after=${after}`,
    );
  }

  it("shows the newest messages on open", async () => {
    await page.goto(`${server.url}/?channel=${CHANNEL}&user=tester`);
    const rows = await settled();
    const stats = await api<Stats>(server, `/v1/channels/${CHANNEL}`);
    const last = rows[rows.length - 1];
    expect(last?.position).toBe(stats.total - 1);
    expect(last?.id).toBe(stats.newest?.id);
    const expected = await apiPage("newest", rows.length - 1, 0);
    expect(rows.map((r) => r.id)).toEqual(expected.messages.map((m) => m.id));
    await page.screenshot({ path: `${OUT}/1-newest.png` });
  });

  it("shows exactly the messages at the position a scrollbar drag lands on", async () => {
    const bar = await page.locator("#scrollbar").boundingBox();
    const thumb = await page.locator("#thumb").boundingBox();
    if (!bar || !thumb) throw new Error("no scrollbar");
    await page.mouse.move(thumb.x + thumb.width / 2, thumb.y + thumb.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2, { steps: 8 });
    await page.screenshot({ path: `${OUT}/2-dragging.png` });
    await page.mouse.up();
    const rows = await settled();
    const first = rows[0];
    if (!first) throw new Error("no rows");
    // Dropped near the middle of the channel…
    expect(first.position).toBeGreaterThan(COUNT * 0.4);
    expect(first.position).toBeLessThan(COUNT * 0.6);
    // …showing exactly what the API has at those positions.
    const expected = await apiPage(`pos:${first.position}`, 0, rows.length - 1);
    expect(expected.start).toBe(first.position);
    expect(rows.map((r) => r.id)).toEqual(expected.messages.map((m) => m.id));
    await page.screenshot({ path: `${OUT}/3-middle.png` });
  });

  it("shows a message sent through the API live at the bottom", async () => {
    await page.keyboard.press("End");
    await settled();
    const id = `browser-live-${Date.now()}`;
    await api(server, `/v1/channels/${CHANNEL}/messages`, {
      method: "POST",
      body: { messages: [{ id, author: "api", text: "hello from the API" }] },
    });
    await page.waitForSelector(`.row[data-id="${id}"]`);
    const rows = await settled();
    const stats = await api<Stats>(server, `/v1/channels/${CHANNEL}`);
    expect(rows[rows.length - 1]).toEqual({ position: stats.total - 1, id });
    await page.screenshot({ path: `${OUT}/4-live.png` });
  });

  it("raises the late badge for a late message outside the view, and its click lands on it", async () => {
    const middle = await apiPage(`pos:${Math.floor(COUNT / 3)}`, 0, 1);
    const [a] = middle.messages;
    if (!a) throw new Error("no message");
    const id = "browser-late-1";
    await api(server, `/v1/channels/${CHANNEL}/messages`, {
      method: "POST",
      body: { messages: [{ id, ts: a.ts, author: "peer", text: "I was offline" }] },
    });
    await page.waitForSelector("#late-badge:not([hidden])");
    expect(await page.locator("#late-badge").textContent()).toMatch(/^1 late/);
    await page.screenshot({ path: `${OUT}/5-badge.png` });
    await page.click("#late-badge");
    await page.waitForSelector(`.row.highlight[data-id="${id}"]`);
    const row = await page.locator(`.row[data-id="${id}"]`).getAttribute("data-position");
    const expected = await apiPage(`id:${id}`, 0, 0);
    expect(Number(row)).toBe(expected.start);
    // Declaring the view around it marked it seen: the badge is gone.
    await page.waitForSelector("#late-badge[hidden]", { state: "attached" });
    await page.screenshot({ path: `${OUT}/6-late-landed.png` });
  });

  it("lists every route of the OpenAPI document at /docs, with nothing fetched from elsewhere", async () => {
    const docs = await browser.newPage();
    const foreign: string[] = [];
    docs.on("request", (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith("data:")) {
        foreign.push(request.url());
      }
    });
    await docs.goto(`${server.url}/docs`);
    await docs.waitForSelector(".op");
    const shown = await docs.$$eval(".op", (ops) =>
      ops.map((op) => `${op.getAttribute("data-method")} ${op.getAttribute("data-path")}`),
    );
    expect(shown.sort()).toEqual((await documentedRoutes(server.url)).sort());
    // The try-it form of the stats route answers from the worker.
    const stats = docs.locator("#getStats");
    await stats.locator('input[name="ch"]').fill(CHANNEL);
    await stats.locator("button[type=submit]").click();
    await docs.waitForFunction(
      "document.querySelector('#getStats .answer')?.textContent?.startsWith('200')",
    );
    expect(await stats.locator(".answer").textContent()).toContain(`"channel": "${CHANNEL}"`);
    await docs.screenshot({ path: `${OUT}/7-docs.png`, fullPage: false });
    expect(foreign).toEqual([]);
    // The demo page links to it.
    expect(await page.locator('a[href="/docs"]').count()).toBe(1);
    await docs.close();
  });
});
