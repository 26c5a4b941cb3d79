/**
 * The bench's live-audience measurements (issue 18), on the worker in
 * Miniflare directly (lib/direct-server.ts: wrangler dev's proxy would cap
 * the socket traffic, not the worker), each setting on a server of its own:
 *
 * - push coalescing on and off: insert → push at 1,000 live sockets while
 *   20 sockets send, runs of the two settings alternating;
 * - the channel object's own work per group (its `ws.send` calls and its
 *   push and relay-operation time, counted inside it: BENCH_STATS) at 100,
 *   1,000 and 4,000 live sockets, all of them its own or all on relays, and
 *   beside each audience 20 sockets paging (a relayed socket's frames go
 *   through its relay's queue of operations: the hop that reads pay);
 * - the most live sockets one channel reaches here with the default relay
 *   settings, grown in steps until a socket cannot open, the machine's file
 *   descriptors run out or the time budget is spent.
 */
import { execFileSync } from "node:child_process";
import type { BenchStats } from "../../src/channel/bench-meter.ts";
import { api } from "./api.ts";
import { Audience } from "./bench-audience.ts";
import type { ChannelWork, Extra, Recorder } from "./bench-results.ts";
import { round } from "./bench-results.ts";
import { fanoutUnderLoad, openSocket } from "./bench-writes.ts";
import { startDirect } from "./direct-server.ts";
import { type Usage, usage } from "./proc-usage.ts";
import type { Server } from "./server.ts";

/** The frame budget out of the way, the object's own counters on. */
const VARS = { WS_RATE: "1000000", WS_BURST: "1000000", BENCH_STATS: "1" };
/** RELAY_SOCKETS that no run reaches: every socket is the channel's own. */
const NO_RELAYS = "1000000000";

