/**
 * The window model's protocol 1.2 rules, one case each (window.test.ts
 * checks them all at random against the model): a group's `remove` after
 * its `insert`, rows deleted above, inside and below the held run, negative
 * `shifted`, `update`, groups without `status`, frames a page already holds,
 * a declaration sent inside a group, the reader's row, `resumed` with
 * `removed` and `updated`, and the point a reconnect resumes from.
 */
import { describe, expect, it } from "vitest";
import { MessageWindow } from "../../src/client/window.ts";
import { FIRST_ITEM_INDEX } from "../../src/client/window-rows.ts";
import { wireMsg as msg } from "../support/data.ts";
import { NO_COUNTS } from "./window-model.ts";

/** Messages `ids` at positions `start`…, ts = 10 × position, read at `seq`. */
const page = (ids: string[], start: number, total: number, seq: number) => ({
  messages: ids.map((id, i) => msg(id, (start + i) * 10)),
  start,
  total,
  seq,
});
const held = (w: MessageWindow) => [w.start, w.messages.map((m) => m.id)];
const status = (seq: number, total: number, shifted: number) => ({
  type: "status" as const,
  total,
  ...NO_COUNTS,
  shifted,
  seq,
});

describe("MessageWindow with changes", () => {
  it("comes out exact when a group's remove drops held rows above a message its insert placed", () => {
    // a b c d at 10…13; the group deletes a and b and inserts bb after b: bb is at 10 after it.
    const w = new MessageWindow().replace(page(["a", "b", "c", "d"], 10, 20, 5));
    w.applyInsert({ type: "insert", messages: [msg("bb", 115, 10)], total: 19, seq: 6 });
    w.applyRemove({ type: "remove", ids: ["a", "b"], total: 19, seq: 6 });
    w.applyStatus(status(6, 19, 0));
    expect(held(w)).toEqual([10, ["bb", "c", "d"]]);
    expect(w.total).toBe(19);
  });

  it("moves start up for a row trimmed off above, not for a held one, and ignores ids below", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c", "d", "e", "f"], 10, 20, 5));
    expect(w.trim(3, 14)).toBe(3); // keeps d e f; a b c stay in the declared view, above the run
    expect(w.hiddenAbove).toBe(3);
    // b (above, not held), d (the first held), z (below the view): the view's rows, so not in shifted.
    w.applyRemove({ type: "remove", ids: ["b", "d", "z"], total: 17, seq: 6 });
    w.applyStatus(status(6, 17, 0));
    expect(held(w)).toEqual([12, ["e", "f"]]);
    expect(w.hiddenAbove).toBe(2);
  });

  it("moves everything up by a negative shifted", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 10, 20, 5));
    w.applyStatus(status(6, 17, -3));
    expect(held(w)).toEqual([7, ["a", "b"]]);
  });

  it("takes a message landing where its deleted first or last row was, as one merged group would", () => {
    // a b c d at 10…13, the view [a, d]: a and d are deleted, then ab and cd land next to them.
    const arrivals = [msg("ab", 105, 10), msg("cd", 125, 13)];
    const w = new MessageWindow().replace(page(["a", "b", "c", "d"], 10, 20, 5));
    w.applyRemove({ type: "remove", ids: ["a", "d"], total: 18, seq: 6 });
    w.applyStatus(status(6, 18, 0));
    w.applyInsert({ type: "insert", messages: arrivals, total: 20, seq: 7 });
    w.applyStatus(status(7, 20, 0));
    // The same two groups merged (push coalescing): the insert comes before the remove.
    const merged = new MessageWindow().replace(page(["a", "b", "c", "d"], 10, 20, 5));
    merged.applyInsert({ type: "insert", messages: arrivals, total: 20, seq: 7 });
    merged.applyRemove({ type: "remove", ids: ["a", "d"], total: 20, seq: 7 });
    merged.applyStatus(status(7, 20, 0));
    expect([held(w), w.hiddenAbove]).toEqual([[10, ["ab", "b", "c", "cd"]], 0]);
    expect([held(merged), merged.hiddenAbove]).toEqual([held(w), 0]);
    expect(w.view()).toEqual({
      first: { ts: 100, id: "a" },
      last: { ts: 130, id: "d" },
      live: false,
    });
  });

  it("takes what lands above its rows when placed on an empty channel: its view is open at the top", () => {
    const w = new MessageWindow().replace(page([], 0, 0, 0), { live: true });
    expect(w.view()).toEqual({ first: null, last: null, live: true });
    w.applyInsert({ type: "insert", messages: [msg("b", 110, 0)], total: 1, seq: 1 });
    w.applyStatus(status(1, 1, 0));
    w.applyInsert({ type: "insert", messages: [msg("a", 100, 0)], total: 2, seq: 2 });
    w.applyStatus(status(2, 2, 0));
    expect([held(w), w.hiddenAbove, w.view().first]).toEqual([[0, ["a", "b"]], 0, null]);
  });

  it("replaces updated rows by id, moves nothing, and takes the next group after one with no status", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 10, 20, 5));
    const edited = {
      ...msg("b", 110, 11),
      text: "b!",
      edited: 99,
      reactions: [{ emoji: "👍", count: 2, mine: true as const }],
    };
    expect(w.applyUpdate({ type: "update", messages: [edited, msg("zz", 500, 50)], seq: 6 })).toBe(
      true,
    );
    const { position: _position, ...shown } = edited;
    expect([held(w), w.messages[1]]).toEqual([[10, ["a", "b"]], shown]);
    expect(w.resumeFrom).toBe(5); // no status came: a reconnect replays group 6, harmlessly
    w.applyInsert({ type: "insert", messages: [msg("ab", 105, 11)], total: 21, seq: 7 });
    w.applyStatus(status(7, 21, 0));
    expect([held(w), w.seq, w.resumeFrom]).toEqual([[10, ["a", "ab", "b"]], 7, 7]);
  });

  it("ignores every frame of a group a page already holds", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 10, 20, 9));
    expect(
      w.applyInsert({ type: "insert", messages: [msg("ab", 105, 11)], total: 21, seq: 9 }),
    ).toBe(false);
    expect(w.applyRemove({ type: "remove", ids: ["a"], total: 19, seq: 8 })).toBe(false);
    expect(
      w.applyUpdate({ type: "update", messages: [{ ...msg("a", 100), text: "x" }], seq: 9 }),
    ).toBe(false);
    expect(w.applyStatus({ ...status(9, 19, -1), lateUnread: 4 })).toBe(false);
    expect([held(w), w.messages[0]?.text, w.lateUnread]).toEqual([[10, ["a", "b"]], "a", 4]);
  });

  it("applies the rest of a group after a declaration sent inside it, and no newer group until the reply", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c"], 10, 20, 5));
    w.applyInsert({ type: "insert", messages: [msg("bc", 115, 12)], total: 21, seq: 6 });
    const view = w.declare(); // resume { since: 6, …view }
    expect(view).toEqual({ first: { ts: 100, id: "a" }, last: { ts: 120, id: "c" }, live: false });
    expect(w.applyRemove({ type: "remove", ids: ["a"], total: 21, seq: 6 })).toBe(true);
    expect(w.applyStatus(status(6, 21, 1))).toBe(true);
    expect(
      w.applyInsert({ type: "insert", messages: [msg("bcc", 117, 13)], total: 22, seq: 7 }),
    ).toBe(false);
    // The reply replays group 7 for the new view.
    w.applyResumed({
      complete: true,
      seq: 7,
      total: 22,
      ...NO_COUNTS,
      shifted: 0,
      messages: [msg("bcc", 117, 13)],
      removed: [],
      updated: [],
    });
    expect([held(w), w.frozen]).toEqual([[11, ["b", "bc", "bcc", "c"]], false]);
  });

  it("keeps the reader on its row, and its item index, when rows above vanish or land", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c", "d", "e"], 10, 20, 5));
    w.setReader(13); // d
    w.applyRemove({ type: "remove", ids: ["b"], total: 19, seq: 6 });
    expect([w.reader, w.at(w.reader)?.id, w.firstItemIndex]).toEqual([
      12,
      "d",
      FIRST_ITEM_INDEX + 1,
    ]);
    w.applyStatus(status(6, 19, -2)); // two deleted above the view: everything moved up
    expect([w.reader, w.at(w.reader)?.id, w.firstItemIndex]).toEqual([
      10,
      "d",
      FIRST_ITEM_INDEX + 1,
    ]);
    w.applyInsert({ type: "insert", messages: [msg("ab", 105, 9)], total: 20, seq: 7 });
    expect([w.reader, w.at(w.reader)?.id, w.firstItemIndex]).toEqual([11, "d", FIRST_ITEM_INDEX]);
    // The reader's own row vanishes: the next row takes its place on screen.
    w.applyRemove({ type: "remove", ids: ["d"], total: 19, seq: 8 });
    expect([w.reader, w.at(w.reader)?.id, w.firstItemIndex]).toEqual([11, "e", FIRST_ITEM_INDEX]);
  });

  it("applies a resumed reply's removed, messages, updated and shifted as one group", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c", "d"], 10, 20, 5));
    w.applyResumed({
      complete: true,
      seq: 12,
      total: 19,
      ...NO_COUNTS,
      lateUnread: 2,
      shifted: -2,
      messages: [msg("cd", 125, 10)],
      removed: ["a", "c"],
      updated: [{ ...msg("d", 130, 11), text: "d!" }],
    });
    expect([held(w), w.messages.at(-1)?.text, w.seq, w.lateUnread]).toEqual([
      [8, ["b", "cd", "d"]],
      "d!",
      12,
      2,
    ]);
  });

  it("keeps an emptied window's place: its view still covers the range it held", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 10, 20, 5));
    w.applyRemove({ type: "remove", ids: ["a", "b"], total: 18, seq: 6 });
    w.applyStatus(status(6, 18, 0));
    expect([held(w), w.view()]).toEqual([
      [10, []],
      { first: { ts: 100, id: "a" }, last: { ts: 110, id: "b" }, live: false },
    ]);
    const live = new MessageWindow().replace(page(["y", "z"], 18, 20, 5), { live: true });
    live.applyRemove({ type: "remove", ids: ["y", "z"], total: 18, seq: 6 });
    live.applyStatus(status(6, 18, 0));
    expect(live.view()).toEqual({ first: { ts: 180, id: "y" }, last: null, live: true });
    live.applyInsert({ type: "insert", messages: [msg("new", 900, 18)], total: 19, seq: 7 });
    live.applyStatus(status(7, 19, 0));
    expect(held(live)).toEqual([18, ["new"]]);
  });
});
