/**
 * The simulator's state as docs/protocol.md ("Simulator") writes it: the
 * settings and their defaults on first start, and the counters before any
 * tick. For tests that must not take them from src/.
 */

export interface SimulatorSettings {
  rate: number;
  lateRatio: number;
  chunkEvery: number;
  chunkSize: number;
  seed: number;
  tickMs: number;
  /** Protocol 1.2: shares of a tick's arrivals that are edits, deletes, reactions. */
  editRatio: number;
  deleteRatio: number;
  reactRatio: number;
}

/** The defaults on first start. */
export const DEFAULT_SIMULATOR: SimulatorSettings = {
  rate: 5,
  lateRatio: 0.1,
  chunkEvery: 30,
  chunkSize: 200,
  seed: 1,
  tickMs: 1_000,
  editRatio: 0.05,
  deleteRatio: 0.01,
  reactRatio: 0.3,
};

/** The counters before any tick. */
export const ZERO_COUNTERS = {
  ticks: 0,
  generated: 0,
  inserted: 0,
  late: 0,
  chunks: 0,
  changes: 0,
  edits: 0,
  deletes: 0,
  reactions: 0,
  pending: 0,
  lastTickAt: null,
};
