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
 * request to any other host. Protocol 1.2: reactions show under a message and
 * toggle from a reaction or the picker (by mouse and keyboard), seen by a
 * second user; the user's own messages, and only those, edit in place (Enter
 * saves, Escape cancels) and delete after a confirmation; edited messages carry
 * the mark with the edit's time; messages deleted above a parked reader move
 * none of the rows on screen, one deleted in view closes up, and a row that
 * gets reactions moves only the rows below it; on a phone the controls and the
 * picker fit; a change the server refuses shows its error. The reader's
 * place: a reaction by another user to the user's message outside the view
 * raises the reaction badge, whose click lands on it; a reopened page opens
 * at the first unread message under a "new messages" line that stays put as
 * the page reads on and messages arrive, with the unread count on the jump
 * to the newest; two tabs of one user show the same badges and count after
 * a view, an ack and a read on either. Screenshots of each step go to
 * test-output/browser/ (15-demo.png is docs/demo.png, 18-first-unread.png
 * docs/demo-first-unread.png).
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../scripts/lib/api.ts";
import { removeStateDir, type Server, startServer } from "../../scripts/lib/server.ts";
import { SEED_DEFAULTS, seed } from "../../scripts/seed.ts";
import type { Change, ChangesReply, Message, PageBody, Stats } from "../../src/protocol/schemas.ts";

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
  async function rendered(tab = page): Promise<{ position: number; id: string | null }[]> {
    return tab.$$eval(".row", (rows) =>
      rows.map((row) => ({
        position: Number(row.getAttribute("data-position")),
        id: row.getAttribute("data-id"),
      })),
    );
  }

  /** Waits until every visible row holds its message (no placeholders left). */
  async function settled(tab = page): Promise<{ position: number; id: string }[]> {
    // A string: this runs in the page, whose DOM types the Node program does not load.
    await tab.waitForFunction(
      "document.querySelectorAll('.row').length > 0 && document.querySelectorAll('.row.placeholder').length === 0",
    );
    return (await rendered(tab)) as { position: number; id: string }[];
  }

  async function apiPage(anchor: string, before: number, after: number): Promise<PageBody> {
    return api<PageBody>(
      server,
      `/v1/channels/${CHANNEL}/messages?anchor=${anchor}&before=${before}&after=${after}`,
    );
  }

  /** How long a change may take to show on a shared, busy machine: generous, never the point. */
  const SHOWN = { timeout: 60_000, interval: 100 };

  const row = (tab: Page, id: string) => tab.locator(`.row[data-id="${id}"]`);

  /** Changes as `user` over HTTP (an open worker takes the body's user). */
  function changeAs(user: string, changes: Change[]): Promise<ChangesReply> {
    return api(server, `/v1/channels/${CHANNEL}/changes`, {
      method: "POST",
      body: { user, changes },
    });
  }

  /** Inserts messages over HTTP, as the API's clients (peers, bots) do. */
  async function post(messages: { id: string; author: string; text: string; ts?: number }[]) {
    await api(server, `/v1/channels/${CHANNEL}/messages`, { method: "POST", body: { messages } });
  }

  /** The element is on the tab's screen, whole (at 390 px, within the phone's width). */
  async function reachable(tab: Page, selector: string): Promise<void> {
    const box = await tab.locator(selector).boundingBox();
    const screen = tab.viewportSize();
    expect(box, selector).not.toBeNull();
    if (!box || !screen) return;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(screen.width);
    expect(box.y + box.height).toBeLessThanOrEqual(screen.height);
    expect(box.width).toBeGreaterThan(20);
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

  describe("edits, deletes and reactions (protocol 1.2)", () => {
    /** A second user's page on the channel: what the tester changes, it sees. */
    let other: Page;
    /** The message the reaction test reacts to (the screenshot shows it with its picker open). */
    let reacted = "";

    beforeAll(async () => {
      other = await browser.newPage({ viewport: { width: 1100, height: 700 } });
      await other.goto(`${server.url}/?channel=${CHANNEL}&user=second`);
      await settled(other);
    });
    afterAll(async () => {
      await other?.close();
    });

    /** The stored message, as HTTP answers it (no `mine`). */
    async function stored(id: string): Promise<Message | undefined> {
      return (await apiPage(`id:${encodeURIComponent(id)}`, 0, 0)).messages[0];
    }

    /** The reactions a row shows: emoji, count, and pressed (the user's own). */
    function shownReactions(tab: Page, id: string) {
      return row(tab, id)
        .locator(".reactions button")
        .evaluateAll((chips) =>
          chips.map((chip) => ({
            emoji: chip.getAttribute("data-emoji"),
            count: Number(chip.querySelector(".count")?.textContent),
            mine: chip.getAttribute("aria-pressed") === "true",
          })),
        );
    }

    /** Waits until the tester's page shows `reactions`, and the second user's the same, none theirs. */
    async function seenByBoth(
      id: string,
      reactions: { emoji: string; count: number; mine: boolean }[],
    ): Promise<void> {
      await expect.poll(() => shownReactions(page, id), SHOWN).toEqual(reactions);
      await expect
        .poll(() => shownReactions(other, id), SHOWN)
        .toEqual(reactions.map((r) => ({ ...r, mine: false })));
    }

    /** The rows on screen: id, position and where each is on screen. */
    async function onScreen(): Promise<{ id: string; position: number; y: number }[]> {
      await settled();
      return page.$$eval(".row", (rows) =>
        rows.map((r) => ({
          id: r.getAttribute("data-id") ?? "",
          position: Number(r.getAttribute("data-position")),
          y: r.getBoundingClientRect().top,
        })),
      );
    }

    const focusedKey = (tab: Page) => tab.evaluate("document.activeElement?.dataset.key");
    /** The edited mark's time, as the page formats it (in the browser's locale and zone). */
    const FULL_TIME = `new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" })`;

    it("shows reactions under a message, the user's own highlighted, toggled from a reaction and from the picker, for every user", async () => {
      await page.keyboard.press("End");
      const rows = await settled();
      await settled(other);
      // A message on both screens (both follow the bottom), by neither user.
      const id = rows.at(-3)?.id;
      if (!id) throw new Error("no rows");
      reacted = id;
      await changeAs("peer", [{ kind: "react", id, emoji: "👍", on: true, ts: Date.now() }]);
      await seenByBoth(id, [{ emoji: "👍", count: 1, mine: false }]);
      // A click on a reaction adds the user's own.
      await row(page, id).locator('.reactions [data-emoji="👍"]').click();
      await seenByBoth(id, [{ emoji: "👍", count: 2, mine: true }]);
      // The picker by keyboard: Enter opens it on its first emoji, Escape closes it back on its button.
      const pick = row(page, id).locator('[data-action="pick"]');
      await pick.focus();
      await page.keyboard.press("Enter");
      await expect.poll(() => focusedKey(page), SHOWN).toBe("pick:👍");
      await page.keyboard.press("Escape");
      await expect.poll(() => row(page, id).locator(".picker").count(), SHOWN).toBe(0);
      expect(await focusedKey(page)).toBe("pick");
      // …and by mouse: 🎉 picked, the picker closed.
      await row(page, id).hover();
      await pick.click();
      await row(page, id).locator('.picker [data-emoji="🎉"]').click();
      await expect.poll(() => row(page, id).locator(".picker").count(), SHOWN).toBe(0);
      await seenByBoth(id, [
        { emoji: "🎉", count: 1, mine: true },
        { emoji: "👍", count: 2, mine: true },
      ]);
      expect((await stored(id))?.reactions).toEqual([
        { emoji: "🎉", count: 1 },
        { emoji: "👍", count: 2 },
      ]);
      // A click (here Enter) on the user's own reaction takes it off, for every user.
      await row(page, id).locator('.reactions [data-emoji="🎉"]').focus();
      await page.keyboard.press("Enter");
      await seenByBoth(id, [{ emoji: "👍", count: 2, mine: true }]);
      expect((await stored(id))?.reactions).toEqual([{ emoji: "👍", count: 2 }]);
      // Every control in the rows says what it does.
      const unnamed = await page
        .locator(".row button, .row input")
        .evaluateAll(
          (controls) =>
            controls.filter((c) => !(c.getAttribute("aria-label") || c.textContent?.trim())).length,
        );
      expect(unnamed).toBe(0);
    });

    it("edits and deletes the user's own messages in place, and offers neither on others' messages", async () => {
      for (const text of ["mine to edit", "mine to delete"]) {
        await page.fill("#text", text);
        await page.press("#text", "Enter");
      }
      const own = (text: string) =>
        page.locator(".row.own", { has: page.locator(".text", { hasText: text }) });
      await own("mine to delete").waitFor({ timeout: SHOWN.timeout });
      const editId = (await own("mine to edit").getAttribute("data-id")) ?? "";
      const deleteId = (await own("mine to delete").getAttribute("data-id")) ?? "";
      // Edit and delete on the user's own rows, and only there.
      const controls = await page.locator(".row[data-id]").evaluateAll((rows) =>
        rows.map((r) => ({
          author: r.querySelector(".author")?.textContent,
          edit: r.querySelector('[data-action="edit"]') !== null,
          delete: r.querySelector('[data-action="delete"]') !== null,
        })),
      );
      expect(controls.filter((c) => c.author === "tester").length).toBeGreaterThanOrEqual(2);
      expect(controls.filter((c) => c.author !== "tester").length).toBeGreaterThan(5);
      for (const c of controls) {
        const mine = c.author === "tester";
        expect(c).toEqual({ author: c.author, edit: mine, delete: mine });
      }
      await row(other, editId).waitFor({ timeout: SHOWN.timeout });
      expect(
        await row(other, editId).locator("[data-action=edit], [data-action=delete]").count(),
      ).toBe(0);

      // Escape cancels an edit.
      const edited = row(page, editId);
      await edited.hover();
      await edited.locator('[data-action="edit"]').click();
      const input = edited.locator(".edit-text");
      expect(await input.inputValue()).toBe("mine to edit");
      expect(await focusedKey(page)).toBe("editor");
      await page.keyboard.type(" and more");
      expect(await input.inputValue()).toBe("mine to edit and more");
      await page.keyboard.press("Escape");
      await expect.poll(() => input.count(), SHOWN).toBe(0);
      expect(await edited.locator(".text").textContent()).toBe("mine to edit");
      expect(await edited.locator(".edited").count()).toBe(0);
      // Enter saves: the new text and the edited mark, the edit's time its tooltip, for every user.
      await edited.hover();
      await edited.locator('[data-action="edit"]').click();
      await input.fill("edited by me");
      await input.press("Enter");
      for (const tab of [page, other]) {
        await expect
          .poll(() => row(tab, editId).locator(".text").textContent(), SHOWN)
          .toBe("edited by me");
      }
      const saved = await stored(editId);
      expect(saved?.text).toBe("edited by me");
      const when = await page.evaluate(`${FULL_TIME}.format(${saved?.edited})`);
      for (const tab of [page, other]) {
        expect(await row(tab, editId).locator(".edited").getAttribute("title")).toBe(
          `edited ${when}`,
        );
      }

      // Reactions, an edited message, the picker open.
      await row(page, reacted).hover();
      await row(page, reacted).locator('[data-action="pick"]').click();
      await row(page, reacted).locator(".picker").waitFor();
      await page.screenshot({ path: `${OUT}/13-changes.png` });
      await page.keyboard.press("Escape");

      // Delete asks first, and Cancel keeps the message.
      const doomed = row(page, deleteId);
      await doomed.hover();
      await doomed.locator('[data-action="delete"]').click();
      await doomed.locator('[data-action="delete-no"]').click();
      expect(await doomed.locator(".confirm").count()).toBe(0);
      expect(await doomed.count()).toBe(1);
      await doomed.hover();
      await doomed.locator('[data-action="delete"]').click();
      await doomed.locator('[data-action="delete-yes"]').click();
      for (const tab of [page, other]) {
        await row(tab, deleteId).waitFor({ state: "detached", timeout: SHOWN.timeout });
      }
      await expect(stored(deleteId)).rejects.toMatchObject({ code: "not_found" });
      // What is left closed up: exactly the newest messages, at their positions.
      const rows = await settled();
      const fresh = await apiPage("newest", rows.length - 1, 0);
      expect(rows.map((r) => r.id)).toEqual(fresh.messages.map((m) => m.id));
      expect(rows.map((r) => r.position)).toEqual(fresh.messages.map((_, i) => fresh.start + i));
    });

    it("marks a message its author edited elsewhere, with the edit's time", async () => {
      const rows = await settled();
      const id = rows.at(-6)?.id ?? "";
      const message = await stored(id);
      if (!message) throw new Error("no message");
      const ts = Date.now();
      await changeAs(message.author, [{ kind: "edit", id, text: "changed by its author", ts }]);
      const when = await page.evaluate(`${FULL_TIME}.format(${ts})`);
      for (const tab of [page, other]) {
        await expect
          .poll(() => row(tab, id).locator(".text").textContent(), SHOWN)
          .toBe("changed by its author");
        expect(await row(tab, id).locator(".edited").getAttribute("title")).toBe(`edited ${when}`);
      }
    });

    it("keeps the rows the reader sees still when messages above are deleted, and closes up over one deleted in view", async () => {
      // Parked mid-history.
      await page.keyboard.press("Home");
      await settled();
      for (let i = 0; i < 30; i++) await page.keyboard.press("PageDown");
      const before = await onScreen();
      const first = before[0];
      if (!first || first.position < 100) throw new Error("not parked mid-history");
      // One just above the screen (held by the window: a remove push), one far above (outside
      // what it holds: the status's shift); each deleted by its author.
      const near = (await apiPage(`pos:${first.position - 3}`, 0, 0)).messages[0];
      const far = (await apiPage("pos:2", 0, 0)).messages[0];
      if (!near || !far) throw new Error("no messages above");
      await changeAs(near.author, [{ kind: "delete", id: near.id }]);
      await changeAs(far.author, [{ kind: "delete", id: far.id }]);
      await page.waitForFunction(
        `document.querySelector('.row')?.dataset.position === '${first.position - 2}'`,
        undefined,
        { timeout: SHOWN.timeout },
      );
      const after = await onScreen();
      // The same rows at the same places on screen, each two positions up.
      expect(after.map(({ id, y }) => ({ id, y }))).toEqual(before.map(({ id, y }) => ({ id, y })));
      expect(after.map((r) => r.position)).toEqual(before.map((r) => r.position - 2));
      const fresh = await apiPage(`pos:${first.position - 2}`, 0, after.length - 1);
      expect(after.map((r) => r.id)).toEqual(fresh.messages.map((m) => m.id));
      await page.screenshot({ path: `${OUT}/14-deleted-above.png` });

      // One deleted in view: the rows above it stay, the rows below move up into its place.
      const gone = after[3];
      const next = after[4];
      const goneMessage = await stored(gone?.id ?? "");
      if (!gone || !next || !goneMessage) throw new Error("no rows");
      await changeAs(goneMessage.author, [{ kind: "delete", id: gone.id }]);
      await row(page, gone.id).waitFor({ state: "detached", timeout: SHOWN.timeout });
      const closed = await onScreen();
      expect(closed.slice(0, 3)).toEqual(after.slice(0, 3));
      const height = next.y - gone.y;
      expect(closed.slice(3, after.length - 1)).toEqual(
        after.slice(4).map((r) => ({ id: r.id, position: r.position - 1, y: r.y - height })),
      );
      const refreshed = await apiPage(`pos:${first.position - 2}`, 0, closed.length - 1);
      expect(closed.map((r) => r.id)).toEqual(refreshed.messages.map((m) => m.id));
    });

    it("grows a row that gets reactions, moving only the rows below it", async () => {
      const before = await onScreen();
      const [a, b] = [before[4], before[8]];
      if (!a || !b || before.length < 14) throw new Error("too few rows");
      const ts = Date.now();
      await changeAs("peer", [
        { kind: "react", id: a.id, emoji: "👍", on: true, ts },
        { kind: "react", id: b.id, emoji: "🎉", on: true, ts },
      ]);
      await changeAs("second", [{ kind: "react", id: a.id, emoji: "❤️", on: true, ts }]);
      await expect.poll(() => shownReactions(page, b.id), SHOWN).toHaveLength(1);
      await expect.poll(() => shownReactions(page, a.id), SHOWN).toHaveLength(2);
      const after = await onScreen();
      expect(after.slice(0, 5)).toEqual(before.slice(0, 5));
      const line = (after[5]?.y ?? 0) - (before[5]?.y ?? 0);
      expect(line).toBeGreaterThan(0);
      // Each row below a grown one moves down by its line of reactions, and no further.
      const moved = after
        .slice(5, 13)
        .map((r, i) => ({ id: r.id, dy: r.y - (before[5 + i]?.y ?? 0) }));
      expect(moved).toEqual(
        before.slice(5, 13).map((r, i) => ({ id: r.id, dy: i < 4 ? line : 2 * line })),
      );

      // The README's screenshot: late messages, reactions, an edit, the picker open.
      const c = before[1];
      const message = await stored(c?.id ?? "");
      if (!c || !message) throw new Error("no message");
      await changeAs(message.author, [{ kind: "edit", id: c.id, text: "edited: ship it", ts }]);
      await row(page, c.id).locator(".edited").waitFor({ timeout: SHOWN.timeout });
      await row(page, a.id).locator('.reactions [data-emoji="👍"]').click();
      await expect
        .poll(() => shownReactions(page, a.id), SHOWN)
        .toContainEqual({
          emoji: "👍",
          count: 2,
          mine: true,
        });
      await row(page, b.id).hover();
      await row(page, b.id).locator('[data-action="pick"]').click();
      await row(page, b.id).locator(".picker").waitFor();
      await page.screenshot({ path: `${OUT}/15-demo.png` });
      await page.keyboard.press("Escape");
    });

    it("shows the server's refusal of a change where the page shows errors, and keeps the editor open", async () => {
      // The page believes it is another message's author (through its debugging handle): the
      // server, which knows better, refuses the edit.
      const rows = await onScreen();
      const target = rows[2];
      const message = await stored(target?.id ?? "");
      if (!target || !message) throw new Error("no message");
      await page.evaluate(`globalThis.scrollback.state.me = ${JSON.stringify(message.author)}`);
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowUp");
      const edited = row(page, target.id);
      await edited.hover();
      await edited.locator('[data-action="edit"]').click();
      await edited.locator(".edit-text").fill("not yours");
      await edited.locator(".edit-text").press("Enter");
      await page.waitForSelector("#conn.error");
      expect(await page.locator("#conn").textContent()).toMatch(
        /^error: changes\[0\]: only its author may edit/,
      );
      expect(await edited.locator(".edit-text").inputValue()).toBe("not yours");
      expect((await stored(target.id))?.text).toBe(message.text);
      await edited.locator('[data-action="cancel-edit"]').click();
      await page.evaluate(`globalThis.scrollback.state.me = "tester"`);
    });
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
        await reachable(phone, selector);
      await phone.screenshot({ path: `${OUT}/9-phone.png` });
      // The text keeps most of the row: time and author take little of it.
      const row = await phone.locator(".row[data-id]").last().boundingBox();
      const author = await phone.locator(".row[data-id] .author").last().boundingBox();
      if (!row || !author) throw new Error("no row");
      expect(row.x + row.width - (author.x + author.width)).toBeGreaterThan(200);
    });

    it("keeps a message's controls and the reaction picker within the screen", async () => {
      await phone.fill("#text", "from the phone");
      await phone.press("#text", "Enter");
      const own = ".row.own >> nth=-1";
      await phone.locator(own).waitFor({ timeout: 60_000 });
      await phone.locator(own).hover();
      for (const action of ["pick", "edit", "delete"])
        await reachable(phone, `${own} >> [data-action="${action}"]`);
      await phone.locator(`${own} >> [data-action="pick"]`).click();
      for (const emoji of ["👍", "❤️", "😂", "🎉", "👀"])
        await reachable(phone, `${own} >> .picker [data-emoji="${emoji}"]`);
      await phone.screenshot({ path: `${OUT}/12-phone-picker.png` });
      await phone.keyboard.press("Escape");
      await phone.locator(`${own} >> .picker`).waitFor({ state: "detached" });
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

  describe("the reader's place (protocol 1.2)", () => {
    /**
     * What a page shows of the user's place: the late and reaction badges'
     * counts and the unread count on the "jump to the newest" control, 0 for
     * one hidden.
     */
    function counts(tab: Page): Promise<{ late: number; reactions: number; unread: number }> {
      return tab.evaluate(`(() => {
        const shown = (selector) => {
          const el = document.querySelector(selector);
          return el && !el.closest("[hidden]") ? Number(el.textContent.replace(/[^0-9]/g, "")) : 0;
        };
        return {
          late: shown("#late-badge"),
          reactions: shown("#reactions-badge"),
          unread: shown("#to-bottom .unread-count"),
        };
      })()`);
    }

    /** The page's window, through its debugging handle. */
    const windowOf = (tab: Page, field: "unread" | "firstUnread") =>
      tab.evaluate(`globalThis.scrollback.window.${field}`) as Promise<number | null>;

    it("raises the reaction badge for a reaction to the user's message outside the view, and its click lands on it", async () => {
      const id = `tester-own-${Date.now()}`;
      await post([{ id, author: "tester", text: "react to me" }]);
      await page.keyboard.press("Home");
      await settled();
      expect(await page.locator("#reactions-badge").isHidden()).toBe(true);
      await changeAs("peer", [{ kind: "react", id, emoji: "🎉", on: true, ts: Date.now() }]);
      await page.waitForSelector("#reactions-badge:not([hidden])", SHOWN);
      expect(await page.locator("#reactions-badge").textContent()).toMatch(/^1 ❤/);
      expect(await page.locator("#reactions-ack").isVisible()).toBe(true);
      await page.screenshot({ path: `${OUT}/16-reaction-badge.png` });
      await page.click("#reactions-badge");
      await page.waitForSelector(`.row.highlight[data-id="${id}"]`, SHOWN);
      const expected = await apiPage(`id:${id}`, 0, 0);
      expect(Number(await row(page, id).getAttribute("data-position"))).toBe(expected.start);
      expect(await row(page, id).locator('.reactions [data-emoji="🎉"]').count()).toBe(1);
      // Declaring the view around it marked its reaction seen: the badge is gone.
      await page.waitForSelector("#reactions-badge[hidden]", { state: "attached", ...SHOWN });
      await page.screenshot({ path: `${OUT}/17-reaction-landed.png` });
    });

    it("opens where the user stopped reading, under a new messages line that stays there as messages arrive", async () => {
      // Read to the bottom: the marker on the newest message.
      await page.keyboard.press("End");
      await settled();
      await expect.poll(() => windowOf(page, "unread"), SHOWN).toBe(0);
      const lastRead = (await api<Stats>(server, `/v1/channels/${CHANNEL}`)).newest;
      // Parked at the top, the page reads none of what arrives at the bottom.
      await page.keyboard.press("Home");
      await settled();
      const unread = Array.from({ length: 100 }, (_, i) => ({
        id: `unread-${String(i).padStart(3, "0")}`,
        author: i % 3 === 0 ? "peer" : "second",
        text: `unread ${i}`,
      }));
      await post(unread);
      await expect.poll(() => counts(page), SHOWN).toMatchObject({ unread: 100 });
      // Something for the README's picture: reactions in the unread run, one to the user's message.
      const ts = Date.now();
      await changeAs("peer", [
        { kind: "react", id: "unread-002", emoji: "👍", on: true, ts },
        { kind: "react", id: "unread-005", emoji: "🎉", on: true, ts },
      ]);
      await changeAs("second", [{ kind: "react", id: "unread-002", emoji: "❤️", on: true, ts }]);

      await page.reload();
      const rows = await settled();
      // The last message read in the first row, the first unread under the line.
      expect(rows[0]?.id).toBe(lastRead?.id);
      expect(rows[1]?.id).toBe("unread-000");
      expect((await apiPage("id:unread-000", 0, 0)).start).toBe(rows[1]?.position);
      expect(await page.locator(".new-line").count()).toBe(1);
      expect(await row(page, "unread-000").locator(".new-line").isVisible()).toBe(true);
      const line = await page.locator(".new-line").boundingBox();
      const text = await row(page, "unread-000").locator(".line").boundingBox();
      expect(Math.round((line?.y ?? 0) + (line?.height ?? 0))).toBe(Math.round(text?.y ?? -1));
      // What is on screen is read: the marker (and the window's first unread) moves past the
      // line, which stays; the unread count on the jump control is the window's.
      const linePosition = rows[1]?.position ?? 0;
      await expect
        .poll(() => windowOf(page, "firstUnread"), SHOWN)
        .toBeGreaterThan(linePosition + 10);
      await expect
        .poll(
          async () => (await counts(page)).unread - ((await windowOf(page, "unread")) ?? 0),
          SHOWN,
        )
        .toBe(0);
      const left = (await counts(page)).unread;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(100);

      // New messages arrive at the bottom: counted, and the line stays above the same message.
      await post(
        Array.from({ length: 5 }, (_, i) => ({ id: `later-${i}`, author: "peer", text: "later" })),
      );
      await expect.poll(() => counts(page), SHOWN).toMatchObject({ unread: left + 5 });
      expect(await page.locator(".new-line").count()).toBe(1);
      expect(await row(page, "unread-000").locator(".new-line").count()).toBe(1);
      expect(Number(await row(page, "unread-000").getAttribute("data-position"))).toBe(
        linePosition,
      );
      await page.screenshot({ path: `${OUT}/18-first-unread.png` });

      // The jump to the newest reads the rest: the count goes, and so does the control.
      await page.click("#to-bottom");
      await row(page, "later-4").waitFor(SHOWN);
      await expect.poll(() => windowOf(page, "unread"), SHOWN).toBe(0);
      await page.waitForSelector("#to-bottom[hidden]", { state: "attached", ...SHOWN });
    });

    it("shows the same badges and unread count on two tabs of one user after a view, an ack and a read on either", async () => {
      // A laptop's tab and a phone's.
      const tabs = [
        await browser.newPage({ viewport: { width: 1100, height: 700 } }),
        await browser.newPage({ viewport: { width: 390, height: 844 } }),
      ];
      const [a, b] = tabs;
      if (!a || !b) throw new Error("no tabs");
      /** Both tabs show `expected`. */
      const agree = (expected: { late: number; reactions: number; unread: number }) =>
        expect
          .poll(async () => [await counts(a), await counts(b)], SHOWN)
          .toEqual([expected, expected]);

      for (const tab of tabs) {
        await tab.goto(`${server.url}/?channel=${CHANNEL}&user=twin`);
        await settled(tab);
      }
      // The user's message, with 300 after it: both tabs follow the bottom and read it all.
      // (A batch shares the server's ts and sorts by id: hence the padded numbers.)
      const mine = `twin-own-${Date.now()}`;
      const after = Array.from({ length: 300 }, (_, i) => ({
        id: `${mine}-after-${String(i).padStart(3, "0")}`,
        author: "peer",
        text: `after ${i}`,
      }));
      await post([{ id: mine, author: "twin", text: "twin's message" }, ...after]);
      for (const tab of tabs) {
        await row(tab, `${mine}-after-299`).waitFor(SHOWN);
        await expect.poll(() => windowOf(tab, "unread"), SHOWN).toBe(0);
        await tab.keyboard.press("Home");
        await settled(tab);
      }
      // Outside both views: a reaction to the user's message, a late message, 40 new ones.
      await changeAs("peer", [{ kind: "react", id: mine, emoji: "👍", on: true, ts: Date.now() }]);
      const [middle] = (await apiPage(`pos:${Math.floor(COUNT / 2)}`, 0, 0)).messages;
      if (!middle) throw new Error("no message");
      await post([{ id: "twin-late", ts: middle.ts, author: "peer", text: "late for twin" }]);
      await post(
        Array.from({ length: 40 }, (_, i) => ({
          id: `twin-new-${String(i).padStart(2, "0")}`,
          author: "peer",
          text: "new",
        })),
      );
      await agree({ late: 1, reactions: 1, unread: 40 });
      // Each control says what it does, and fits the phone.
      const controls = [
        "#late-badge",
        "#late-ack",
        "#reactions-badge",
        "#reactions-ack",
        "#to-bottom",
      ];
      for (const selector of controls) {
        await reachable(b, selector);
        expect(await b.locator(selector).getAttribute("aria-label")).toBeTruthy();
      }
      await b.screenshot({ path: `${OUT}/19-phone-badges.png` });

      // An ack on one tab (every reaction read): the badge goes on both.
      await b.click("#reactions-ack");
      await agree({ late: 1, reactions: 0, unread: 40 });
      // A new reaction, and a view on the other tab: the badge's jump marks it seen, on both.
      await changeAs("peer", [{ kind: "react", id: mine, emoji: "🎉", on: true, ts: Date.now() }]);
      await agree({ late: 1, reactions: 1, unread: 40 });
      await a.focus("#reactions-badge");
      await a.keyboard.press("Enter");
      await a.waitForSelector(`.row.highlight[data-id="${mine}"]`, SHOWN);
      await agree({ late: 1, reactions: 0, unread: 40 });
      // The late badge's ✓ on one tab.
      await b.click("#late-ack");
      await agree({ late: 0, reactions: 0, unread: 40 });
      // A read: one tab jumps to the newest, and neither has anything unread.
      await a.click("#to-bottom");
      await row(a, "twin-new-39").waitFor(SHOWN);
      await agree({ late: 0, reactions: 0, unread: 0 });
      expect(await windowOf(b, "unread")).toBe(0);
      for (const tab of tabs) await tab.close();
    });
  });
});
