/**
 * `npm run bench [-- --sizes 10000,100000,1000000]`: starts its own
 * `wrangler dev` with fresh state, seeds each size through the HTTP API, then
 * measures from a real client over WebSocket (and HTTP where the op is HTTP):
 * p50 / p99 latency and the SQLite rows each op reads (from Server-Timing),
 * beside the naive OFFSET / count(*) page on the same data, and the timeline
 * (exact and at bucket starts); then edits and deletes (protocol 1.2) and
 * pages after 10,000 deletes; writes and pushes under load with push
 * coalescing on and off; the channel object's own work per group with and
 * without relays, and the most live sockets one channel reaches with relays;
 * and after a server restart the first page of every size (a wake: rows read
 * and time). Prints a markdown table and writes bench/results.json
 * (`--parts` runs some of it and keeps the report's other rows).
 */
import { ScrollbackClient } from "../src/client/index.ts";
import { mixSeed, prng } from "../src/core/random.ts";
import type { Stats } from "../src/protocol/schemas.ts";
import { api } from "./lib/api.ts";
import { measureChanges } from "./lib/bench-changes.ts";
import { measureCeiling, measureChannelWork, measureCoalescing } from "./lib/bench-relays.ts";
import { Results } from "./lib/bench-results.ts";
import { closedLoopSends, openSocket } from "./lib/bench-writes.ts";
import { cli, intFlag } from "./lib/cli.ts";
import { startDirect } from "./lib/direct-server.ts";
import { removeStateDir, type Server, startServer } from "./lib/server.ts";
import { SEED_DEFAULTS, seed } from "./seed.ts";

/** The bench's parts, in the order they run. */
const PARTS = ["reads", "writes", "fanout", "coalescing", "relays", "ceiling", "wake"] as const;

const { values, fail } = cli({
  usage: "npm run bench -- [--sizes 10000,100000] [--samples 50] [flags]",
  summary:
    "Benchmarks a fresh local server: pages, sends, pushes, push coalescing, relays; writes a JSON report.",
  options: {
    sizes: {
      type: "string",
      default: "10000,100000,1000000",
      hint: "channel sizes, comma-separated",
    },
    samples: { type: "string", default: "200", hint: "samples per op" },
    fanout: { type: "string", default: "1,100,1000", hint: "socket counts for the fan-out op" },
    parts: {
      type: "string",
      default: PARTS.join(","),
      hint: "what to run (reads: seeds, pages, changes; wake needs reads); other rows of --out stay",
    },
    audiences: {
      type: "string",
      default: "100,1000,4000",
      hint: "live sockets at which the channel's own work is counted, with and without relays",
    },
    "max-sockets": {
      type: "string",
      default: "30000",
      hint: "most live sockets the relay ceiling tries (the open-file limit may stop it first)",
    },
    "ceiling-seconds": { type: "string", default: "900", hint: "time budget of the relay ceiling" },
    out: { type: "string", default: "bench/results.json", hint: "where the results go" },
  },
});
/** A comma-separated list of positive integers, or the usage. */
const counts = (name: string, value: string): number[] => {
  const list = value.split(",").map(Number);
  if (!list.every((n) => Number.isInteger(n) && n > 0))
    fail(`--${name}: positive integers, comma-separated`);
  return list;
};
const sizes = counts("sizes", values.sizes);
const SAMPLES = intFlag(fail, "samples", values.samples, 1, 100_000);
const fanouts = counts("fanout", values.fanout);
const audiences = counts("audiences", values.audiences);
const MAX_SOCKETS = intFlag(fail, "max-sockets", values["max-sockets"], 1, 1_000_000);
const CEILING_SECONDS = intFlag(fail, "ceiling-seconds", values["ceiling-seconds"], 1, 86_400);
const parts = new Set(values.parts.split(","));
for (const part of parts) {
  if (!(PARTS as readonly string[]).includes(part)) fail(`--parts: some of ${PARTS.join(",")}`);
}
const random = prng(mixSeed(42));
const results = new Results();
const record = results.record;

