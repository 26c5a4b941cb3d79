/**
 * Simulated arrivals as a peer-to-peer (CRDT) chat delivers them: most at the
 * bottom, some late by a heavy-tailed number of messages, and now and then a
 * chunk of consecutive messages (a peer's offline conversation) arbitrarily
 * late. Pure and deterministic: a tick's arrivals depend only on the
 * settings, the window and the tick number, so a retried alarm regenerates the
 * same messages with the same ids, and the store's duplicate check makes the
 * retry a no-op. Who wrote a single message and how many messages a tick made
 * are O(1) to tell without replaying the tick (hashed authors, a chunk stream
 * of its own): the simulated changes (tick-changes.ts) name their targets so.
 */
import { mixSeed, prng } from "./random.ts";

export interface ArrivalSettings {
  /** Messages a second at the bottom (late singles included). */
  readonly rate: number;
  /** Fraction of those that arrive late. */
  readonly lateRatio: number;
  /** Mean seconds between late chunks; 0 for none. */
  readonly chunkEvery: number;
  /** Mean messages in a chunk. */
  readonly chunkSize: number;
  readonly seed: number;
}

export type ArrivalKind = "bottom" | "late" | "chunk";

export interface Arrival {
  readonly id: string;
  readonly ts: number;
  readonly author: string;
  readonly text: string;
  readonly kind: ArrivalKind;
}

/** One tick of a run: the window [start + tick·tickMs, start + (tick+1)·tickMs). */
export interface TickWindow {
  /** Ids are `${idPrefix}-${tick}-${i}`: unique per run and tick. */
  readonly idPrefix: string;
  readonly start: number;
  readonly tickMs: number;
  readonly tick: number;
}

/** Largest chunk, whatever the mean. */
export const MAX_CHUNK = 10_000;
/** Tail index of late distances: below 1, so a few are late by thousands. */
const LATE_TAIL = 0.7;
/** Latest a message may be, in messages. */
const MAX_LATE_BY = 1_000_000;

/** The simulated users: authors of messages, makers of changes. */
export const AUTHORS = [
  "alice",
  "bob",
  "carol",
  "dave",
  "erin",
  "frank",
  "grace",
  "heidi",
  "ivan",
  "judy",
];
const WORDS = (
  "ok yes no maybe later soon now here there ship it merge the branch looks good to me " +
  "lunch coffee meeting deploy rollback fixed broken test green red review please thanks " +
  "sync peer offline back online conflict resolved again late message scroll history"
).split(" ");

