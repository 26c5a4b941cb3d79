/** The simulator's settings and state as zod schemas. */
import { z } from "zod";

// ── Simulator ──────────────────────────────────────────────────────────────

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
});
export type SimulatorSettings = z.infer<typeof SimulatorSettings>;
export const SimulatorUpdate = SimulatorSettings.partial();
export type SimulatorUpdate = z.infer<typeof SimulatorUpdate>;

export const SimulatorState = z.object({
  running: z.boolean(),
  settings: SimulatorSettings,
  counters: z.object({
    ticks: z.number(),
    generated: z.number(),
    inserted: z.number(),
    late: z.number(),
    chunks: z.number(),
    lastTickAt: z.number().nullable(),
  }),
});
export type SimulatorState = z.infer<typeof SimulatorState>;