/** The naive baseline on; the frame budget out of the way (it is not what the bench measures). */
const BENCH_VARS = { BENCH_NAIVE: "1", WS_RATE: "1000000", WS_BURST: "1000000" };
/** How long each closed-loop send run lasts. */
const SEND_SECONDS = 5;
/** How long each run under load lasts, and how many of each coalescing setting. */
const LOAD_SECONDS = 10;
const LOAD_RUNS = 2;
/** Groups pushed at each audience (one message each). */
const AUDIENCE_ROUNDS = 50;
const CEILING_ROUNDS = 10;

/** An HTTP GET timed from the client, with the rows the object read. */
async function timedGet(url: string): Promise<{ ms: number; rows: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = await res.json();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  const rows = Number(res.headers.get("server-timing")?.match(/rows;dur=(\d+)/)?.[1] ?? Number.NaN);
  return { ms, rows, body };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

async function measureReads(server: Server, size: number): Promise<void> {
  const channel = `bench-${size}`;
  const base = `${server.url}/v1/channels/${channel}`;
  const stats = await api<Stats>(server, `/v1/channels/${channel}`);
  const total = stats.total;
  const client = new ScrollbackClient({ url: server.url, channel, user: `reader-${size}` });
  await client.connect();
  const positions = Array.from({ length: SAMPLES }, () => Math.floor(random() * total));

  const ws: Record<string, number[]> = {
    newest: [],
    position: [],
    id: [],
    ts: [],
    send: [],
    late_next: [],
  };
  const rows: Record<string, number[]> = {
    newest: [],
    position: [],
    id: [],
    ts: [],
    naive_position: [],
  };
  const http: Record<string, number[]> = { naive_position: [] };
  const ids: string[] = [];

  for (const p of positions) {
    const [ms, page] = await timed(() =>
      client.page({ anchor: { position: p }, before: 25, after: 24 }),
    );
    ws.position?.push(ms);
    const id = page.messages[page.anchorIndex ?? 0]?.id;
    if (id) ids.push(id);
    rows.position?.push(
      (await timedGet(`${base}/messages?anchor=pos:${p}&before=25&after=24`)).rows,
    );
  }
  for (let i = 0; i < SAMPLES; i++) {
    ws.newest?.push(
      (await timed(() => client.page({ anchor: "newest", before: 49, after: 0 })))[0],
    );
    rows.newest?.push((await timedGet(`${base}/messages?anchor=newest&before=49&after=0`)).rows);
  }
  for (const id of ids) {
    ws.id?.push((await timed(() => client.page({ anchor: { id }, before: 25, after: 24 })))[0]);
    rows.id?.push(
      (await timedGet(`${base}/messages?anchor=id:${encodeURIComponent(id)}&before=25&after=24`))
        .rows,
    );
  }
  const oldest = stats.oldest?.ts ?? 0;
  const newest = stats.newest?.ts ?? 0;
  for (let i = 0; i < SAMPLES; i++) {
    const ts = Math.floor(oldest + random() * (newest - oldest));
    ws.ts?.push((await timed(() => client.page({ anchor: { ts }, before: 25, after: 24 })))[0]);
    rows.ts?.push((await timedGet(`${base}/messages?anchor=ts:${ts}&before=25&after=24`)).rows);
  }
  // The naive baseline is slow at 1M: fewer samples.
  for (const p of positions.slice(0, Math.min(SAMPLES, 50))) {
    const r = await timedGet(`${base}/naive?anchor=pos:${p}&before=25&after=24`);
    http.naive_position?.push(r.ms);
    rows.naive_position?.push(r.rows);
  }

  // late_next: late messages that arrive after this reader connected, then jump to each.
  const late = Array.from({ length: Math.min(SAMPLES, 100) }, (_, i) => ({
    id: `bench-late-${size}-${i}`,
    ts: Math.floor(oldest + random() * (newest - oldest)),
    author: "peer",
    text: "a late message",
  }));
  await api(server, `/v1/channels/${channel}/messages`, {
    method: "POST",
    body: { messages: late },
  });
  for (let i = 0; i < late.length; i++) {
    const [ms, page] = await timed(() => client.lateNext({ before: 25, after: 24 }));
    ws.late_next?.push(ms);
    const anchor = page?.messages[page.anchorIndex ?? 0];
    if (!anchor) break;
    // Declaring the view marks it seen, so the next jump goes to the next one.
    await client.view({
      first: { ts: anchor.ts, id: anchor.id },
      last: { ts: anchor.ts, id: anchor.id },
      live: false,
    });
  }
  for (let i = 0; i < SAMPLES; i++) {
    ws.send?.push((await timed(() => client.send([{ text: `bench ${i}` }])))[0]);
  }
  client.close();

  for (const op of ["newest", "position", "id", "ts", "late_next", "send"]) {
    record(
      op,
      size,
      ws[op] ?? [],
      rows[op] ?? null,
      op === "late_next" || op === "send" ? "WebSocket" : "WebSocket; rows via HTTP",
    );
  }
  record(
    "naive_position",
    size,
    http.naive_position ?? [],
    rows.naive_position ?? null,
    "HTTP, OFFSET + count(*)",
  );
  await measureTimeline(base, size);
}

/** How many times each timeline op runs a size: its rows are the point, and they do not vary. */
const TIMELINE_SAMPLES = 20;

/**
 * `timeline?points=1000` over HTTP, exact (the contract: a share of a
 * bucket read a point) and with `exact=false` (bucket starts from memory),
 * with the rows each reads.
 */
async function measureTimeline(base: string, size: number): Promise<void> {
  for (const [op, query, note] of [
    ["timeline", "points=1000", "HTTP, 1,000 exact points"],
    ["timeline_spaced", "points=1000&exact=false", "HTTP, 1,000 points at bucket starts"],
  ] as const) {
    const ms: number[] = [];
    const rows: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, TIMELINE_SAMPLES); i++) {
      const r = await timedGet(`${base}/timeline?${query}`);
      ms.push(r.ms);
      rows.push(r.rows);
    }
    record(op, size, ms, rows, note);
  }
}