async function withServer<T>(
  vars: Readonly<Record<string, string>>,
  fn: (server: Server) => Promise<T>,
): Promise<T> {
  const server = await startDirect({ ...VARS, ...vars });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

const statsOf = (server: Server, channel: string) =>
  api<BenchStats>(server, `/v1/channels/${channel}/bench-stats`);

type Work = Extra & { channel: ChannelWork };

/**
 * Starts counting what the channel object and the two processes spend;
 * `per` answers it per group stored since (at least one).
 */
async function meter(server: Server, channel: string): Promise<{ per: () => Promise<Work> }> {
  const before = await statsOf(server, channel);
  const used = usage();
  return {
    per: async () => {
      const spent = usage();
      const after = await statsOf(server, channel);
      const groups = Math.max(1, after.groups - before.groups);
      const each = (k: keyof BenchStats) => (after[k] - before[k]) / groups;
      const ops = after.relayOps - before.relayOps;
      const cpu = (k: keyof Usage) =>
        used && spent ? round(((spent[k] - used[k]) * 1000) / groups) : undefined;
      const server_cpu_ms = cpu("serverCpuS");
      const client_cpu_ms = cpu("clientCpuS");
      return {
        channel: {
          sends_per_group: round(each("pushSends") + each("relayOpSends")),
          ms_per_group: round(each("pushMs") + each("relayOpMs")),
          relay_ops_per_group: round(each("relayOps")),
          ms_per_relay_op: ops > 0 ? round((after.relayOpMs - before.relayOpMs) / ops) : 0,
        },
        ...(server_cpu_ms === undefined ? {} : { server_cpu_ms }),
        ...(client_cpu_ms === undefined ? {} : { client_cpu_ms }),
      };
    },
  };
}

/** The mean of each number of `works` (runs of one setting). */
function mean(works: readonly Work[]): Work {
  const avg = (get: (w: Work) => number | undefined) =>
    round(works.reduce((sum, w) => sum + (get(w) ?? 0), 0) / Math.max(1, works.length));
  return {
    channel: {
      sends_per_group: avg((w) => w.channel.sends_per_group),
      ms_per_group: avg((w) => w.channel.ms_per_group),
      relay_ops_per_group: avg((w) => w.channel.relay_ops_per_group),
      ms_per_relay_op: avg((w) => w.channel.ms_per_relay_op),
    },
    server_cpu_ms: avg((w) => w.server_cpu_ms),
    client_cpu_ms: avg((w) => w.client_cpu_ms),
  };
}

/** Pushes lost or doubled, loudly (none is the expected case). */
const wrong = (lost: number, doubled: number) =>
  (lost > 0 ? `; ${lost} pushes LOST` : "") + (doubled > 0 ? `; ${doubled} pushes DOUBLED` : "");

const workNote = (w: ChannelWork) =>
  `channel: ${w.sends_per_group} sends, ${w.ms_per_group} ms a group` +
  (w.relay_ops_per_group > 0 ? ` (${w.relay_ops_per_group} relay ops)` : "");

/** Coalescing on and off, `runs` runs of each, alternating (the machine's load drifts). */
export async function measureCoalescing(
  record: Recorder,
  options: { seconds: number; runs: number },
): Promise<void> {
  const WATCHERS = 1_000;
  const settings = [
    { op: "fanout_under_load", coalesce: "1" },
    { op: "fanout_under_load_uncoalesced", coalesce: "0" },
  ] as const;
  const pooled = settings.map(() => ({
    latencies: [] as number[],
    perSecond: [] as number[],
    works: [] as Work[],
  }));
  for (let run = 0; run < options.runs; run++) {
    for (const [k, { coalesce }] of settings.entries()) {
      // Relays off: coalescing is the channel's own pushes.
      await withServer({ PUSH_COALESCE: coalesce, RELAY_SOCKETS: NO_RELAYS }, async (server) => {
        let counting: Awaited<ReturnType<typeof meter>> | undefined;
        const load = await fanoutUnderLoad(server, "bench-load", {
          watchers: WATCHERS,
          writers: 20,
          seconds: options.seconds,
          paceMs: 100,
          ready: async () => {
            counting = await meter(server, "bench-load");
          },
        });
        const into = pooled[k];
        into?.latencies.push(...load.latencies);
        into?.perSecond.push(load.perSecond);
        if (counting) into?.works.push(await counting.per());
      });
    }
  }
  settings.forEach(({ op, coalesce }, k) => {
    const { latencies = [], perSecond = [], works = [] } = pooled[k] ?? {};
    const rate = Math.round(perSecond.reduce((a, b) => a + b, 0) / Math.max(1, perSecond.length));
    const work = mean(works);
    record(
      op,
      WATCHERS,
      latencies,
      null,
      `${WATCHERS} live, send → insert push while 20 sockets send (${rate} msg/s); coalescing ` +
        `${coalesce === "1" ? "on" : "off"}; ${workNote(work.channel)}; ${options.runs}×${options.seconds} s`,
      { per_s: rate, ...work },
    );
  });
}

/** Sockets paging at once beside an audience, and for how long. */
const READERS = 20;
const READ_SECONDS = 5;

/**
 * `READERS` more sockets of the same placement each page (50 messages at a
 * random position) as fast as answers come, for `READ_SECONDS`: a relayed
 * socket's page is an operation of its relay's queue, one at a time.
 */
async function pagesBeside(server: Server, channel: string): Promise<{ latencies: number[] }> {
  const { total } = await api<{ total: number }>(server, `/v1/channels/${channel}`);
  const latencies: number[] = [];
  const deadline = performance.now() + READ_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: READERS }, async (_, r) => {
      let answered = () => {};
      const socket = await openSocket(server, channel, `reader${r}`, (data) => {
        if (data.startsWith('{"type":"page"')) answered();
      });
      for (let n = 0; performance.now() < deadline; n++) {
        const page = new Promise<void>((resolve) => {
          answered = resolve;
        });
        const started = performance.now();
        const position = Math.floor(Math.random() * total);
        socket.send(
          JSON.stringify({
            type: "page",
            rid: `p${n}`,
            anchor: { position },
            before: 25,
            after: 24,
          }),
        );
        await page;
        latencies.push(performance.now() - started);
      }
      socket.close();
    }),
  );
  return { latencies };
}

/** The channel's own work per group at each audience, its sockets all its own, then all relayed. */
export async function measureChannelWork(
  record: Recorder,
  options: { counts: readonly number[]; rounds: number },
): Promise<void> {
  for (const [op, relaySockets] of [
    ["push_own", NO_RELAYS],
    ["push_relayed", "0"],
  ] as const) {
    await withServer({ RELAY_SOCKETS: relaySockets }, async (server) => {
      const channel = `bench-${op}`;
      const audience = new Audience(server, channel);
      try {
        for (const count of options.counts) {
          await audience.grow(count);
          await audience.rounds(3); // warm
          const counting = await meter(server, channel);
          const { latencies, lost, doubled } = await audience.rounds(options.rounds);
          const extra = await counting.per();
          const where = relaySockets === "0" ? "all on relays" : "all the channel's own";
          const lostNote = wrong(lost, doubled);
          record(
            op,
            count,
            latencies,
            null,
            `${count} live (${where}), HTTP insert → push; ${workNote(extra.channel)}${lostNote}`,
            extra,
          );
          const pages = await pagesBeside(server, channel);
          record(
            op === "push_own" ? "page_own" : "page_relayed",
            count,
            pages.latencies,
            null,
            `${READERS} sockets paging (${where}) beside ${count} live`,
            { per_s: Math.round(pages.latencies.length / READ_SECONDS) },
          );
        }
      } finally {
        audience.close();
      }
    });
  }
}

