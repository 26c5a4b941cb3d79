/**
 * The rows a window holds and where they are: a contiguous run of messages
 * at exact positions, the rows of the declared view above it, and the
 * reader's row. Pure. {@link MessageWindow} decides which frames apply; this
 * applies them to the rows.
 *
 * `start` moves by counting, never by pushed positions. Positions in
 * `insert` and `update` are those after the whole group: right after an
 * `insert`, the group's `remove` has not yet dropped the held rows it will
 * drop above the message, so `position − index` would be off by them (and a
 * trim between two frames moves the index again). Counting needs no anchor:
 * - a held row that is deleted leaves `start` alone: the rows after it move
 *   up into its place;
 * - what lands or vanishes above the first held key moves `start`: outside
 *   the declared view the `status`'s `shifted` counts it (net: it may be
 *   negative); inside the view but above the held run (rows trimmed off, or
 *   pushed above the run) the run counts it itself, which is why it
 *   remembers those rows' keys (`hidden`);
 * - a deleted id that is neither held nor remembered lies below the run
 *   (trimmed off, or never held): ignored.
 *
 * What the run covers is the range of keys from its first held key to its
 * last, and a delete does not narrow it: once a boundary row is deleted,
 * an arrival between it and the next held row is still inside the run (the
 * run held every row there), so it is taken as it would have been had it
 * come before the delete in one merged group (issue 18: push coalescing
 * merges groups, and the window must end where the groups one by one leave
 * it). Only a trim or a fresh page narrows the range.
 *
 * The reader is a row, kept as an index into the run (it may lie outside):
 * rows that appear above it (prepended pages, arrivals) or vanish above it
 * (trims, deletes) move the index, and `firstItemIndex` the other way, so
 * `firstItemIndex + readerIndex` never changes while the reader's row is
 * held: react-virtuoso keeps that row where it is on screen. When the
 * reader's row itself is deleted, the next row takes its index.
 */
import { compareKeys } from "../core/key.ts";
import type { Key, Message } from "../protocol/schemas.ts";
import {
  belongs,
  countBefore,
  type DeclaredView,
  FIRST_ITEM_INDEX,
  keyOf,
  strip,
} from "./window-rows.ts";

export class HeldRun {
  /** Position of the first held row (the window adds `shifted` to it). */
  start = 0;
  #rows: Message[] = [];
  /**
   * The first and last keys of the range the run covers (deletes keep them:
   * see above). A null top is open: a run placed on an empty channel covers
   * it from its start, as its view does, whatever lands above its rows.
   */
  #top: Key | null = null;
  #bottom: Key | undefined;
  /** Rows inside the declared view above the run, by id: they move `start`. */
  readonly #hidden = new Map<string, Key>();
  /** The reader's row as an index into the run. */
  readerIndex = 0;
  /** react-virtuoso's `firstItemIndex`: `firstItemIndex + readerIndex` stays constant. */
  firstItemIndex = FIRST_ITEM_INDEX;

  get rows(): readonly Message[] {
    return this.#rows;
  }
  get end(): number {
    return this.start + this.#rows.length;
  }
  get hidden(): number {
    return this.#hidden.size;
  }
  /** The reader's position. */
  get reader(): number {
    return this.start + this.readerIndex;
  }

  setReader(position: number): void {
    this.readerIndex = position - this.start;
  }

  /** The view that holds exactly the run: its range (an empty run keeps its place by it). */
  view(live: boolean): DeclaredView {
    const first = this.#top;
    const last = this.#bottom;
    return {
      first: first ? keyOf(first) : null,
      last: last && !live ? keyOf(last) : null,
      live,
    };
  }

  /** A fresh run: `rows` from position `start`, the reader at `reader`. */
  reset(rows: readonly Message[], start: number, reader: number): void {
    this.start = start;
    this.#top = rows[0] ? keyOf(rows[0]) : null;
    this.#bottom = undefined;
    this.#set(rows.map(strip));
    this.#hidden.clear();
    this.firstItemIndex = FIRST_ITEM_INDEX;
    this.readerIndex = reader - start;
  }