/**
 * Single-message sends, each socket waiting for its `sent` before the next
 * (a chat client's pace), from 1 and from 20 sockets: group commit lets
 * concurrent writers share commits. Run on the worker in Miniflare directly
 * (see lib/direct-server.ts): wrangler dev's proxy would cap them, not the worker.
 */
async function measureClosedLoopSends(): Promise<void> {
  const server = await startDirect({ WS_RATE: "1000000", WS_BURST: "1000000" });
  try {
    const one = await closedLoopSends(server, "bench-send-1", 1, SEND_SECONDS);
    record(
      "send_1_socket",
      1,
      one.latencies,
      null,
      `${one.perSecond} msg/s, each send awaits its sent`,
      {
        per_s: one.perSecond,
      },
    );
    const twenty = await closedLoopSends(server, "bench-send-20", 20, SEND_SECONDS);
    const ratio = (twenty.perSecond / Math.max(1, one.perSecond)).toFixed(1);
    record(
      "send_20_sockets",
      20,
      twenty.latencies,
      null,
      `${twenty.perSecond} msg/s (${ratio}× one socket), each send awaits its sent`,
      { per_s: twenty.perSecond },
    );
  } finally {
    await server.stop();
  }
}

/** insert → push latency with k live sockets on the channel. */
async function measureFanout(server: Server, k: number): Promise<void> {
  const channel = `bench-fanout-${k}`;
  await api(server, `/v1/channels/${channel}/messages`, {
    method: "POST",
    body: { messages: [{ id: "first", ts: 1, author: "x", text: "first" }] },
  });
  let sentAt = 0;
  const latencies: number[] = [];
  const sockets = await Promise.all(
    Array.from({ length: k }, (_, i) =>
      openSocket(server, channel, `watcher${i}`, (data) => {
        if (data.startsWith('{"type":"insert"')) latencies.push(performance.now() - sentAt);
      }),
    ),
  );
  const ROUNDS = 20;
  for (let r = 0; r < ROUNDS; r++) {
    const expected = latencies.length + k;
    sentAt = performance.now();
    await api(server, `/v1/channels/${channel}/messages`, {
      method: "POST",
      body: { messages: [{ id: `m${r}`, ts: 10 + r, author: "x", text: "ping" }] },
    });
    const deadline = Date.now() + 30_000;
    while (latencies.length < expected && Date.now() < deadline)
      await new Promise((r2) => setTimeout(r2, 1));
  }
  for (const s of sockets) s.close();
  record("fanout", k, latencies, null, `${k} sockets, HTTP insert → WebSocket push`);
}

