/**
 * A client over the channel model (window-model.ts) driving a MessageWindow
 * the way ChannelWindow does: its declared view, the groups stored and the
 * frames they push (whole, cut by a dropped connection, or split by a
 * declaration in flight), declarations by `resume`, reconnects (a `hello`,
 * then `resume`), pages; and the user's other tab, whose views, reads and
 * acks reach this one as `status` frames.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { MessageWindow } from "../../src/client/window.ts";
import type { Key } from "../../src/protocol/schemas.ts";
import { mulberry32 } from "../support/random.ts";
import { type Action, ChannelModel, type DeclaredView, ME, type Push } from "./window-model.ts";

const keyOf = (m: Key): Key => ({ ts: m.ts, id: m.id });

/** Where a change lands, relative to the window: on held rows, above or below them, near them, anywhere. */
export interface Target {
  where: "held" | "above" | "below" | "near" | "any";
  at: number;
}

/** One write of a group, chosen before the state it lands on is known. */
export type Spec =
  | { kind: "insert"; late: boolean; r: number }
  | { kind: "delete"; target: Target; run: number }
  | { kind: "edit"; target: Target; text: number; age: number }
  | { kind: "react"; target: Target; user: number; emoji: number; on: boolean; age: number }
  /** Deletes or edits the last message this group inserted (net effect: no frame, or `insert` only). */
  | { kind: "deleteNew" }
  | { kind: "editNew" };

const targetArb: fc.Arbitrary<Target> = fc.record({
  where: fc.constantFrom("held", "above", "below", "near", "any"),
  at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

export const specArb: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      late: fc.boolean(),
      r: fc.nat(1_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      target: targetArb,
      run: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      target: targetArb,
      text: fc.nat(2),
      age: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("react" as const),
      target: targetArb,
      user: fc.nat(2),
      emoji: fc.nat(2),
      on: fc.boolean(),
      age: fc.nat(3),
    }),
  },
  fc.constant({ kind: "deleteNew" as const }),
  fc.constant({ kind: "editNew" as const }),
);

export const groupArb = fc.array(specArb, { minLength: 1, maxLength: 6 });

const USERS = [ME, "u1", "u2"];
const EMOJI = ["👍", "🎉", "a"];
const TEXTS = ["x", "y", "z"];

/** A view that holds nothing (before every message). */
const NOTHING = { ts: -1, id: "" };

export class Harness {
  readonly model = new ChannelModel();
  /** The view the server holds for this socket. */
  declared: DeclaredView = { first: null, last: null, live: true };
  /** The view of the user's other tab (its socket's frames go nowhere; what they show is seen). */
  other: DeclaredView = { first: NOTHING, last: NOTHING, live: false };
  #ts = 1_000;
  /** The changes' clock: edits and reactions conflict within a few ticks. */
  #clock = 0;
  readonly #rand: () => number;

  readonly w: MessageWindow;

  constructor(w: MessageWindow, seed: number) {
    this.w = w;
    // Late arrivals' ts and the changes of `during`, reproducible from the seed.
    this.#rand = mulberry32(seed);
    this.w.applyHello(this.model.hello());
    this.w.replace(this.model.page(0, 0, 0), { live: true });
  }