  /** Adds page rows above and below (they fit: checked by the caller). */
  grow(above: readonly Message[], below: readonly Message[]): void {
    for (const m of [...above, ...below]) this.#hidden.delete(m.id);
    this.#set([...above.map(strip), ...this.#rows, ...below.map(strip)]);
    this.start -= above.length;
    this.readerIndex += above.length;
    this.firstItemIndex -= above.length;
  }

  /**
   * Merges arrivals (pushed or replayed, all inside the declared view): those
   * from the first held key down to the last, and below it when live. One
   * above the run is remembered and moves `start` down.
   */
  take(arrivals: readonly Message[], live: boolean): void {
    const held = new Set(this.#rows.map((m) => m.id));
    const top = this.#top;
    const taken: Message[] = [];
    for (const m of [...arrivals].sort(compareKeys)) {
      if (held.has(m.id) || this.#hidden.has(m.id)) continue;
      if (top && compareKeys(m, top) < 0) {
        this.#hidden.set(m.id, keyOf(m));
        this.start++;
      } else if (belongs(m, this.#bottom, live)) taken.push(strip(m));
    }
    if (taken.length === 0) return;
    const before = countBefore(taken, this.#rows, this.readerIndex);
    this.readerIndex += before;
    this.firstItemIndex -= before;
    this.#set([...this.#rows, ...taken].sort(compareKeys));
  }

  /**
   * Drops deleted ids: a held row leaves `start` alone, a remembered one
   * above the run moves it up. Answers the keys of the rows it dropped.
   */
  drop(ids: readonly string[]): Key[] {
    if (ids.length === 0) return [];
    const gone = new Set(ids);
    const kept: Message[] = [];
    const dropped: Key[] = [];
    let aboveReader = 0;
    this.#rows.forEach((m, i) => {
      if (!gone.delete(m.id)) kept.push(m);
      else {
        dropped.push(keyOf(m));
        if (i < this.readerIndex) aboveReader++;
      }
    });
    for (const id of gone) {
      const key = this.#hidden.get(id);
      if (key === undefined) continue;
      this.#hidden.delete(id);
      this.start--;
      dropped.push(key);
    }
    this.readerIndex -= aboveReader;
    this.firstItemIndex += aboveReader;
    this.#set(kept);
    return dropped;
  }

  /** Replaces held rows by id with their final state (edits, reactions); nothing moves. */
  update(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const byId = new Map(messages.map((m) => [m.id, m]));
    this.#rows = this.#rows.map((m) => {
      const next = byId.get(m.id);
      return next ? strip(next) : m;
    });
  }

  /**
   * Keeps at most `max` rows, cutting the top when `live`, else the side
   * away from the reader. Answers how many were cut above.
   */
  trim(max: number, live: boolean): number {
    const n = this.#rows.length;
    if (n <= max) return 0;
    const from = live
      ? n - max
      : Math.min(Math.max(0, this.readerIndex - Math.floor(max / 2)), n - max);
    // What is cut above stays in the declared view: remembered, it keeps `start` exact.
    for (const m of this.#rows.slice(0, from)) this.#hidden.set(m.id, keyOf(m));
    const kept = this.#rows.slice(from, from + max);
    // The range narrows to the rows kept, on the side cut.
    const [first, last] = [kept[0], kept.at(-1)];
    if (from > 0 && first) this.#top = keyOf(first);
    if (from + max < n && last) this.#bottom = keyOf(last);
    this.#set(kept);
    this.start += from;
    this.readerIndex -= from;
    this.firstItemIndex += from;
    return from;
  }

  /** A view starting at `first` was declared: rows above it are out of it, no longer counted. */
  forgetAbove(first: Key): void {
    for (const [id, k] of this.#hidden) if (compareKeys(k, first) < 0) this.#hidden.delete(id);
  }

  /** New rows; the range grows to them (only a trim or a reset narrows it, by clearing it first). */
  #set(rows: Message[]): void {
    this.#rows = rows;
    const first = rows[0];
    const last = rows.at(-1);
    if (first && this.#top && compareKeys(first, this.#top) < 0) this.#top = keyOf(first);
    if (last && (!this.#bottom || compareKeys(last, this.#bottom) > 0)) this.#bottom = keyOf(last);
  }
}
