/**
 * Simulated arrivals as a peer-to-peer (CRDT) chat delivers them: most at the
 * bottom, some late by a heavy-tailed number of messages, and now and then a
 * chunk of consecutive messages (a peer's offline conversation) arbitrarily
 * late. Pure and deterministic: a tick's arrivals depend only on the
 * settings, the window and the tick number, so a retried alarm regenerates the
 * same messages with the same ids, and the store's duplicate check makes the
 * retry a no-op.
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

const AUTHORS = [
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

/** A heavy-tailed integer ≥ 1: Pareto with index {@link LATE_TAIL}. */
export function lateDistance(random: () => number, max = MAX_LATE_BY): number {
  const u = 1 - random(); // (0, 1]
  return Math.min(max, Math.floor(u ** (-1 / LATE_TAIL)));
}

/** How many bottom arrivals fall in a tick: exact on average, no drift. */
export function bottomCount(rate: number, tickMs: number, tick: number): number {
  const upTo = (t: number) => Math.floor((rate * tickMs * t) / 1000);
  return upTo(tick + 1) - upTo(tick);
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

/** The arrivals of one tick, in arrival order. */
export function generateTick(settings: ArrivalSettings, window: TickWindow): Arrival[] {
  // Seeded by (seed, tick) only: the same seed replays the same arrivals at any epoch.
  const random = prng(mixSeed(settings.seed, window.tick));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sentence = () =>
    Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(WORDS)).join(" ");
  const gap = settings.rate > 0 ? 1000 / settings.rate : 1000;
  const from = window.start + window.tick * window.tickMs;
  const out: Arrival[] = [];
  let i = 0;
  // Zero-padded, so that at equal ts (over 1,000 a second) key order is arrival order.
  const id = () => `${window.idPrefix}-${window.tick}-${String(i++).padStart(6, "0")}`;

  const count = bottomCount(settings.rate, window.tickMs, window.tick);
  // The last bottom arrival so far: a late one goes below it.
  let lastBottom = lastBottomBefore(settings, window);
  for (let k = 0; k < count; k++) {
    // Evenly spread in the window: bottom arrivals never decrease.
    const now = slotTime(window, window.tick, k, count);
    if (isLateSlot(settings, window.tick, k)) {
      // Below the last bottom and `by − 1` more arrivals' worth of time.
      const ts = lastBottom - Math.ceil((lateDistance(random) - 1) * gap) - 1;
      out.push({
        id: id(),
        ts: Math.max(0, ts),
        author: pick(AUTHORS),
        text: sentence(),
        kind: "late",
      });
    } else {
      out.push({ id: id(), ts: now, author: pick(AUTHORS), text: sentence(), kind: "bottom" });
      lastBottom = now;
    }
  }

  // Chunks form a Poisson process: this tick holds one with probability tickMs / chunkEvery.
  if (settings.chunkEvery > 0 && random() < window.tickMs / (settings.chunkEvery * 1000)) {
    const size = Math.min(
      MAX_CHUNK,
      Math.max(1, Math.round(-Math.log(1 - random()) * settings.chunkSize)),
    );
    // Each step is at most max(gap, 1) ms, so the whole chunk ends before the window starts.
    const age = Math.ceil(lateDistance(random) * gap) + Math.ceil(size * Math.max(gap, 1)) + 1;
    const peer = pick(AUTHORS);
    const other = pick(AUTHORS);
    let ts = Math.max(0, from - age);
    for (let k = 0; k < size; k++) {
      // A conversation: about one message per `gap`; ties (over 1,000 a second) keep id order.
      ts += gap >= 1 ? 1 + Math.floor(random() * (gap - 1)) : random() < gap ? 1 : 0;
      out.push({
        id: id(),
        ts,
        author: random() < 0.5 ? peer : other,
        text: sentence(),
        kind: "chunk",
      });
    }
  }
  return out;
}
