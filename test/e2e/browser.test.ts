/**
 * The demo page in a real browser (Debian's chromium driven by playwright-core)
 * against a real `wrangler dev` with a seeded channel: the newest messages
 * render, a scrollbar drag to the middle shows exactly the messages at that
 * position, a message sent through the API appears live, and a late message
 * outside the view raises the badge whose click lands on it; ~1,000 fast live
 * arrivals keep the newest rows real; at phone width (390 px) everything is
 * reachable, the user name and badge survive a reload and a bad channel name
 * shows the server's error; and a network drop while parked mid-history comes
 * back showing exactly a fresh page over the same range; a `#token=` goes as
 * the subprotocol `bearer.<jwt>` (answered `scrollback`) and in no URL; the
 * API reference at /docs lists every route of the OpenAPI document, without a
 * request to any other host. Screenshots of each step go to test-output/browser/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
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

  it("keeps the newest rows real through ~1,000 fast live arrivals", async () => {
    await page.keyboard.press("End");
    await settled();
    let lastId = "";
    // 100 batches of 10 as fast as the API takes them: the live window passes its 600-row bound.
    for (let b = 0; b < 100; b++) {
      const messages = Array.from({ length: 10 }, (_, i) => ({
        id: `fast-${b}-${i}`,
        author: "fast",
        text: `arrival ${b * 10 + i}`,
      }));
      lastId = messages[9]?.id ?? lastId;
      await api(server, `/v1/channels/${CHANNEL}/messages`, { method: "POST", body: { messages } });
    }
    await page.waitForSelector(`.row[data-id="${lastId}"]`, { timeout: 60_000 });
    const rows = await settled();
    const stats = await api<Stats>(server, `/v1/channels/${CHANNEL}`);
    expect(rows.at(-1)).toEqual({ position: stats.total - 1, id: lastId });
    const expected = await apiPage("newest", rows.length - 1, 0);
    expect(rows.map((r) => r.id)).toEqual(expected.messages.map((m) => m.id));
    expect(rows.map((r) => r.position)).toEqual(
      expected.messages.map((_, i) => expected.start + i),
    );
    await page.screenshot({ path: `${OUT}/7-fast-live.png` });
  });

  it("comes back from a network drop mid-history showing exactly a fresh page", async () => {
    const context = page.context();
    // Park in the middle of the channel.
    await page.keyboard.press("Home");
    await settled();
    for (let i = 0; i < 40; i++) await page.keyboard.press("PageDown");
    const before = await settled();
    const first = before[0];
    if (!first || first.position < 100) throw new Error("not parked mid-history");
    const stats0 = await api<Stats>(server, `/v1/channels/${CHANNEL}`);
    // Drop: offline, and the open socket closed under the client.
    await context.setOffline(true);
    await page.evaluate("globalThis.scrollback.sockets.at(-1).close()");
    await page.waitForFunction(
      "document.querySelector('#conn').textContent.includes('reconnecting')",
    );
    // Meanwhile: late arrivals above the view and inside it, and some at the bottom.
    const inside = await apiPage(`id:${first.id}`, 0, 3);
    const above = await apiPage(`pos:${Math.floor(first.position / 2)}`, 0, 0);
    const [a0] = above.messages;
    const [i0] = inside.messages;
    if (!a0 || !i0) throw new Error("no anchors");
    await api(server, `/v1/channels/${CHANNEL}/messages`, {
      method: "POST",
      body: {
        messages: [
          { id: "drop-above-1", ts: a0.ts, author: "peer", text: "landed above" },
          { id: "drop-above-2", ts: a0.ts + 1, author: "peer", text: "landed above" },
          { id: `${i0.id}~in`, ts: i0.ts, author: "peer", text: "landed in view" },
          { author: "api", text: "at the bottom" },
        ],
      },
    });
    await context.setOffline(false);
    await page.waitForFunction("document.querySelector('#conn').textContent.includes('resumed')", {
      timeout: 60_000,
    });
    const stats1 = await api<Stats>(server, `/v1/channels/${CHANNEL}`);
    expect(stats1.total).toBe(stats0.total + 4);
    const rows = await settled();
    // The reader's place held: the same first message, two positions further down.
    expect(rows[0]).toEqual({ position: first.position + 2, id: first.id });
    expect(rows[1]).toEqual({ position: first.position + 3, id: `${i0.id}~in` });
    const fresh = await apiPage(`pos:${rows[0]?.position}`, 0, rows.length - 1);
    expect(rows.map((r) => r.id)).toEqual(fresh.messages.map((m) => m.id));
    expect(rows.map((r) => r.position)).toEqual(fresh.messages.map((_, i) => fresh.start + i));
    await page.screenshot({ path: `${OUT}/8-after-drop.png` });
  });

  it("offers a #token= as the subprotocol bearer.<jwt>, answered scrollback, in no URL", async () => {
    // The open worker ignores tokens but answers the subprotocol: Chromium fails a socket otherwise.
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIifQ.c2lnbmF0dXJl";
    const tab = await browser.newPage();
    const cdp = await tab.context().newCDPSession(tab);
    await cdp.send("Network.enable");
    const urls: string[] = [];
    tab.on("request", (request) => urls.push(request.url()));
    tab.on("websocket", (socket) => urls.push(socket.url()));
    const handshake = new Promise<{ offered: string | undefined; answered: string | undefined }>(
      (resolve) => {
        let offered: string | undefined;
        cdp.on("Network.webSocketWillSendHandshakeRequest", (event) => {
          offered = event.request.headers["Sec-WebSocket-Protocol"];
        });
        cdp.on("Network.webSocketHandshakeResponseReceived", (event) => {
          const headers = Object.entries(event.response.headers);
          const answered = headers.find(
            ([name]) => name.toLowerCase() === "sec-websocket-protocol",
          );
          resolve({ offered, answered: answered?.[1] });
        });
      },
    );
    await tab.goto(`${server.url}/?channel=${CHANNEL}&user=tokenholder#token=${jwt}`);
    await tab.waitForFunction("document.querySelectorAll('.row[data-id]').length > 0");
    expect(await handshake).toEqual({
      offered: `scrollback, bearer.${jwt}`,
      answered: "scrollback",
    });
    expect(urls.filter((url) => url.includes(jwt))).toEqual([]);
    expect(urls.some((url) => url.startsWith("ws:"))).toBe(true);
    await tab.close();
  });

  describe("on a phone (390 px)", () => {
    let context: BrowserContext;
    let phone: Page;

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      phone = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
    });

    /** The element is on screen, whole, within the 390 px width. */
    async function reachable(selector: string): Promise<void> {
      const box = await phone.locator(selector).boundingBox();
      expect(box, selector).not.toBeNull();
      if (!box) return;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(box.y + box.height).toBeLessThanOrEqual(844);
      expect(box.width).toBeGreaterThan(20);
    }

    it("keeps the badge, the send box and the simulator switch reachable, and the text readable", async () => {
      await phone.goto(`${server.url}/?channel=${CHANNEL}&user=phoneuser`);
      await phone.waitForFunction("document.querySelectorAll('.row[data-id]').length > 0");
      // A late message for this user: the badge shows.
      const middle = await apiPage(`pos:${Math.floor(COUNT / 4)}`, 0, 0);
      const [m] = middle.messages;
      if (!m) throw new Error("no message");
      await api(server, `/v1/channels/${CHANNEL}/messages`, {
        method: "POST",
        body: { messages: [{ id: "phone-late", ts: m.ts, author: "peer", text: "late" }] },
      });
      await phone.waitForSelector("#late-badge:not([hidden])");
      for (const selector of ["#late-badge", "#sim-toggle", "#text", "#composer button", "#user"])
        await reachable(selector);
      await phone.screenshot({ path: `${OUT}/9-phone.png` });
      // The text keeps most of the row: time and author take little of it.
      const row = await phone.locator(".row[data-id]").last().boundingBox();
      const author = await phone.locator(".row[data-id] .author").last().boundingBox();
      if (!row || !author) throw new Error("no row");
      expect(row.x + row.width - (author.x + author.width)).toBeGreaterThan(200);
    });

    it("keeps the user name and the badge across a reload", async () => {
      await phone.goto(`${server.url}/?channel=${CHANNEL}`);
      expect(await phone.locator("#user").inputValue()).toBe("phoneuser");
      await phone.waitForSelector("#late-badge:not([hidden])");
      expect(await phone.locator("#late-badge").textContent()).toMatch(/^1 late/);
    });

    it("shows the server's error for a bad channel name", async () => {
      await phone.goto(`${server.url}/?channel=${encodeURIComponent("bad name!")}`);
      await phone.waitForFunction("document.querySelector('#conn').textContent.includes('error')");
      expect(await phone.locator("#conn").textContent()).toMatch(/must be 1–64 characters/);
      await phone.screenshot({ path: `${OUT}/10-bad-channel.png` });
    });

    it("sits a short channel at the bottom, like a chat app", async () => {
      const short = `short-${Date.now()}`;
      await api(server, `/v1/channels/${short}/messages`, {
        method: "POST",
        body: {
          messages: [
            { id: "s1", author: "a", text: "first" },
            { id: "s2", author: "a", text: "second" },
          ],
        },
      });
      await phone.goto(`${server.url}/?channel=${short}`);
      await phone.waitForSelector('.row[data-id="s2"]');
      const last = await phone.locator('.row[data-id="s2"]').boundingBox();
      const viewport = await phone.locator("#viewport").boundingBox();
      if (!last || !viewport) throw new Error("no layout");
      expect(viewport.y + viewport.height - (last.y + last.height)).toBeLessThan(30);
      await phone.screenshot({ path: `${OUT}/11-short-channel.png` });
    });
  });
});
