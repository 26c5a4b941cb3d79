/** The worker's bindings (wrangler.toml), shared by the worker and the object. */
import type { Channel } from "./channel/channel.ts";

export interface Env {
  CHANNEL: DurableObjectNamespace<Channel>;
  /** HS256 secret; when unset the worker is open (local development). */
  AUTH_SECRET?: string;
  /** Per-socket frame budget: frames a second, and the burst. */
  WS_RATE?: string;
  WS_BURST?: string;
  /** "0" pushes every group in the turn that stored it, not merged when pushes fall behind (the bench compares). */
  PUSH_COALESCE?: string;
  /** "1" enables GET /v1/channels/{ch}/naive, the OFFSET baseline for `npm run bench`. */
  BENCH_NAIVE?: string;
}