/** A few words of chat. */
export function sentence(random: () => number): string {
  const length = 1 + Math.floor(random() * 12);
  return Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

/** The id of arrival `i` of a tick, zero-padded so that at equal ts (over 1,000 a second) key order is arrival order. */
export function arrivalId(idPrefix: string, tick: number, i: number): string {
  return `${idPrefix}-${tick}-${String(i).padStart(6, "0")}`;
}

/**
 * The author of bottom slot k of a tick: hashed apart from the tick's random
 * stream, so that a later tick can tell who wrote a message (and may edit or
 * delete it) without replaying its tick.
 */
export function slotAuthor(seed: number, tick: number, k: number): string {
  return AUTHORS[mixSeed(seed, tick, k, 0xa07) % AUTHORS.length] as string;
}

/** A heavy-tailed integer ≥ 1: Pareto with index {@link LATE_TAIL}. */
export function lateDistance(random: () => number, max = MAX_LATE_BY): number {
  const u = 1 - random(); // (0, 1]
  return Math.min(max, Math.floor(u ** (-1 / LATE_TAIL)));
}

/**
 * How many bottom slots (bottom and late single arrivals) the run's ticks
 * before `tick` hold: slot k of tick t is the run's slot number
 * `slotsBefore(t) + k`.
 */
export function slotsBefore(rate: number, tickMs: number, tick: number): number {
  return Math.floor((rate * tickMs * tick) / 1000);
}

/** How many bottom arrivals fall in a tick: exact on average, no drift. */
export function bottomCount(rate: number, tickMs: number, tick: number): number {
  return slotsBefore(rate, tickMs, tick + 1) - slotsBefore(rate, tickMs, tick);
}

/**
 * The run's slot number `slot` as (tick, k). `rate` must be positive. An
 * estimate from the rate, then a step or two: the counts are floors.
 */
export function slotAt(rate: number, tickMs: number, slot: number): { tick: number; k: number } {
  let tick = Math.max(0, Math.floor((slot * 1000) / (rate * tickMs)));
  while (slotsBefore(rate, tickMs, tick + 1) <= slot) tick++;
  while (tick > 0 && slotsBefore(rate, tickMs, tick) > slot) tick--;
  return { tick, k: slot - slotsBefore(rate, tickMs, tick) };
}

/** When bottom slot k of a tick's `count` falls: evenly spread in its window. */
function slotTime(
  window: Omit<TickWindow, "tick">,
  tick: number,
  k: number,
  count: number,
): number {
  return window.start + tick * window.tickMs + Math.floor(((k + 1) * window.tickMs) / (count + 1));
}

/**
 * Whether slot k of a tick arrives late. Hashed apart from the tick's random
 * stream, so any tick can tell where an earlier tick's last bottom arrival
 * was without replaying it.
 */
function isLateSlot(settings: ArrivalSettings, tick: number, k: number): boolean {
  return mixSeed(settings.seed, tick, k, 0x1a7e) / 2 ** 32 < settings.lateRatio;
}

/** Most slots looked back over for the last bottom arrival before a tick. */
const LOOK_BACK = 10_000;

/** The ts of the last bottom arrival of the run before this tick (or a guess just before it). */
function lastBottomBefore(settings: ArrivalSettings, window: TickWindow): number {
  let budget = LOOK_BACK;
  for (let tick = window.tick - 1; tick >= 0 && budget > 0; tick--) {
    const count = bottomCount(settings.rate, window.tickMs, tick);
    for (let k = count - 1; k >= 0 && budget-- > 0; k--) {
      if (!isLateSlot(settings, tick, k)) return slotTime(window, tick, k, count);
    }
  }
  // The run's first tick: what came before it is not ours to know.
  return window.start + window.tick * window.tickMs - 1;
}

/**
 * Whether a tick holds a late chunk, and how long it is, from a random stream
 * of its own (continued by the chunk's messages): a later tick can tell how
 * many messages an earlier one made without replaying it.
 */
function chunkOf(
  settings: ArrivalSettings,
  tickMs: number,
  tick: number,
): { size: number; random: () => number } {
  const random = prng(mixSeed(settings.seed, tick, 0xc4a2));
  // Chunks form a Poisson process: this tick holds one with probability tickMs / chunkEvery.
  if (!(settings.chunkEvery > 0 && random() < tickMs / (settings.chunkEvery * 1000))) {
    return { size: 0, random };
  }
  const size = Math.min(
    MAX_CHUNK,
    Math.max(1, Math.round(-Math.log(1 - random()) * settings.chunkSize)),
  );
  return { size, random };
}

/** How many messages a tick makes: its bottom slots and its chunk. O(1). */
export function tickMessageCount(settings: ArrivalSettings, tickMs: number, tick: number): number {
  return bottomCount(settings.rate, tickMs, tick) + chunkOf(settings, tickMs, tick).size;
}

/** The arrivals of one tick, in arrival order. */
export function generateTick(settings: ArrivalSettings, window: TickWindow): Arrival[] {
  // Seeded by (seed, tick) only: the same seed replays the same arrivals at any epoch.
  const random = prng(mixSeed(settings.seed, window.tick));
  const gap = settings.rate > 0 ? 1000 / settings.rate : 1000;
  const from = window.start + window.tick * window.tickMs;
  const out: Arrival[] = [];
  let i = 0;
  const id = () => arrivalId(window.idPrefix, window.tick, i++);

  const count = bottomCount(settings.rate, window.tickMs, window.tick);
  // The last bottom arrival so far: a late one goes below it.
  let lastBottom = lastBottomBefore(settings, window);
  for (let k = 0; k < count; k++) {
    const author = slotAuthor(settings.seed, window.tick, k);
    if (isLateSlot(settings, window.tick, k)) {
      // Below the last bottom and `by − 1` more arrivals' worth of time.
      const ts = lastBottom - Math.ceil((lateDistance(random) - 1) * gap) - 1;
      out.push({ id: id(), ts: Math.max(0, ts), author, text: sentence(random), kind: "late" });
    } else {
      // Evenly spread in the window: bottom arrivals never decrease.
      const now = slotTime(window, window.tick, k, count);
      out.push({ id: id(), ts: now, author, text: sentence(random), kind: "bottom" });
      lastBottom = now;
    }
  }

  const chunk = chunkOf(settings, window.tickMs, window.tick);
  if (chunk.size > 0) {
    const { size, random: next } = chunk;
    const pick = () => AUTHORS[Math.floor(next() * AUTHORS.length)] as string;
    // Each step is at most max(gap, 1) ms, so the whole chunk ends before the window starts.
    const age = Math.ceil(lateDistance(next) * gap) + Math.ceil(size * Math.max(gap, 1)) + 1;
    const peer = pick();
    const other = pick();
    let ts = Math.max(0, from - age);
    for (let k = 0; k < size; k++) {
      // A conversation: about one message per `gap`; ties (over 1,000 a second) keep id order.
      ts += gap >= 1 ? 1 + Math.floor(next() * (gap - 1)) : next() < gap ? 1 : 0;
      const author = next() < 0.5 ? peer : other;
      out.push({ id: id(), ts, author, text: sentence(next), kind: "chunk" });
    }
  }
  return out;
}
