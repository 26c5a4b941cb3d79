/** The simulator's settings and state as zod schemas. */
import { z } from "zod";

// ── Simulator ──────────────────────────────────────────────────────────────

/**
 * Most of a tick's arrivals that may be changes (`editRatio + deleteRatio +
 * reactRatio`): the rest are messages, so at most 9 changes a message.
 */
export const MAX_CHANGE_SHARE = 0.9;

/** A fraction of a tick's arrivals (messages and changes). */
const ratio = () => z.number().min(0).max(1);

/** Simulator settings (PUT merges these into the current ones). */
export const SimulatorSettings = z.strictObject({
  /** Messages per second. */
  rate: z.number().min(0).max(5_000),
  /** Fraction of single messages that arrive late. */
  lateRatio: z.number().min(0).max(1),
  /** Mean seconds between late chunks; 0: none. */
  chunkEvery: z.number().min(0).max(86_400),
  /** Mean messages in a late chunk. */
  chunkSize: z.int().min(1).max(10_000),
  /** PRNG seed: the same seed replays the same arrivals. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  /** Milliseconds between alarm ticks. */
  tickMs: z.int().min(100).max(60_000),
  /** Protocol 1.2: fraction of a tick's arrivals that are edits of earlier messages. */
  editRatio: ratio(),
  /** Protocol 1.2: fraction of a tick's arrivals that are deletes. */
  deleteRatio: ratio(),
  /** Protocol 1.2: fraction of a tick's arrivals that are reactions, set or cleared. */
  reactRatio: ratio(),
});
export type SimulatorSettings = z.infer<typeof SimulatorSettings>;
export const SimulatorUpdate = SimulatorSettings.partial();
export type SimulatorUpdate = z.infer<typeof SimulatorUpdate>;

/** What is wrong with settings as a whole (after a PUT is merged), or undefined. */
export function settingsProblem(settings: SimulatorSettings): string | undefined {
  const share = settings.editRatio + settings.deleteRatio + settings.reactRatio;
  // A hair of slack: 0.3 + 0.3 + 0.3 is not 0.9 in binary.
  if (share > MAX_CHANGE_SHARE + 1e-9) {
    return `editRatio + deleteRatio + reactRatio: at most ${MAX_CHANGE_SHARE} (the rest of the arrivals are messages), got ${share}`;
  }
  return undefined;
}

export const SimulatorState = z.object({
  running: z.boolean(),
  settings: SimulatorSettings,
  counters: z.object({
    ticks: z.number(),
    generated: z.number(),
    inserted: z.number(),
    late: z.number(),
    chunks: z.number(),
    /** Protocol 1.2: changes generated. */
    changes: z.number(),
    /** Edits, deletes and reactions (set or cleared) applied as they arrived. */
    edits: z.number(),
    deletes: z.number(),
    reactions: z.number(),
    /** Changes that arrived before their message: held, and applied when it arrives. */
    pending: z.number(),
    lastTickAt: z.number().nullable(),
  }),
});
export type SimulatorState = z.infer<typeof SimulatorState>;