/** The soft limit on open files of this process (workerd inherits it). */
function openFilesLimit(): number {
  try {
    const limit = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
    return Number.isFinite(limit) ? limit : Number.POSITIVE_INFINITY; // "unlimited"
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Descriptors kept free in each process (a round's HTTP insert, the runtime's databases). */
const SPARE_FILES = 200;

/** Audience sizes to step through: doubling from 1,000 to 8,000, then 4,000 at a time, to `max`. */
export function steps(max: number): number[] {
  const out: number[] = [];
  for (let n = 1_000; n < max; n = n < 8_000 ? n * 2 : n + 4_000) out.push(n);
  out.push(max);
  return out;
}

/**
 * The most sockets the open-file limit allows, from what the client and
 * the runtime each hold now with `sockets` open, and why.
 */
function filesAllow(sockets: number, limit: number): { most: number; why: string } | undefined {
  const now = usage();
  if (!now || sockets === 0) return undefined;
  const allow = (held: number, who: string) => {
    const perSocket = Math.max(1, Math.round(held / sockets));
    return {
      most: sockets + Math.floor((limit - SPARE_FILES - held) / perSocket),
      why: `open files: ${who} holds ${perSocket} descriptor${perSocket > 1 ? "s" : ""} a socket, and ulimit -n is ${limit} here (the hard limit)`,
    };
  };
  const client = allow(now.clientFiles, "the client");
  const server = allow(now.serverFiles, "the runtime (workerd)");
  return client.most < server.most ? client : server;
}

interface Step {
  readonly count: number;
  readonly latencies: number[];
  readonly note: string;
  readonly extra: Extra;
}

/** insert → push at the audience's size now, with what the channel and the processes spent. */
async function step(server: Server, channel: string, audience: Audience, rounds: number) {
  const counting = await meter(server, channel);
  const { latencies, lost, doubled } = await audience.rounds(rounds);
  const extra = await counting.per();
  const stats = await api<{ sockets: number; relays: number }>(server, `/v1/channels/${channel}`);
  const held = usage();
  const note =
    `${stats.sockets} live, ${stats.relays} relays (default settings); ${workNote(extra.channel)}` +
    (held
      ? `; RSS client ${Math.round(held.clientRssMiB)} MiB, workerd ${Math.round(held.serverRssMiB)} MiB` +
        `; open files client ${held.clientFiles}, workerd ${held.serverFiles}`
      : "") +
    wrong(lost, doubled);
  return { step: { count: audience.size, latencies, note, extra }, lost };
}

/**
 * The most live sockets one channel reaches with the default relay
 * settings: insert → push at each step (`push_ramp`), the last one
 * (`push_ceiling`) with the limit that stopped it. The steps stop short of
 * the open-file limit (past it the runtime cannot take even the round's
 * HTTP insert), at the time budget, or where a socket cannot open.
 */
export async function measureCeiling(
  record: Recorder,
  options: { max: number; budgetS: number; rounds: number },
): Promise<void> {
  const files = openFilesLimit();
  const deadline = performance.now() + options.budgetS * 1000;
  let limit = `the ceiling asked (--max-sockets ${options.max})`;
  const done: Step[] = [];
  await withServer({}, async (server) => {
    const channel = "bench-ceiling";
    const audience = new Audience(server, channel);
    try {
      let plan = steps(options.max);
      while (plan.length > 0) {
        const count = plan.shift() as number;
        if (performance.now() > deadline) {
          limit = `the time budget (--ceiling-seconds ${options.budgetS})`;
          break;
        }
        try {
          await audience.grow(count);
        } catch (err) {
          limit = `a socket that could not open at ${audience.size}: ${(err as Error).message}`;
        }
        const measured = await step(server, channel, audience, options.rounds);
        done.push(measured.step);
        if (measured.lost > 0) limit = `pushes that never arrived at ${audience.size}`;
        if (audience.size < count || measured.lost > 0) break;
        // The next steps end where the open-file limit does.
        const byFiles = filesAllow(audience.size, files);
        if (byFiles && byFiles.most < options.max && plan.some((n) => n >= byFiles.most)) {
          plan =
            byFiles.most > audience.size
              ? [...plan.filter((n) => n < byFiles.most), byFiles.most]
              : [];
          limit = byFiles.why;
        }
      }
    } catch (err) {
      limit = `an error at ${audience.size}: ${(err as Error).message}`;
    } finally {
      audience.close();
    }
  });
  done.forEach(({ count, latencies, note, extra }, k) => {
    const last = k === done.length - 1;
    record(
      last ? "push_ceiling" : "push_ramp",
      count,
      latencies,
      null,
      last ? `the most reached here; limit: ${limit}; ${note}` : note,
      extra,
    );
  });
}
