/**
 * Simulated changes (protocol 1.2) as a CRDT peer sends them: edits, deletes
 * and reactions of the run's messages, in the same tick stream as its
 * arrivals. Pure and deterministic from (settings, tick), like
 * {@link generateTick}: a retried alarm regenerates the same changes, and the
 * store answers the repeats `stale` (or `deleted`), taking no seq.
 *
 * Targets are the run's bottom slots (single messages, on time or late; not
 * chunk messages), named by their slot number: a tick can tell any slot's id
 * and author in O(1) without replaying its tick. A tick's changes are spread
 * over its window like its messages; most fall on recent messages (a
 * heavy-tailed distance back from the newest the change has seen), some on
 * any message of the run, and a few on a message of a later tick: they
 * arrive before it, the store holds them (`pending`) and applies them when it
 * comes. Edits and deletes are the author's own; reactions are another
 * user's. The draws of the last few ticks are replayed (a bounded number),
 * so that what they deleted is left alone and what they set may be cleared.
 */

import type { Change } from "../protocol/schemas.ts";
import { MAX_CHANGE_SHARE } from "../protocol/simulator.ts";
import {
  type ArrivalSettings,
  AUTHORS,
  arrivalId,
  lateDistance,
  sentence,
  slotAt,
  slotAuthor,
  slotsBefore,
  type TickWindow,
  tickMessageCount,
} from "./arrivals.ts";
import { mixSeed, prng } from "./random.ts";

export interface ChangeSettings extends ArrivalSettings {
  /** Fraction of a tick's arrivals (messages and changes) that are edits. */
  readonly editRatio: number;
  /** … that are deletes. */
  readonly deleteRatio: number;
  /** … that are reactions, set or cleared. */
  readonly reactRatio: number;
}

/** One simulated change and the user who makes it. */
export interface SimulatedChange {
  readonly user: string;
  readonly change: Change;
  /** Its message belongs to a later tick: the change arrives first. */
  readonly ahead: boolean;
}

/** The reactions the simulated users pick from. */
export const EMOJIS = ["👍", "❤️", "😂", "🎉", "👀"] as const;

/** Share of changes on a message of a later tick. */
const AHEAD_SHARE = 0.02;
/** Share of changes on any earlier message of the run, old ones included. */
const ANYWHERE_SHARE = 0.1;
/** How far ahead (in messages) a change may be: the next few messages. */
const MAX_AHEAD = 20;
/** Share of reactions that clear one set in the ticks just before. */
const CLEAR_SHARE = 0.2;
/**
 * The ticks just before a tick are looked back over (their deletes are not
 * targeted again, their reactions may be cleared): enough to hold this many
 * messages, within the bounds below. Most changes fall within them.
 */
const LOOK_BACK_MESSAGES = 100;
const MIN_LOOK_BACK_TICKS = 3;
const MAX_LOOK_BACK_TICKS = 100;

type Kind = Change["kind"];

/** What a tick's random stream decides for one change, before the ticks just before are consulted. */
interface Draw {
  readonly kind: Kind;
  /** The run's slot number of the message; −1: none (no message before it). */
  readonly slot: number;
  /** Its time in the tick's window, in ms from the window's start. */
  readonly offset: number;
  /** The run's messages that came before it: slots below this. */
  readonly seen: number;
  /** Picks the reacting user among the author's others. */
  readonly reactor: number;
  readonly emoji: string;
  /** A reaction that clears one set before, picked by `pick`. */
  readonly clear: boolean;
  readonly pick: number;
  readonly text: string;
}

/** How many changes a tick makes: the ratios' share of its arrivals, rounded at random (exact on average). */
function changeCount(settings: ChangeSettings, tickMs: number, tick: number, u: number): number {
  const share = Math.min(
    MAX_CHANGE_SHARE,
    settings.editRatio + settings.deleteRatio + settings.reactRatio,
  );
  if (share <= 0) return 0;
  // Changes are `share` of messages + changes: share / (1 − share) changes a message.
  const mean = (tickMessageCount(settings, tickMs, tick) * share) / (1 - share);
  const whole = Math.floor(mean);
  return whole + (u < mean - whole ? 1 : 0);
}

