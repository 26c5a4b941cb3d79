/**
 * The model-based chaos scenario of the client library (issue 11, item 4),
 * shared by the e2e test (a real `wrangler dev`, restarted) and the worker
 * test (workerd, objects evicted): several tabs of several users hold
 * `ChannelWindow`s at the bottom (live), the middle and the top while random
 * batches land (on-time, late, late chunks of hundreds; over HTTP and over
 * the tabs' sockets), tabs scroll and jump, sockets drop (and stay down long
 * enough to miss more than a resume replays), and the server faults.
 *
 * At every quiet point (every tab connected, resynced, unfrozen and at the
 * channel's `seq`, then one round trip on its socket so the last pushes are
 * in), each window must equal a fresh HTTP page over the same range (ids,
 * seqs, late flags, `start`), and the test's own sorted model of every key
 * sent; `total` must be the channel's; each badge must be the user's
 * `lateUnread` as a separate socket of that user reads it with `late.list`
 * (a pure read), so both tabs of one user agree.
 *
 * Waits are on state (seq, connected, frozen), never on time; the only
 * clocks are the generous deadlines after which a wait fails with the state
 * it saw.
 */
import { ChannelWindow, ScrollbackClient, ScrollbackError } from "../../src/client/index.ts";
import { Link, type SocketCtor } from "./chaos-link.ts";
import { countBelow } from "./keys.ts";
import { mulberry32 } from "./random.ts";
import type { Key, PageBody } from "./wire.ts";

export type { SocketCtor };

export interface ChaosTarget {
  /** Printed with the counts. */
  readonly label: string;
  /** The base URL the clients connect to. */
  readonly url: string;
  /** One HTTP call: its status and JSON body. */
  http(
    path: string,
    init?: { method?: string; body?: unknown },
  ): Promise<{ status: number; body: unknown }>;
  /** The real WebSocket constructor; every tab's sockets wrap it. */
  readonly WebSocket: SocketCtor;
  /** Server faults (a restart, an eviction), taken in turn at the fault steps. */
  readonly faults: readonly { readonly name: string; run(): Promise<void> }[];
}

export interface ChaosOptions {
  readonly seed: number;
  readonly channel: string;
  /** Messages seeded over HTTP before the tabs open. */
  readonly history: number;
  readonly steps: number;
  /** A fault runs after every this many steps (none when 0 or no faults). */
  readonly faultEvery: number;
  /** Steps between full walks of the channel against the model. */
  readonly walkEvery: number;
  /** How long one quiet point may take to come, in ms. */
  readonly quietTimeoutMs: number;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly steps: number;
  readonly quietPoints: number;
  readonly checks: number;
  /** Message positions compared (window against page and model, and full walks). */
  readonly compared: number;
  readonly total: number;
  readonly drops: number;
  readonly offline: number;
  readonly resyncs: { readonly complete: number; readonly incomplete: number };
  readonly faults: number;
  readonly interrupted: number;
}

type Place = "bottom" | "middle" | "top";
/** Two tabs of alice; bob, carol and dave with one each. */
const TABS: readonly { name: string; user: string; place: Place }[] = [
  { name: "alice-1", user: "alice", place: "bottom" },
  { name: "alice-2", user: "alice", place: "middle" },
  { name: "bob", user: "bob", place: "top" },
  { name: "carol", user: "carol", place: "middle" },
  { name: "dave", user: "dave", place: "bottom" },
];
/** Rows a tab shows on screen. */
const SCREEN = 40;
/** HTTP page side (docs/protocol.md's largest `after`). */
const MAX_SIDE = 200;
/** More arrivals than one resume replays (docs/protocol.md: 1,000). */
const BEYOND_RESUME = 1_001;
const T0 = 1_600_000_000_000;
const MINUTE = 60_000;

interface Draft {
  id: string;
  ts: number;
  author: string;
  text: string;
}

/** Every key the server acknowledged, in key order: where each message must be. */
class Model {
  readonly keys: Key[] = [];
  add(batch: readonly Key[]): void {
    for (const k of batch) this.keys.splice(countBelow(this.keys, k), 0, { ts: k.ts, id: k.id });
  }
  at(p: number): Key {
    const k = this.keys[Math.max(0, Math.min(this.keys.length - 1, p))];
    if (!k) throw new Error("the model is empty");
    return k;
  }
}

