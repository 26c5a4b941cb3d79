/**
 * `npm run bench [-- --sizes 10000,100000,1000000]`: starts its own
 * `wrangler dev` with fresh state, seeds each size through the HTTP API, then
 * measures from a real client over WebSocket (and HTTP where the op is HTTP):
 * p50 / p99 latency and the SQLite rows each op reads (from Server-Timing),
 * beside the naive OFFSET / count(*) page on the same data, and the timeline
 * (exact and at bucket starts); then edits and deletes (protocol 1.2) and
 * pages after 10,000 deletes; and after a server restart the first page of
 * every size (a wake: rows read and time). Prints a markdown table and writes
 * bench/results.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { ScrollbackClient } from "../src/client/index.ts";
import { mixSeed, prng } from "../src/core/random.ts";
import type { Stats } from "../src/protocol/schemas.ts";
import { api } from "./lib/api.ts";
import { measureChanges } from "./lib/bench-changes.ts";
import { closedLoopSends, fanoutUnderLoad, openSocket } from "./lib/bench-writes.ts";
import { cli, intFlag } from "./lib/cli.ts";
import { startDirect } from "./lib/direct-server.ts";
import { removeStateDir, type Server, startServer } from "./lib/server.ts";
import { SEED_DEFAULTS, seed } from "./seed.ts";

const { values, fail } = cli({
  usage: "npm run bench -- [--sizes 10000,100000] [--samples 50] [flags]",
  summary: "Benchmarks a fresh local wrangler dev: pages, sends, fan-out; writes a JSON report.",
  options: {
    sizes: {
      type: "string",
      default: "10000,100000,1000000",
      hint: "channel sizes, comma-separated",
    },
    samples: { type: "string", default: "200", hint: "samples per op" },
    fanout: { type: "string", default: "1,100,1000", hint: "socket counts for the fan-out op" },
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
const random = prng(mixSeed(42));

interface Result {
  op: string;
  size: number;
  p50_ms: number;
  p99_ms: number;
  rows_read: number | null;
  n: number;
  /** Throughput ops: operations a second. */
  per_s?: number;
  note?: string;
}
const results: Result[] = [];

/** The naive baseline on; the frame budget out of the way (it is not what the bench measures). */
const BENCH_VARS = { BENCH_NAIVE: "1", WS_RATE: "1000000", WS_BURST: "1000000" };
/** How long each closed-loop send run lasts. */
const SEND_SECONDS = 5;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function record(
  op: string,
  size: number,
  samples: number[],
  rows: number[] | null,
  note?: string,
  extra: { per_s?: number } = {},
): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const rowsSorted = rows ? [...rows].sort((a, b) => a - b) : null;
  const result: Result = {
    op,
    size,
    p50_ms: round(quantile(sorted, 0.5)),
    p99_ms: round(quantile(sorted, 0.99)),
    rows_read: rowsSorted ? quantile(rowsSorted, 0.5) : null,
    n: samples.length,
    ...extra,
    ...(note ? { note } : {}),
  };
  results.push(result);
  console.log(
    `  ${op.padEnd(16)} ${String(size).padStart(8)}  p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms` +
      (result.rows_read === null ? "" : `  rows ${result.rows_read}`) +
      (note ? `  (${note})` : ""),
  );
}

const round = (ms: number) => Math.round(ms * 100) / 100;

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
 * (a chat client's pace), from 1 and from 20 sockets, and push latency at
 * 1,000 live sockets while 20 send: group commit lets concurrent writers
 * share commits. Run on the worker in Miniflare directly (see
 * lib/direct-server.ts): wrangler dev's proxy would cap them, not the worker.
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
    // A busy channel: 20 writers, each a message every 100 ms, 1,000 readers live.
    const loaded = await fanoutUnderLoad(server, "bench-fanout-load", 1_000, 20, SEND_SECONDS, 100);
    record(
      "fanout_under_load",
      1_000,
      loaded.latencies,
      null,
      `1000 live sockets, send → insert push while 20 sockets send (${loaded.perSecond} msg/s)`,
      { per_s: loaded.perSecond },
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
  console.log(`Starting wrangler dev (fresh state)…`);
  let server = await startServer({ vars: BENCH_VARS });
  const persistTo = server.persistTo;
  try {
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
    await measureClosedLoopSends();
    for (const k of fanouts) await measureFanout(server, k);

    // wake: a restart of the local server drops every object; the first page of
    // each channel then loads its bucket directory. A call to another channel
    // first, so the worker's own start is not counted against the smallest size.
    await server.stop();
    server = await startServer({ persistTo, vars: BENCH_VARS });
    await timedGet(`${server.url}/v1/channels/bench-warmup/messages?anchor=newest`);
    for (const size of sizes) {
      const url = `${server.url}/v1/channels/bench-${size}/messages?anchor=pos:${Math.floor(size / 2)}&before=25&after=24`;
      const wake = await timedGet(url);
      // The same page again, awake: what the wake itself read is the difference.
      const again = await timedGet(url);
      const note = `first page after a server restart; ${wake.rows - again.rows} rows more than the same page awake`;
      record("wake", size, [wake.ms], [wake.rows], note);
    }
  } finally {
    await server.stop();
    await removeStateDir(persistTo);
  }

  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
  mkdirSync("bench", { recursive: true });
  writeFileSync(values.out, `${JSON.stringify({ results, machine }, null, 2)}\n`);
  console.log(`\n${table(machine)}\nWrote ${values.out}`);
}

function table(machine: { cpus: number; cpu: string; node: string; date: string }): string {
  const lines = [
    `Machine: ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${machine.date.slice(0, 10)}, local wrangler dev`,
    "",
    "| op | size | p50 ms | p99 ms | rows read | note |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.op} | ${r.size.toLocaleString("en")} | ${r.p50_ms} | ${r.p99_ms} | ${r.rows_read ?? "–"} | ${r.note ?? ""} |`,
    );
  }
  return lines.join("\n");
}

await main();
