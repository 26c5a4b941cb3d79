/**
 * Two faults of ChannelWindow found from outside (issue 19), against a fake
 * client that answers what the test says: a window stays frozen after an
 * incomplete resync that overtook a declaration in flight; `show` before the
 * first page asked only for the margin.
 */
import { describe, expect, it } from "vitest";
import { ChannelWindow } from "../../src/client/channel-window.ts";
import type { ScrollbackClient } from "../../src/client/socket-client.ts";
import type { PageBody } from "../../src/protocol/schemas.ts";
import { fakeEvents } from "./fake-events.ts";

const message = (n: number) => ({
  id: `m${n}`,
  ts: 1_000 + n,
  author: "a",
  text: `text ${n}`,
  seq: n + 1,
  late: false,
});

/** A page of messages `start` … `start + count − 1` of a channel of `total`, read at `seq`. */
function page(start: number, count: number, total: number, seq: number): PageBody {
  return {
    messages: Array.from({ length: count }, (_, i) => message(start + i)),
    start,
    total,
    anchorIndex: 0,
    hasOlder: start > 0,
    hasNewer: start + count < total,
    seq,
  };
}

/** The client calls ChannelWindow makes, recorded; each `resume` waits for the test. */
function fakeClient() {
  const { on, emit } = fakeEvents();
  const pages: { anchor: unknown; before?: number; after?: number }[] = [];
  const resumes: ((reply: unknown) => void)[] = [];
  let total = 1_000;
  const client = {
    on,
    async page(request: { anchor: unknown; before?: number; after?: number }) {
      pages.push(request);
      const anchor = request.anchor as { position?: number };
      const at = anchor.position ?? total - 1;
      const from = Math.max(0, at - (request.before ?? 25));
      const to = Math.min(total, at + 1 + (request.after ?? 25));
      return page(from, to - from, total, total);
    },
    resume: () => new Promise((resolve) => resumes.push(resolve)),
  };
  return {
    client: client as unknown as ScrollbackClient,
    pages,
    resumes,
    emit,
    grow: (n: number) => {
      total += n;
    },
  };
}

describe("ChannelWindow after an incomplete resync", () => {
  it("takes pushes again when the resync overtook a declaration in flight", async () => {
    const fake = fakeClient();
    const win = new ChannelWindow(fake.client);
    // The open's declaration is in flight when the connection drops.
    void win.open(20);
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.resumes).toHaveLength(1);
    expect(win.window.frozen).toBe(true);
    // The client's resync paged again and declared that page: complete: false.
    const repaged = page(980, 40, 1_020, 1_020);
    fake.emit("resync", {
      complete: false,
      page: repaged,
      live: true,
      lateUnread: 0,
      reactionsUnread: 0,
      unread: 0,
      total: 1_020,
      seq: 1_020,
    });
    // A new bottom message: a reader at the bottom must see it, and the total move.
    fake.emit("insert", {
      type: "insert",
      messages: [{ ...message(1_020), position: 1_020 }],
      total: 1_021,
      seq: 1_021,
    });
    expect(win.window.total).toBe(1_021);
    expect(win.window.messages.at(-1)?.id).toBe("m1020");
    // The stale declaration's reply changes nothing.
    fake.resumes[0]?.({
      complete: true,
      seq: 1_000,
      total: 1_000,
      lateUnread: 0,
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(win.window.total).toBe(1_021);
  });
});

describe("ChannelWindow.show before the first page", () => {
  it("asks for the whole screen it is shown, not only the margin", async () => {
    const fake = fakeClient();
    const win = new ChannelWindow(fake.client, { margin: 10 });
    void win.show(500, 540);
    await new Promise((r) => setTimeout(r, 0));
    const first = fake.pages[0];
    if (!first) throw new Error("show() asked for no page");
    const anchor = (first.anchor as { position: number }).position;
    // The page asked for covers 500 … 539 (plus margins).
    expect(anchor - (first.before ?? 0)).toBeLessThanOrEqual(500);
    expect(anchor + (first.after ?? 0)).toBeGreaterThanOrEqual(539);
    expect(win.window.start).toBeLessThanOrEqual(500);
    expect(win.window.end).toBeGreaterThanOrEqual(540);
  });
});
