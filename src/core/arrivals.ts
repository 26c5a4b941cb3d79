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
  const id = () => `${window.idPrefix}-${window.tick}-${i++}`;

  const count = bottomCount(settings.rate, window.tickMs, window.tick);
  for (let k = 0; k < count; k++) {
    // Evenly spread in the window, so bottom arrivals are strictly increasing.
    const now = from + Math.floor(((k + 1) * window.tickMs) / (count + 1));
    if (random() < settings.lateRatio) {
      const by = lateDistance(random);
      out.push({
        id: id(),
        ts: Math.max(0, now - Math.ceil(by * gap)),
        author: pick(AUTHORS),
        text: sentence(),
        kind: "late",
      });
    } else {
      out.push({ id: id(), ts: now, author: pick(AUTHORS), text: sentence(), kind: "bottom" });
    }
  }

  // Chunks form a Poisson process: this tick holds one with probability tickMs / chunkEvery.
  if (settings.chunkEvery > 0 && random() < window.tickMs / (settings.chunkEvery * 1000)) {
    const size = Math.min(
      MAX_CHUNK,
      Math.max(1, Math.round(-Math.log(1 - random()) * settings.chunkSize)),
    );
    const age = Math.ceil((lateDistance(random) + size) * gap);
    const peer = pick(AUTHORS);
    const other = pick(AUTHORS);
    let ts = Math.max(0, from - age);
    for (let k = 0; k < size; k++) {
      ts += 1 + Math.floor(random() * gap);
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