async function main(): Promise<void> {
  // The parts on wrangler dev (pages, fan-out, the wake) share one server and its state.
  const onWrangler = parts.has("reads") || parts.has("fanout");
  let server = onWrangler ? await startWrangler() : undefined;
  try {
    if (server && parts.has("reads")) {
      for (const size of sizes) {
        console.log(`Seeding ${size}…`);
        const seeded = await seed({
          ...SEED_DEFAULTS,
          url: server.url,
          channel: `bench-${size}`,
          count: size,
          progress: false,
        });
        const rate = Math.round(size / (seeded.ms / 1000));
        record("ingest_batch", size, [seeded.ms], null, `seed: ${rate} msg/s in batches of 10,000`);
        await measureReads(server, size);
        await measureChanges(server, size, SAMPLES, random, record);
      }
    }
    if (parts.has("writes")) await measureClosedLoopSends();
    if (parts.has("coalescing")) {
      console.log("Push coalescing on and off, 1,000 live sockets, 20 writers…");
      await measureCoalescing(record, { seconds: LOAD_SECONDS, runs: LOAD_RUNS });
    }
    if (parts.has("relays")) {
      console.log("The channel's own work per group, with and without relays…");
      await measureChannelWork(record, { counts: audiences, rounds: AUDIENCE_ROUNDS });
    }
    if (parts.has("ceiling")) {
      console.log("The most live sockets on one channel with relays…");
      await measureCeiling(record, {
        max: MAX_SOCKETS,
        budgetS: CEILING_SECONDS,
        rounds: CEILING_ROUNDS,
      });
    }
    if (server && parts.has("fanout")) for (const k of fanouts) await measureFanout(server, k);
    if (server && parts.has("reads") && parts.has("wake")) server = await measureWake(server);
  } finally {
    if (server) {
      await server.stop();
      await removeStateDir(server.persistTo);
    }
  }
  results.write(values.out, parts.size < PARTS.length);
}

async function startWrangler(): Promise<Server> {
  console.log(`Starting wrangler dev (fresh state)…`);
  return startServer({ vars: BENCH_VARS });
}

/**
 * The wake: a restart of the local server drops every object; the first page
 * of each channel then loads its bucket directory. A call to another channel
 * first, so the worker's own start is not counted against the smallest size.
 * Answers the restarted server.
 */
async function measureWake(before: Server): Promise<Server> {
  await before.stop();
  const server = await startServer({ persistTo: before.persistTo, vars: BENCH_VARS });
  await timedGet(`${server.url}/v1/channels/bench-warmup/messages?anchor=newest`);
  for (const size of sizes) {
    const url = `${server.url}/v1/channels/bench-${size}/messages?anchor=pos:${Math.floor(size / 2)}&before=25&after=24`;
    const wake = await timedGet(url);
    // The same page again, awake: what the wake itself read is the difference.
    const again = await timedGet(url);
    const note = `first page after a server restart; ${wake.rows - again.rows} rows more than the same page awake`;
    record("wake", size, [wake.ms], [wake.rows], note);
  }
  return server;
}

await main();
