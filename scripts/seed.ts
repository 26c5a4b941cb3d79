/**
 * Fills a channel with realistic arrivals through the HTTP API, using the
 * simulator's own generator on a virtual clock: most messages at the bottom,
 * some late, now and then a late chunk. Ids are deterministic (`seed<seed>-…`),
 * so a re-run after an interruption skips what is stored (found by a binary
 * search over batches) and completes instead of duplicating.
 *
 *   npm run seed -- --channel demo --count 1000000 --url http://127.0.0.1:8787 --seed 1 [--rate 0.39]
 */
import cliProgress from "cli-progress";
import { type ArrivalSettings, generateTick } from "../src/core/arrivals.ts";
import type { InsertReply, NewMessage, Stats } from "../src/protocol/schemas.ts";
import { ApiError, type ApiOptions, api, isMain } from "./lib/api.ts";
import { cli, intFlag } from "./lib/cli.ts";

export interface SeedOptions extends ApiOptions {
  readonly channel: string;
  readonly count: number;
  readonly seed: number;
  /** Messages per request (the API takes up to 10,000). */
  readonly batch: number;
  /**
   * Messages a second of simulated history (the default puts 1M in 30 days).
   * Arrivals depend on (seed, rate) only: `count` just truncates them, so a
   * smaller run is a prefix of a larger one and a larger run completes it.
   */
  readonly rate: number;
  /** Requests in flight at once: the worker parses one while the object stores another. */
  readonly concurrency: number;
  /** Show progress: a bar on a terminal, else a line at every tenth. */
  readonly progress: boolean;
}

export const SEED_DEFAULTS = {
  url: "http://127.0.0.1:8787",
  channel: "demo",
  count: 1_000_000,
  seed: 1,
  batch: 10_000,
  rate: 1_000_000 / (30 * 86_400),
  concurrency: 2,
} as const;

/** Seeded history: 5% of singles late, 5% of all messages in late chunks of ~500. */
const SEED_LATE_RATIO = 0.05;
const SEED_CHUNK_SHARE = 0.05;
const SEED_CHUNK_SIZE = 500;

/** Ticks of an hour of virtual time: small enough for late chunks to land anywhere. */
const TICK_MS = 60 * 60 * 1000;

/** The arrivals to seed, in arrival order, as batches of `batch` messages. */
export function* seedBatches(
  options: Pick<SeedOptions, "count" | "seed" | "batch" | "rate">,
  end: number,
): Generator<NewMessage[]> {
  const { rate } = options;
  // The history ends about `end`: count / rate whole seconds of it (chunks add a little).
  const span = Math.round(options.count / rate) * 1000;
  const settings: ArrivalSettings = {
    rate,
    lateRatio: SEED_LATE_RATIO,
    // Chunks as often as makes them SEED_CHUNK_SHARE of all messages, whatever the count.
    chunkEvery: SEED_CHUNK_SIZE / (SEED_CHUNK_SHARE * rate),
    chunkSize: SEED_CHUNK_SIZE,
    seed: options.seed,
  };
  const window = { idPrefix: `seed${options.seed}`, start: end - span, tickMs: TICK_MS };
  let emitted = 0;
  let pending: NewMessage[] = [];
  for (let tick = 0; emitted < options.count; tick++) {
    for (const { id, ts, author, text } of generateTick(settings, { ...window, tick })) {
      pending.push({ id, ts, author, text });
      if (++emitted === options.count) break;
      if (pending.length === options.batch) {
        yield pending;
        pending = [];
      }
    }
  }
  if (pending.length > 0) yield pending;
}

/** Index of the first batch not stored yet (batches are stored whole, in order). */
async function firstMissing(options: SeedOptions, lastIds: readonly string[]): Promise<number> {
  // An empty channel needs no probing (whose 404s read as failures in a server's log).
  const stats = await api<Stats>(options, `/v1/channels/${options.channel}`);
  if (stats.total === 0) return 0;
  const stored = async (k: number) => {
    try {
      const path = `/v1/channels/${options.channel}/messages?anchor=id:${encodeURIComponent(lastIds[k] ?? "")}&before=0&after=0`;
      await api(options, path);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === "not_found") return false;
      throw err;
    }
  };
  let lo = 0;
  let hi = lastIds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (await stored(mid)) lo = mid + 1;
    else hi = mid;
  }
  // With several requests in flight the last few may have landed out of order: resend them.
  return Math.max(0, lo - options.concurrency);
}