/** A tick's draws: a function of (settings, tick) only, so a later tick can replay them. */
function drawsOf(settings: ChangeSettings, tickMs: number, tick: number): Draw[] {
  const { rate, editRatio, deleteRatio, reactRatio } = settings;
  if (!(rate > 0)) return [];
  const before = slotsBefore(rate, tickMs, tick);
  const after = slotsBefore(rate, tickMs, tick + 1);
  // No message in the run by the end of this tick: nothing to change.
  if (after === 0) return [];
  const random = prng(mixSeed(settings.seed, tick, 0xc7a6));
  const count = changeCount(settings, tickMs, tick, random());
  const sum = editRatio + deleteRatio + reactRatio;
  const draws: Draw[] = [];
  // This tick's deletes: each takes a message of its own (the nearest earlier one when
  // its draw is taken), so that many deletes in a tick do not fall on the same few.
  const deleting = new Set<number>();
  for (let j = 0; j < count; j++) {
    // Changes are spread over the tick as its messages are (evenly): change j comes after
    // the messages whose time is before its own. They are "the newest" it sees.
    const offset = Math.floor(((j + 1) * tickMs) / (count + 1));
    const inTick = Math.ceil(((j + 1) * (after - before + 1)) / (count + 1)) - 1;
    const seen = before + Math.max(0, Math.min(after - before, inTick));
    const u = random() * sum;
    const kind: Kind = u < editRatio ? "edit" : u < editRatio + deleteRatio ? "delete" : "react";
    const where = random();
    let slot =
      where < AHEAD_SHARE
        ? after + lateDistance(random, MAX_AHEAD) - 1
        : seen === 0
          ? -1 // nothing before it yet: no change
          : where < AHEAD_SHARE + ANYWHERE_SHARE
            ? Math.floor(random() * seen)
            : seen - lateDistance(random, seen);
    if (kind === "delete" && slot >= 0) {
      slot = nearestFree(slot, seen, after, deleting);
      deleting.add(slot);
    }
    draws.push({
      kind,
      slot,
      offset,
      seen,
      reactor: random(),
      emoji: EMOJIS[Math.floor(random() * EMOJIS.length)] as string,
      clear: kind === "react" && random() < CLEAR_SHARE,
      pick: random(),
      text: kind === "edit" ? sentence(random) : "",
    });
  }
  return draws;
}

/**
 * The nearest slot at or below `slot` that is not `taken` and not among this
 * tick's messages still to come after the change ([seen, end)); −1 when none.
 */
function nearestFree(slot: number, seen: number, end: number, taken: ReadonlySet<number>): number {
  let s = slot;
  for (;;) {
    if (s >= seen && s < end) s = seen - 1;
    if (s < 0 || !taken.has(s)) return s;
    s--;
  }
}

/** A user other than `author`, picked by u ∈ [0, 1). */
function reactorOf(author: string, u: number): string {
  const skip = AUTHORS.indexOf(author);
  const i = Math.floor(u * (AUTHORS.length - 1));
  return AUTHORS[i >= skip ? i + 1 : i] as string;
}

/** The changes of one tick, in arrival order, each with its user. */
export function generateChanges(settings: ChangeSettings, window: TickWindow): SimulatedChange[] {
  const { tickMs, tick } = window;
  const draws = drawsOf(settings, tickMs, tick);
  if (draws.length === 0) return [];
  // The ticks just before: what they deleted is not worth changing again; what they set may be cleared.
  const deleted = new Set<number>();
  const set: Draw[] = [];
  const perTick = (settings.rate * tickMs) / 1000;
  const lookBack = Math.min(
    MAX_LOOK_BACK_TICKS,
    Math.max(MIN_LOOK_BACK_TICKS, Math.ceil(LOOK_BACK_MESSAGES / perTick)),
  );
  for (let back = Math.min(lookBack, tick); back >= 1; back--) {
    for (const d of drawsOf(settings, tickMs, tick - back)) {
      if (d.slot < 0) continue;
      if (d.kind === "delete") deleted.add(d.slot);
      else if (d.kind === "react" && !d.clear) set.push(d);
    }
  }
  const message = (slot: number) => {
    const { tick: t, k } = slotAt(settings.rate, tickMs, slot);
    return { id: arrivalId(window.idPrefix, t, k), author: slotAuthor(settings.seed, t, k) };
  };
  const from = window.start + tick * tickMs;
  // Slots from here on are later ticks' messages: a change to one arrives before it.
  const end = slotsBefore(settings.rate, tickMs, tick + 1);
  const out: SimulatedChange[] = [];
  for (const draw of draws) {
    // The tick's clock: later changes win.
    const ts = from + draw.offset;
    const cleared = draw.clear ? set[Math.floor(draw.pick * set.length)] : undefined;
    // Cleared only when its message is still there and came before the clear (or is ahead).
    const clears =
      cleared !== undefined &&
      !deleted.has(cleared.slot) &&
      (cleared.slot < draw.seen || cleared.slot >= end);
    if (cleared !== undefined && clears) {
      const { id, author } = message(cleared.slot);
      const user = reactorOf(author, cleared.reactor);
      const change: Change = { kind: "react", id, emoji: cleared.emoji, on: false, ts };
      out.push({ user, change, ahead: cleared.slot >= end });
      continue;
    }
    // A message deleted just before is not deleted again; an edit or a reaction goes to the
    // nearest earlier message instead. (Deletes keep their drawn slot, so the ticks after
    // this one can tell from the draws alone what it deleted.)
    if (draw.kind === "delete" && deleted.has(draw.slot)) continue;
    const slot = nearestFree(draw.slot, draw.seen, end, deleted);
    if (slot < 0) continue;
    const { id, author } = message(slot);
    const ahead = slot >= end;
    if (draw.kind === "delete") {
      deleted.add(slot);
      out.push({ user: author, change: { kind: "delete", id }, ahead });
    } else if (draw.kind === "edit") {
      out.push({ user: author, change: { kind: "edit", id, text: draw.text, ts }, ahead });
    } else {
      const user = reactorOf(author, draw.reactor);
      out.push({ user, change: { kind: "react", id, emoji: draw.emoji, on: true, ts }, ahead });
    }
  }
  return out;
}
