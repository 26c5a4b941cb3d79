/** The worker's bindings (wrangler.toml), shared by the worker and the object. */
import type { Channel } from "./channel/channel.ts";
import type { Relay } from "./relay/relay.ts";

export interface Env {
  CHANNEL: DurableObjectNamespace<Channel>;
  /** Relay objects: a hot channel's sockets beyond RELAY_SOCKETS (issue 18). */
  RELAY: DurableObjectNamespace<Relay>;
  /** Sockets a channel object serves itself before new ones go to relays ("0": all relayed). */
  RELAY_SOCKETS?: string;
  /** Most sockets one relay takes before the next is opened. */
  RELAY_CAPACITY?: string;
  /** HS256 secret; when unset the worker is open (local development). */
  AUTH_SECRET?: string;
  /** Per-socket frame budget: frames a second, and the burst. */
  WS_RATE?: string;
  WS_BURST?: string;
  /** "0" pushes every group in the turn that stored it, not merged when pushes fall behind (the bench compares). */
  PUSH_COALESCE?: string;
  /** "1" enables GET /v1/channels/{ch}/naive, the OFFSET baseline for `npm run bench`. */
  BENCH_NAIVE?: string;
  /** "1" counts the object's own push work, read at GET /v1/channels/{ch}/bench-stats (`npm run bench` only). */
  BENCH_STATS?: string;
}

/** A var that must be a positive number, or its default. */
export function positiveVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A var that must be a count (0 included), or its default. */
export function countVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/** The per-socket frame budget (docs/protocol.md: 200 frames a second, bursts of 400, by default). */
export function budgetOf(env: Env): { rate: number; burst: number } {
  return { rate: positiveVar(env.WS_RATE, 200), burst: positiveVar(env.WS_BURST, 400) };
}