export interface SeedResult {
  readonly inserted: number;
  readonly duplicates: number;
  readonly skipped: number;
  readonly total: number;
  readonly ms: number;
}

/**
 * When seeded history ends: now, rounded down to the hour, so that a run
 * resumed within the hour continues with the very same timestamps.
 */
export function seedEnd(now = Date.now()): number {
  return Math.floor(now / 3_600_000) * 3_600_000;
}

/** Seeds the channel; resolves when every message is stored. */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const end = seedEnd();
  const lastIds: string[] = [];
  for (const batch of seedBatches(options, end)) lastIds.push(batch[batch.length - 1]?.id ?? "");
  const start = await firstMissing(options, lastIds);

  const bar =
    options.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format:
              " seeding {bar} {percentage}% | {value}/{total} | {rate} msg/s | ETA {eta_formatted}",
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const skipped = Math.min(options.count, start * options.batch);
  bar?.start(options.count, skipped, { rate: 0 });
  // Without a terminal (a log, CI): a line at every tenth instead of a redrawn bar.
  const lines = options.progress && !bar;
  let tenths = Math.floor((skipped * 10) / options.count);

  const began = performance.now();
  let inserted = 0;
  let duplicates = 0;
  let total = 0;
  let sent = skipped;
  const inFlight = new Set<Promise<void>>();
  let k = 0;
  for (const batch of seedBatches(options, end)) {
    if (k++ < start) continue;
    const request = api<InsertReply>(options, `/v1/channels/${options.channel}/messages`, {
      method: "POST",
      body: { messages: batch },
    }).then((reply) => {
      inserted += reply.inserted;
      duplicates += reply.duplicates;
      total = Math.max(total, reply.total);
      sent += batch.length;
      const seconds = (performance.now() - began) / 1000;
      const rate = Math.round((sent - skipped) / Math.max(seconds, 0.001));
      bar?.update(sent, { rate });
      if (lines && Math.floor((sent * 10) / options.count) > tenths) {
        tenths = Math.floor((sent * 10) / options.count);
        console.log(`  seeding ${sent} / ${options.count} (${tenths * 10}%), ${rate} msg/s`);
      }
    });
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  bar?.stop();
  return { inserted, duplicates, skipped, total, ms: performance.now() - began };
}

function options(): SeedOptions {
  const { values, fail } = cli({
    usage: "npm run seed -- [--channel demo] [--count 1000000] [flags]",
    summary:
      "Fills a channel with realistic arrivals through the HTTP API; a re-run completes, never duplicates.",
    options: {
      url: { type: "string", default: SEED_DEFAULTS.url, hint: "the worker's base URL" },
      channel: { type: "string", default: SEED_DEFAULTS.channel, hint: "the channel to fill" },
      count: { type: "string", default: String(SEED_DEFAULTS.count), hint: "messages in all" },
      seed: { type: "string", default: String(SEED_DEFAULTS.seed), hint: "PRNG seed (the ids)" },
      batch: { type: "string", default: String(SEED_DEFAULTS.batch), hint: "messages a request" },
      rate: {
        type: "string",
        default: String(SEED_DEFAULTS.rate),
        hint: "messages a second of simulated history",
      },
      concurrency: {
        type: "string",
        default: String(SEED_DEFAULTS.concurrency),
        hint: "requests in flight",
      },
      token: { type: "string", hint: "a bearer token (else $SCROLLBACK_TOKEN)" },
      quiet: { type: "boolean", default: false, hint: "no progress" },
    },
  });
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate <= 0) fail("--rate must be a positive number");
  return {
    url: values.url,
    channel: values.channel,
    count: intFlag(fail, "count", values.count, 1, 100_000_000),
    seed: intFlag(fail, "seed", values.seed, 0, 2 ** 32 - 1),
    batch: intFlag(fail, "batch", values.batch, 1, 10_000),
    rate,
    concurrency: intFlag(fail, "concurrency", values.concurrency, 1, 16),
    token: values.token ?? process.env.SCROLLBACK_TOKEN,
    progress: !values.quiet,
  };
}

if (isMain(import.meta.url)) {
  const chosen = options();
  const result = await seed(chosen);
  const seconds = result.ms / 1000;
  console.log(
    `seeded ${chosen.channel}: ${result.inserted} inserted, ${result.duplicates} duplicates, ` +
      `${result.skipped} skipped (already stored), total ${result.total}, ` +
      `${seconds.toFixed(1)} s (${Math.round((chosen.count - result.skipped) / Math.max(seconds, 0.001))} msg/s)`,
  );
}