interface Tab {
  readonly name: string;
  readonly user: string;
  readonly place: Place;
  readonly link: Link;
  readonly client: ScrollbackClient;
  readonly list: ChannelWindow;
  connected: boolean;
  hellos: number;
  /** A reconnect's hello came and its resync has not. */
  resyncDue: boolean;
  readonly errors: string[];
  /** Undoes a drop armed on the tab's next insert. */
  disarm: (() => void) | undefined;
}

export class ChaosFailure extends Error {}

export async function runChaos(target: ChaosTarget, options: ChaosOptions): Promise<ChaosReport> {
  const random = mulberry32(options.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const log = options.log ?? (() => {});
  const ch = options.channel;
  const model = new Model();
  let step = 0;
  let clock = T0;
  let nextId = 0;
  let checks = 0;
  let compared = 0;
  let quietPoints = 0;
  let drops = 0;
  let offline = 0;
  let faults = 0;
  let interrupted = 0;
  const resyncs = { complete: 0, incomplete: 0 };
  /** Socket sends whose reply was lost with the socket: stored or not, found out at the quiet point. */
  const uncertain: Draft[][] = [];

  let suspect: Tab | undefined;
  const fail = (what: string): never => {
    const trace = suspect
      ? `\n${suspect.name}'s last frames:\n${suspect.link.trace.join("\n")}`
      : "";
    throw new ChaosFailure(
      `chaos[${target.label}] seed ${options.seed}, step ${step}: ${what}${trace}`,
    );
  };
  const check = (ok: boolean, what: () => string): void => {
    checks++;
    if (!ok) fail(what());
  };

  async function http<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
    const res = await target.http(path, init);
    if (res.status !== 200) {
      fail(`${init?.method ?? "GET"} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body as T;
  }
  const stats = () => http<{ total: number; seq: number }>(`/v1/channels/${ch}`);
  const httpPage = (query: string) => http<PageBody>(`/v1/channels/${ch}/messages?${query}`);

  async function post(drafts: readonly Draft[]): Promise<void> {
    for (let i = 0; i < drafts.length; i += 10_000) {
      const batch = drafts.slice(i, i + 10_000);
      const reply = await http<{ inserted: number }>(`/v1/channels/${ch}/messages`, {
        method: "POST",
        body: { messages: batch },
      });
      check(reply.inserted === batch.length, () => `POST stored ${reply.inserted}/${batch.length}`);
      model.add(batch);
    }
  }

  async function sendOnSocket(tab: Tab, drafts: readonly Draft[]): Promise<void> {
    for (let i = 0; i < drafts.length; i += 999) {
      const batch = drafts.slice(i, i + 999).map(({ author: _author, ...rest }) => rest);
      try {
        const reply = await tab.client.send(batch);
        check(
          reply.results.every((r) => !r.duplicate),
          () => `${tab.name}: a fresh id came back as a duplicate`,
        );
        model.add(batch);
      } catch (err) {
        if (!interruption(err)) throw err;
        interrupted++;
        uncertain.push(drafts.slice(i, i + 999));
      }
    }
  }

  // ── Drafts ──────────────────────────────────────────────────────────────
  const draft = (ts: number, tag: string): Draft => ({
    id: `${tag}${step}-${nextId++}`,
    ts,
    author: "peer",
    text: `${tag} at step ${step}`,
  });
  const onTime = (n: number): Draft[] =>
    Array.from({ length: n }, () => {
      clock += int(1, 5_000);
      return draft(clock, "o");
    });
  /** A position late arrivals aim at: inside a window, just above one, or anywhere. */
  function aim(tabs: readonly Tab[]): number {
    const total = model.keys.length;
    const roll = random();
    const w = pick(tabs).list.window;
    if (roll < 0.45 && w.messages.length > 0) return int(w.start, w.end - 1);
    if (roll < 0.65 && w.messages.length > 0) return Math.max(0, w.start - int(1, 80));
    if (roll < 0.7) return 0;
    return int(0, total - 1);
  }
  /** `n` late arrivals around position `p` (before the oldest when p is 0 half the time). */
  function late(n: number, p: number, tag: string): Draft[] {
    const at = model.at(p).ts;
    const spread = p === 0 && random() < 0.5 ? [-MINUTE * 10, -1] : [-MINUTE / 2, MINUTE / 2];
    return Array.from({ length: n }, () =>
      draft(at + int(spread[0] as number, spread[1] as number), tag),
    );
  }

  // ── Tabs ────────────────────────────────────────────────────────────────
  const tabs: Tab[] = TABS.map(({ name, user, place }) => {
    const link = new Link(target.WebSocket);
    const client = new ScrollbackClient({
      url: target.url,
      channel: ch,
      user,
      timeoutMs: 60_000,
      backoff: { initialMs: 20, maxMs: 400 },
      WebSocket: link.ctor,
    });
    const tab: Tab = {
      name,
      user,
      place,
      link,
      client,
      list: new ChannelWindow(client),
      connected: false,
      hellos: 0,
      resyncDue: false,
      errors: [],
      disarm: undefined,
    };
    client.on("hello", () => {
      tab.connected = true;
      if (tab.hellos++ > 0) tab.resyncDue = true;
    });
    client.on("disconnect", () => {
      tab.connected = false;
    });
    client.on("resync", (event) => {
      tab.resyncDue = false;
      if (event.complete) resyncs.complete++;
      else resyncs.incomplete++;
    });
    client.on("error", (err) => {
      tab.errors.push(`${err.code}: ${err.message}`);
    });
    return tab;
  });

  const drop = (tab: Tab): void => {
    if (tab.link.drop()) drops++;
  };
  /** Drops the tab's socket when its next insert comes: the batch's status is lost with it. */
  const dropOnInsert = (tab: Tab): void => {
    tab.disarm?.();
    const off = tab.client.on("insert", () => {
      off();
      tab.disarm = undefined;
      queueMicrotask(() => drop(tab));
    });
    tab.disarm = off;
  };

  /** Runs `fn` on a socket of `user`'s own, opened for it and closed after. */
  async function onAnotherSocket<T>(user: string, fn: (c: ScrollbackClient) => Promise<T>) {
    const other = new ScrollbackClient({
      url: target.url,
      channel: ch,
      user,
      timeoutMs: 60_000,
      WebSocket: target.WebSocket,
    });
    try {
      await other.connect();
      return await fn(other);
    } finally {
      other.close();
    }
  }

  /** What a user reads on a socket of its own: `late.list`'s `unread`, changing nothing. */
  const badge = (user: string): Promise<number> =>
    onAnotherSocket(user, async (c) => (await c.lateList(1)).unread);

  const ackFromAnotherDevice = (user: string): Promise<void> =>
    onAnotherSocket(user, async (c) => {
      await c.lateAck();
    });

  /** A scroll or jump as a frontend makes them; a dropped socket may cut it short. */
  async function scroll(tab: Tab): Promise<void> {
    const w = tab.list.window;
    const total = Math.max(1, w.total);
    const roll = random();
    try {
      if (roll < 0.3) {
        // Back to where this tab lives.
        if (tab.place === "bottom") await tab.list.open();
        else if (tab.place === "top") await tab.list.show(0, SCREEN);
        else {
          const p = Math.floor(total / 2) + int(-300, 300);
          await tab.list.show(Math.max(0, p), Math.max(0, p) + SCREEN);
        }
      } else if (roll < 0.55) {
        // A short scroll: merges a page at one end of the window.
        const from = Math.max(0, Math.min(total - SCREEN, w.start + int(-150, 150)));
        await tab.list.show(from, from + SCREEN);
      } else if (roll < 0.7) {
        const from = int(0, Math.max(0, total - SCREEN));
        await tab.list.show(from, from + SCREEN);
      } else if (roll < 0.8) {
        await tab.list.late({ before: 30, after: 30 });
      } else if (roll < 0.9) {
        await tab.list.jump({ ts: int(T0, clock) }, { before: 30, after: 30 });
      } else {
        await ackFromAnotherDevice(tab.user);
      }
    } catch (err) {
      if (!interruption(err)) throw err;
      interrupted++;
    }
  }

  // ── Quiet points ────────────────────────────────────────────────────────
  const describeTab = (tab: Tab): string => {
    const w = tab.list.window;
    return `${tab.name}{connected ${tab.connected}, resyncDue ${tab.resyncDue}, frozen ${w.frozen}, seq ${w.seq}, client seq ${tab.client.seq}, start ${w.start}, held ${w.messages.length}, total ${w.total}, live ${w.live}, badge ${w.lateUnread}${tab.errors.length ? `, errors ${tab.errors.slice(-3).join(" | ")}` : ""}}`;
  };

  async function waitUntil(ok: () => boolean, what: () => string): Promise<void> {
    const deadline = Date.now() + options.quietTimeoutMs;
    while (!ok()) {
      if (Date.now() > deadline)
        fail(`no quiet point within ${options.quietTimeoutMs} ms: ${what()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function settleUncertain(): Promise<void> {
    for (const batch of uncertain.splice(0)) {
      const first = batch[0] as Draft;
      const res = await target.http(
        `/v1/channels/${ch}/messages?anchor=id:${encodeURIComponent(first.id)}&before=0&after=0`,
      );
      if (res.status === 200) model.add(batch);
      else if (res.status !== 404) fail(`reading back ${first.id}: ${res.status}`);
    }
  }

  /** Walks the whole channel and compares each position with the model. */
  async function walk(seq: number): Promise<void> {
    for (let p = 0; p < model.keys.length; p += MAX_SIDE + 1) {
      const page = await httpPage(`anchor=pos:${p}&before=0&after=${MAX_SIDE}`);
      check(page.seq === seq, () => `the channel moved during a walk: ${page.seq} ≠ ${seq}`);
      page.messages.forEach((m, i) => {
        compared++;
        const k = model.keys[p + i];
        if (m.id !== k?.id) fail(`walk: position ${p + i} holds ${m.id}, the model ${k?.id}`);
      });
    }
  }

  async function quiet(full: boolean): Promise<void> {
    for (const tab of tabs) tab.disarm?.();
    await settleUncertain();
    const s = await stats();
    check(
      s.total === model.keys.length,
      () => `the channel holds ${s.total} messages, ${model.keys.length} were stored`,
    );
    const settled = (tab: Tab) =>
      tab.connected && !tab.resyncDue && !tab.list.window.frozen && tab.list.window.seq === s.seq;
    const waiting = () =>
      `channel seq ${s.seq}; ${tabs
        .filter((t) => !settled(t))
        .map(describeTab)
        .join("; ")}`;
    await waitUntil(() => tabs.every(settled), waiting);
    // One round trip per socket: every push sent before it (the status of a
    // batch whose insert came, a badge another tab changed) is applied now.
    for (const tab of tabs) await tab.client.page({ anchor: "newest", before: 0, after: 0 });
    await waitUntil(() => tabs.every(settled), waiting);

    const badges = new Map<string, number>();
    for (const user of new Set(tabs.map((t) => t.user))) badges.set(user, await badge(user));
    for (const tab of tabs) {
      suspect = tab;
      const w = tab.list.window;
      const state = () => describeTab(tab);
      check(w.messages.length > 0, () => `${tab.name} holds nothing: ${state()}`);
      check(w.total === s.total, () => `${tab.name}: total ${w.total} ≠ ${s.total}: ${state()}`);
      check(
        w.lateUnread === badges.get(tab.user),
        () => `${tab.name}: badge ${w.lateUnread}, the user's lateUnread ${badges.get(tab.user)}`,
      );
      if (w.live) check(w.end === s.total, () => `${tab.name} is live but ends at ${w.end}`);
      // The same range, read fresh over HTTP.
      const fresh: PageBody["messages"] = [];
      for (let p = w.start; p < w.end; p += MAX_SIDE + 1) {
        const after = Math.min(MAX_SIDE, w.end - p - 1);
        const page = await httpPage(`anchor=pos:${p}&before=0&after=${after}`);
        check(page.seq === s.seq, () => `the channel moved during a check`);
        check(page.start === p, () => `HTTP page at ${p} started at ${page.start}`);
        fresh.push(...page.messages);
      }
      check(
        fresh.length === w.messages.length,
        () =>
          `${tab.name}: ${w.messages.length} held from ${w.start}, the server has ${fresh.length} there`,
      );
      w.messages.forEach((m, i) => {
        compared++;
        const f = fresh[i];
        const k = model.keys[w.start + i];
        if (m.id !== f?.id || m.seq !== f.seq || m.late !== f.late) {
          fail(
            `${tab.name}: position ${w.start + i} (index ${i}) holds ${m.id} (seq ${m.seq}, late ${m.late}), a fresh page ${f?.id} (seq ${f?.seq}, late ${f?.late}); ${state()}; window ids ${around(w.messages, i)}; page ids ${around(fresh, i)}`,
          );
        }
        if (m.id !== k?.id)
          fail(`${tab.name}: position ${w.start + i} holds ${m.id}, the model ${k?.id}`);
      });
      checks++;
    }
    suspect = undefined;
    // Both tabs of a user show one badge.
    for (const user of badges.keys()) {
      const shown = tabs.filter((t) => t.user === user).map((t) => t.list.window.lateUnread);
      if (shown.length > 1) check(new Set(shown).size === 1, () => `${user}'s tabs show ${shown}`);
    }
    if (full) await walk(s.seq);
    quietPoints++;
  }

  // ── The scenario ────────────────────────────────────────────────────────
  const history = Array.from({ length: options.history }, (_, i) => draft(T0 + i * MINUTE, "h"));
  clock = T0 + options.history * MINUTE;
  await post(history);
  for (const tab of tabs) {
    await tab.client.connect();
    await tab.list.open();
  }
  for (const tab of tabs) {
    if (tab.place === "top") await tab.list.show(0, SCREEN);
    if (tab.place === "middle") {
      const p = Math.floor(options.history / 2) + int(-500, 500);
      await tab.list.show(p, p + SCREEN);
    }
  }
  await quiet(true);
  log(
    `chaos[${target.label}] seed ${options.seed}: ${options.history} seeded, ${tabs.length} tabs placed`,
  );

  for (step = 1; step <= options.steps; step++) {
    const work: Promise<void>[] = [];
    const writes = int(1, 3);
    for (let n = 0; n < writes; n++) {
      const roll = random();
      const drafts =
        roll < 0.35
          ? onTime(int(1, 30))
          : roll < 0.75
            ? late(int(1, 8), aim(tabs), "l")
            : late(int(100, 700), aim(tabs), "k");
      if (random() < 0.5) {
        work.push(sendOnSocket(pick(tabs), drafts));
      } else {
        const posted = post(drafts);
        // Sometimes a socket drops right as the batch is stored: its pushes are in flight.
        const victim = pick(tabs);
        work.push(random() < 0.25 ? posted.then(() => drop(victim)) : posted);
      }
    }
    const scrolls = int(0, 2);
    for (let n = 0; n < scrolls; n++) work.push(scroll(pick(tabs)));
    for (const tab of tabs) {
      const roll = random();
      if (roll < 0.08) drop(tab);
      else if (roll < 0.16) dropOnInsert(tab);
    }
    await Promise.all(work);

    // Now and then a tab goes offline while more than a resume replays lands.
    if (random() < 0.12) {
      const tab = pick(tabs);
      tab.link.online = false;
      drop(tab);
      offline++;
      const missed = BEYOND_RESUME + int(0, 300);
      const half = Math.floor(missed / 2);
      await post(onTime(half));
      await post(late(missed - half, aim(tabs), "k"));
      tab.link.online = true;
    }

    if (options.faultEvery > 0 && target.faults.length > 0 && step % options.faultEvery === 0) {
      const fault = target.faults[faults++ % target.faults.length];
      if (!fault) throw new Error("no fault");
      // Pushes of this batch are in flight when the fault hits.
      await post(onTime(int(1, 20)));
      log(`chaos[${target.label}] step ${step}: ${fault.name}`);
      await fault.run();
      // Arrivals before the tabs are back: each resume must replay them.
      await post(late(int(1, 50), aim(tabs), "l"));
    }

    await quiet(step % options.walkEvery === 0 || step === options.steps);
  }

  for (const tab of tabs) {
    tab.list.dispose();
    tab.client.close();
  }
  return {
    seed: options.seed,
    steps: options.steps,
    quietPoints,
    checks,
    compared,
    total: model.keys.length,
    drops,
    offline,
    resyncs,
    faults,
    interrupted,
  };
}

/** A request cut short by a dropped socket or a fault: expected under chaos. */
function interruption(err: unknown): boolean {
  return err instanceof ScrollbackError && (err.code === "disconnected" || err.code === "timeout");
}

function around(messages: readonly { id: string }[], i: number): string {
  return messages
    .slice(Math.max(0, i - 2), i + 3)
    .map((m) => m.id)
    .join(",");
}

/** The line a chaos test prints: seed, steps and the count of checks. */
export function summary(label: string, r: ChaosReport): string {
  return `chaos[${label}]: ${r.checks} checks (${r.compared} message positions compared) at ${r.quietPoints} quiet points; seed ${r.seed}, ${r.steps} steps, ${r.total} messages; ${r.drops} socket drops, ${r.offline} offline spells, ${r.resyncs.complete} complete + ${r.resyncs.incomplete} incomplete resyncs, ${r.faults} faults, ${r.interrupted} requests cut short`;
}