  /** The ts of a new message: at the bottom, or late (anywhere before it). */
  ts(late: boolean, r: number): number {
    if (late) return Math.floor(this.#rand() * this.#ts);
    this.#ts += r % 3; // equal ts are common: the id decides
    return this.#ts;
  }

  /** A stored group's frames for the declared view, none applied. */
  store(specs: readonly Spec[]): Push[] {
    const { model } = this;
    model.begin();
    let fresh: string | undefined;
    for (const spec of specs) {
      for (const action of this.#resolve(spec, fresh)) {
        const id = model.act(action);
        if (action.kind === "insert") fresh = id;
      }
    }
    return this.#delivered(model.end());
  }

  /** A batch of messages at these ts, stored and pushed as one group. */
  chunk(tss: readonly number[]): void {
    for (const frame of this.#delivered(this.model.insert(tss))) this.apply(frame);
  }

  /** This socket's frames of a group; the other tab's are shown to it too. */
  #delivered(effect: ReturnType<ChannelModel["end"]>): Push[] {
    return this.model.deliver([this.declared, this.other], effect)[0] ?? [];
  }

  /** The key of the message at a fraction of the channel, if any. */
  keyAt(at: number): Key | undefined {
    const m = this.model.list[Math.floor(at * this.model.list.length)];
    return m && { ts: m.ts, id: m.id };
  }

  /** This tab reads the message at a fraction of the channel: the reply's marker and count. */
  readHere(at: number): void {
    const key = this.keyAt(at);
    if (!key) return;
    this.model.reader.read(key);
    const { marker } = this.model.reader;
    this.w.applyCounts({ read: marker, unread: this.model.reader.counts().unread });
  }

  /** The other tab reads there: this one hears a `status` with the marker, when it moved (and `deliver`). */
  readThere(at: number, deliver = true): void {
    const key = this.keyAt(at);
    if (key && this.model.reader.read(key) && deliver) {
      this.apply(this.model.crossTab(this.model.reader.marker));
    }
  }

  /** The other tab declares a view (or acks): this one hears the counts when they changed. */
  there(act: () => void): void {
    const before = JSON.stringify(this.model.reader.counts());
    act();
    if (JSON.stringify(this.model.reader.counts()) !== before) this.apply(this.model.crossTab());
  }

  /** The other tab declares a view over `n` messages from a fraction of the channel. */
  viewThere(at: number, n: number): void {
    const { list } = this.model;
    const from = Math.floor(at * list.length);
    const first = list[from];
    const last = list[Math.min(list.length - 1, from + n)];
    if (!first || !last) return;
    this.other = { first: keyOf(first), last: keyOf(last), live: false };
    this.there(() => this.model.reader.seeRange(first, last));
  }

  /** `late.ack` or `reactions.ack` here (the reply's counts) or on the other tab. */
  ack(what: "late" | "reactions", here: boolean): void {
    const { reader } = this.model;
    const act = () => (what === "late" ? reader.ackLate() : reader.ackReactions());
    if (!here) {
      this.there(act);
      return;
    }
    act();
    this.w.applyCounts(reader.counts());
  }

  /** A group whose frames all reach the window. */
  group(specs: readonly Spec[]): void {
    for (const frame of this.store(specs)) this.apply(frame);
  }

  apply(frame: Push): boolean {
    const { w } = this;
    switch (frame.type) {
      case "insert":
        return w.applyInsert(frame);
      case "remove":
        return w.applyRemove(frame);
      case "update":
        return w.applyUpdate(frame);
      case "status":
        return w.applyStatus(frame);
      default: {
        const unreachable: never = frame;
        throw new Error(`unknown frame ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /**
   * Groups that land while a view change is in flight: pushed for the old
   * view; now and then the other tab reads (its `status` passes the hold).
   */
  during(n: number): void {
    for (let i = 0; i < n; i++) {
      if (i % 3 === 2) this.readThere(this.#rand());
      const specs: Spec[] = [{ kind: "insert", late: i % 2 === 0, r: i }];
      const at = this.#rand();
      if (i % 3 === 1) specs.push({ kind: "delete", target: { where: "near", at }, run: 2 });
      if (i % 3 === 2)
        specs.push({
          kind: "react",
          target: { where: "held", at },
          user: 1,
          emoji: 0,
          on: true,
          age: 0,
        });
      this.group(specs);
    }
  }

  /**
   * Declares the window's view with `resume` since its seq, as ChannelWindow
   * does; `rest` are frames of the group in progress, pushed before the reply.
   */
  declare(during: number, limit = 1_000, rest: readonly Push[] = []): void {
    const view = this.w.declare();
    const since = this.w.seq;
    for (const frame of rest) this.apply(frame);
    this.during(during);
    this.declared = view;
    this.#resumed(this.model.resumed(view, since, limit));
  }

  /** A dropped connection: a `hello`, then the same view resumed from the window's resume point. */
  reconnect(limit: number): void {
    this.w.applyHello(this.model.hello());
    this.#resumed(this.model.resumed(this.declared, this.w.resumeFrom, limit));
  }

  #resumed(reply: ReturnType<ChannelModel["resumed"]>): void {
    const outcome = this.w.applyResumed(reply);
    if (outcome.complete) return;
    // Too much missed: page again around the first message held (or the newest, also when it is gone).
    const anchor = outcome.anchor;
    const byId = anchor === "newest" ? -1 : this.model.positionOf(anchor.id);
    const newest = byId < 0;
    const page = this.model.page(newest ? this.model.list.length - 1 : byId, newest ? 20 : 0, 20);
    this.w.replace(page, { live: newest && !page.hasNewer });
    this.declare(0);
  }

  /** The actions a spec makes now: its target resolved against the window and the model. */
  #resolve(spec: Spec, fresh: string | undefined): Action[] {
    const ts = ++this.#clock;
    switch (spec.kind) {
      case "insert":
        return [{ kind: "insert", ts: this.ts(spec.late, spec.r) }];
      case "deleteNew":
        return fresh ? [{ kind: "delete", id: fresh }] : [];
      case "editNew":
        return fresh ? [{ kind: "edit", id: fresh, text: "new", ts }] : [];
      case "delete": {
        const at = this.#position(spec.target);
        const ids = this.model.list.slice(at, at + spec.run).map((m) => m.id);
        return ids.map((id) => ({ kind: "delete", id }));
      }
      case "edit": {
        const id = this.model.list[this.#position(spec.target)]?.id;
        const text = TEXTS[spec.text] as string;
        return id ? [{ kind: "edit", id, text, ts: ts - spec.age }] : [];
      }
      case "react": {
        const id = this.model.list[this.#position(spec.target)]?.id;
        if (!id) return [];
        const user = USERS[spec.user] as string;
        const emoji = EMOJI[spec.emoji] as string;
        return [{ kind: "react", id, user, emoji, on: spec.on, ts: ts - spec.age }];
      }
      default: {
        const unreachable: never = spec;
        throw new Error(`unknown spec ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** A position of the model in the target's region (the whole channel when that is empty). */
  #position({ where, at }: Target): number {
    const { w } = this;
    const total = this.model.list.length;
    const near = at < 0.5 ? [w.start - 6, w.start] : [w.end, w.end + 6];
    const [from, to] =
      where === "held"
        ? [w.start, w.end]
        : where === "above"
          ? [0, w.start]
          : where === "below"
            ? [w.end, total]
            : where === "near"
              ? near
              : [0, total];
    const lo = Math.max(0, from as number);
    const hi = Math.min(total, to as number);
    const u = where === "near" ? (at % 0.5) * 2 : at;
    return hi > lo ? lo + Math.floor(u * (hi - lo)) : Math.floor(at * total);
  }
}

/** The window equals the model's slice at its positions: ids, state, positions, total, seq. */
export function sameAsModel(w: MessageWindow, model: ChannelModel): void {
  expect(w.total).toBe(model.list.length);
  expect(w.messages).toEqual(model.list.slice(w.start, w.end));
  for (const m of w.messages) expect(w.positionOf(m.id)).toBe(model.positionOf(m.id));
  if (w.live) expect(w.end).toBe(w.total);
}
