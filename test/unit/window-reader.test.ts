/**
 * The window's reader's place (protocol 1.2), one case a rule (window.test.ts
 * checks them all at random against the model): `unread` and `firstUnread`
 * as a group's frames arrive (a new message after the marker, a late one
 * before it, deletes on either side) and as its `status` settles them; the
 * marker from a `read` reply and from another tab's `status`, which closes
 * no group; `hello` before and after the first page; the counts of a
 * `view` reply.
 */
import { describe, expect, it } from "vitest";
import { MessageWindow } from "../../src/client/window.ts";
import { wireMsg as msg } from "../support/data.ts";

/** Messages `ids` at positions `start`…, ts = 10 × position, read at `seq`. */
const page = (ids: string[], start: number, total: number, seq: number) => ({
  messages: ids.map((id, i) => msg(id, (start + i) * 10)),
  start,
  total,
  seq,
});
const key = (id: string, position: number) => ({ ts: position * 10, id });
/** A `status` with the server's counts after a group. */
const status = (seq: number, total: number, unread: number, shifted = 0) => ({
  type: "status" as const,
  total,
  lateUnread: 0,
  reactionsUnread: 0,
  unread,
  shifted,
  seq,
});
const place = (w: MessageWindow) => ({
  unread: w.unread,
  firstUnread: w.firstUnread,
  read: w.read,
});

/** a…e at 10…14 of 20, the marker on c (12): 7 unread, the first at 13. */
function reading(): MessageWindow {
  const w = new MessageWindow().replace(page(["a", "b", "c", "d", "e"], 10, 20, 5));
  w.applyCounts({ read: key("c", 12), unread: 7 });
  expect(place(w)).toEqual({ unread: 7, firstUnread: 13, read: key("c", 12) });
  return w;
}

describe("MessageWindow's reader's place", () => {
  it("counts a new message after the marker as its insert arrives, leaving the line where it is", () => {
    const w = reading();
    w.applyInsert({ type: "insert", messages: [msg("de", 135, 14)], total: 21, seq: 6 });
    expect(place(w)).toMatchObject({ unread: 8, firstUnread: 13 });
    w.applyStatus(status(6, 21, 8));
    expect(place(w)).toMatchObject({ unread: 8, firstUnread: 13 });
  });

  it("moves the line, not the count, for a late message pushed before the marker", () => {
    const w = reading();
    w.applyInsert({ type: "insert", messages: [msg("ab", 105, 11)], total: 21, seq: 6 });
    expect(place(w)).toMatchObject({ unread: 7, firstUnread: 14 });
    expect(w.at(14)?.id).toBe("d");
    w.applyStatus(status(6, 21, 7));
    expect(place(w)).toMatchObject({ unread: 7, firstUnread: 14 });
  });

  it("lowers the count for a delete after the marker, the line for one before it", () => {
    const w = reading();
    w.applyRemove({ type: "remove", ids: ["e"], total: 19, seq: 6 });
    expect(place(w)).toMatchObject({ unread: 6, firstUnread: 13 });
    w.applyStatus(status(6, 19, 6));
    w.applyRemove({ type: "remove", ids: ["a"], total: 18, seq: 7 });
    expect(place(w)).toMatchObject({ unread: 6, firstUnread: 12 });
    // The marker's own message deleted: what follows it is still what is unread.
    w.applyRemove({ type: "remove", ids: ["c"], total: 17, seq: 8 });
    expect(place(w)).toMatchObject({ unread: 6, firstUnread: 11, read: key("c", 12) });
    expect(w.at(11)?.id).toBe("d");
  });

  it("takes what it could not see from the group's status", () => {
    const w = reading();
    // Three arrived before the view (one of them before the marker, two after it, below the window).
    w.applyStatus(status(6, 23, 9, 1));
    expect(place(w)).toMatchObject({ unread: 9, firstUnread: 14 });
  });

  it("moves the marker by a read reply and by another tab's status, which closes no group", () => {
    const w = reading();
    const reply = { read: key("d", 13), unread: 6, seq: 5 }; // the `read` reply's body
    w.applyCounts(reply);
    expect(place(w)).toEqual({ unread: 6, firstUnread: 14, read: key("d", 13) });
    // A group of edits in progress (no status yet), then another tab reads to the bottom.
    w.applyUpdate({ type: "update", messages: [{ ...msg("a", 100), text: "a!" }], seq: 6 });
    const read = { ...status(6, 20, 0), read: key("t", 19) };
    expect(w.applyStatus(read)).toBe(false);
    expect(place(w)).toEqual({ unread: 0, firstUnread: null, read: key("t", 19) });
    expect([w.seq, w.resumeFrom]).toEqual([6, 5]);
  });

  it("takes a hello's total and unread before the first page, only the marker and badges after", () => {
    const w = new MessageWindow();
    const hello = {
      type: "hello" as const,
      protocol: 1 as const,
      minor: 2,
      channel: "c",
      user: "me",
      total: 30,
      lateUnread: 2,
      reactionsUnread: 1,
      unread: 4,
      read: key("z", 25),
      newest: key("zz", 29),
      seq: 30,
    };
    w.applyHello(hello);
    expect([w.total, w.unread, w.firstUnread, w.lateUnread, w.reactionsUnread]).toEqual([
      30, 4, 26, 2, 1,
    ]);
    w.replace(page(["a", "b"], 28, 30, 30));
    w.applyResumed({
      complete: true,
      seq: 31,
      total: 31,
      lateUnread: 2,
      reactionsUnread: 1,
      unread: 5,
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    });
    // A reconnect's hello: the rows' total stays until the resumed reply that follows it.
    w.applyHello({ ...hello, total: 40, unread: 0, lateUnread: 0, read: key("zz", 39) });
    expect([w.total, w.unread, w.read, w.lateUnread]).toEqual([31, 5, key("zz", 39), 0]);
  });

  it("takes the counts of an ack's view reply against its own total", () => {
    const w = reading();
    w.applyCounts({ lateUnread: 0, reactionsUnread: 0, unread: 3 });
    expect([w.unread, w.firstUnread, w.lateUnread, w.reactionsUnread]).toEqual([3, 17, 0, 0]);
  });
});
