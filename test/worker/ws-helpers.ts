/**
 * Helpers for the WebSocket tests: a client that queues frames, the frame
 * shapes of PROTOCOL.md written out independently of src/protocol, and a model
 * of a channel (sorted keys, late arrivals, per-user seen sets, per-socket
 * views) that every push is compared with. Nothing here imports src/: the
 * tests check the implementation against the contract, not against itself.
 */
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { mulberry32 } from "../support/random.ts";
import type { Key, PageBody, WireMessage } from "../support/wire.ts";

// ── Frames, as PROTOCOL.md writes them ─────────────────────────────────────

export type { Key, PageBody, WireMessage };

export interface SendResult {
  id: string;
  seq: number;
  duplicate: boolean;
}

export interface LatestItem {
  id: string;
  ts: number;
  position: number;
}

export interface LateItem extends LatestItem {
  seq: number;
}

export type Frame =
  | {
      type: "hello";
      protocol: number;
      channel: string;
      user: string;
      total: number;
      lateUnread: number;
      newest: Key | null;
      minor?: number;
      seq: number;
    }
  | ({ type: "page"; rid?: string } & PageBody)
  | { type: "view"; rid?: string; lateUnread: number; seq: number }
  | { type: "sent"; rid?: string; results: SendResult[]; total: number; seq: number }
  | { type: "late.list"; rid?: string; unread: number; items: LateItem[] }
  | { type: "insert"; messages: WireMessage[]; total: number; seq: number }
  | {
      type: "status";
      total: number;
      lateUnread: number;
      shifted: number;
      latest?: LatestItem[];
      seq: number;
    }
  | {
      type: "resumed";
      rid?: string;
      complete: boolean;
      seq: number;
      total: number;
      lateUnread: number;
      shifted: number;
      messages: WireMessage[];
    }
  | { type: "error"; rid?: string; code: string; message: string }
  | { type: "pong"; rid?: string };

export type FrameType = Frame["type"];
export type FrameOf<T extends FrameType> = Extract<Frame, { type: T }>;

/** A message as a client submits it (fields may be left to the server). */
export interface NewMessage {
  id?: string;
  ts?: number;
  author?: string;
  text: string;
}

/** A message with every field chosen by the test. */
export interface Draft {
  id: string;
  ts: number;
  author: string;
  text: string;
}

export type Anchor = "newest" | "oldest" | { id: string } | { position: number } | { ts: number };

// ── Transport ──────────────────────────────────────────────────────────────

/** How long a frame the test waits for may take before the test fails. */
export const FRAME_TIMEOUT_MS = 15_000;

/** The worker under test (the plugin's loopback to src/worker.ts's default export). */
export const worker = (exports as unknown as { default: Fetcher }).default;

const open = new Set<Client>();

/** A test's WebSocket client: frames are parsed and queued as they arrive. */
export class Client {
  readonly channel: string;
  readonly user: string;
  readonly ws: WebSocket;
  /** Set once the server closes the socket. */
  closed: { code: number; reason: string } | undefined;
  readonly #queue: Frame[] = [];
  #wake: (() => void) | undefined;
  #barriers = 0;

  constructor(channel: string, user: string, ws: WebSocket) {
    this.channel = channel;
    this.user = user;
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      const data = event.data;
      // A binary or non-JSON frame from the server is itself a failure: keep it visible.
      const frame =
        typeof data === "string"
          ? (JSON.parse(data) as Frame)
          : ({ type: "error", code: "test", message: "binary frame from server" } as Frame);
      this.#queue.push(frame);
      this.#wake?.();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake?.();
    });
    ws.accept();
    open.add(this);
  }

  /** Opens a socket as `user` on `channel` (no hello awaited). */
  static async open(channel: string, user: string): Promise<Client> {
    const res = await worker.fetch(
      new Request(`http://x/v1/channels/${channel}/ws?user=${user}`, {
        headers: { Upgrade: "websocket" },
      }),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("the upgrade answered no WebSocket");
    return new Client(channel, user, ws);
  }

  /** Sends a frame: an object is serialized, a string or bytes go as they are. */
  send(frame: object | string | ArrayBuffer | ArrayBufferView): void {
    if (typeof frame === "string" || frame instanceof ArrayBuffer || ArrayBuffer.isView(frame)) {
      this.ws.send(frame);
    } else {
      this.ws.send(JSON.stringify(frame));
    }
  }

  /** The next frame; with `type`, fails unless the next frame has that type. */
  async next<T extends FrameType>(type?: T, timeoutMs = FRAME_TIMEOUT_MS): Promise<FrameOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#queue.shift();
      if (frame) {
        if (type !== undefined && frame.type !== type) {
          throw new Error(
            `${this.user}@${this.channel}: expected a ${type} frame, got ${JSON.stringify(frame).slice(0, 500)}`,
          );
        }
        return frame as FrameOf<T>;
      }
      if (this.closed) {
        throw new Error(
          `${this.user}@${this.channel}: closed (${this.closed.code} ${this.closed.reason}) while waiting for ${type ?? "a frame"}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.user}@${this.channel}: no ${type ?? "frame"} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /**
   * Every frame that arrives before the pong to a ping sent now. The object
   * handles a socket's frames in order, so this is everything the frames sent
   * before caused on this socket (and proves the socket is still open).
   * The ping carries a rid so the runtime's auto-response does not answer it.
   */
  async drain(timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame[]> {
    const rid = `barrier-${++this.#barriers}`;
    this.send({ type: "ping", rid });
    const frames: Frame[] = [];
    for (;;) {
      const frame = await this.next(undefined, timeoutMs);
      if (frame.type === "pong" && frame.rid === rid) return frames;
      frames.push(frame);
    }
  }

  /**
   * Sends `frame` with `rid` and returns its one reply (the frame carrying that
   * rid) and everything else that arrived before the barrier after it.
   */
  async call(
    frame: Record<string, unknown>,
    rid = `r${Math.random().toString(36).slice(2, 10)}`,
  ): Promise<{ reply: Frame; others: Frame[] }> {
    this.send({ ...frame, rid });
    const frames = await this.drain();
    const replies = frames.filter((f) => "rid" in f && f.rid === rid);
    expect(replies, `one reply to ${String(frame.type)} ${rid}`).toHaveLength(1);
    return { reply: replies[0] as Frame, others: frames.filter((f) => !replies.includes(f)) };
  }

  close(): void {
    open.delete(this);
    try {
      this.ws.close(1000, "test done");
    } catch {
      // Already closed.
    }
  }
}

/** Closes every socket the tests opened (afterEach). */
export function closeAll(): void {
  for (const client of [...open]) client.close();
}

/** POSTs a batch over HTTP and returns the status and the parsed body. */
export async function postMessages(
  channel: string,
  messages: readonly NewMessage[],
): Promise<{ status: number; body: unknown }> {
  const res = await worker.fetch(
    new Request(`http://x/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages }),
    }),
  );
  return { status: res.status, body: await res.json() };
}

/** GET /v1/channels/{ch}: `{ channel, total, lateTotal, oldest, newest }`. */
export async function stats(channel: string): Promise<{ total: number; lateTotal: number }> {
  const res = await worker.fetch(new Request(`http://x/v1/channels/${channel}`));
  expect(res.status).toBe(200);
  return (await res.json()) as { total: number; lateTotal: number };
}

/** Every stored message in key order, paged over HTTP 201 at a time. */
export async function allMessages(channel: string): Promise<WireMessage[]> {
  const out: WireMessage[] = [];
  for (;;) {
    const res = await worker.fetch(
      new Request(
        `http://x/v1/channels/${channel}/messages?anchor=pos:${out.length}&before=0&after=200`,
      ),
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as PageBody;
    if (page.messages.length === 0 || page.start !== out.length) {
      if (page.total === 0) return out;
      expect(page.start).toBe(out.length);
    }
    out.push(...page.messages);
    if (!page.hasNewer) return out;
  }
}

// ── The model ──────────────────────────────────────────────────────────────

/** Key order of PROTOCOL.md: ts, then id by UTF-16 code unit (JavaScript's `<`). */
export function compareKeys(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

export const keyOf = (m: Key): Key => ({ ts: m.ts, id: m.id });

/** A message the model holds. */
export interface Stored extends Draft {
  readonly seq: number;
  readonly late: boolean;
}

interface ReaderModel {
  /** How many late messages had arrived at the user's first connection. */
  readonly from: number;
  readonly seen: Set<string>;
}

/** What a socket holds: PROTOCOL.md's view, plus the empty start on an empty channel. */
export interface View {
  first: Key | null;
  last: Key | null;
  live: boolean;
  /** Connected to an empty channel: every message is after the view. */
  empty?: boolean;
}

/** The view a socket starts with: live, holding just the newest message. */
export function initialView(newest: Key | null): View {
  return newest
    ? { first: newest, last: newest, live: true }
    : { first: null, last: null, live: true, empty: true };
}

function inside(view: View, key: Key): boolean {
  if (view.empty) return false;
  if (view.first && compareKeys(key, view.first) < 0) return false;
  if (view.last && compareKeys(key, view.last) > 0) return false;
  return true;
}

/** A socket as the model sees it: its user and its view. */
export interface SocketModel {
  readonly user: string;
  view: View;
}

/** A channel as PROTOCOL.md describes it, kept by the test. */
export class ChannelModel {
  /** Every message, ascending by key. */
  readonly sorted: Stored[] = [];
  readonly byId = new Map<string, Stored>();
  /** Late messages in arrival order. */
  readonly lateArrivals: Stored[] = [];
  readonly #readers = new Map<string, ReaderModel>();
  #seq = 0;

  get total(): number {
    return this.sorted.length;
  }

  /** The channel's seq watermark: the latest arrival's seq. */
  get seq(): number {
    return this.#seq;
  }

  get newest(): Key | null {
    const last = this.sorted.at(-1);
    return last ? keyOf(last) : null;
  }

  /** Index of the first message whose key is ≥ `key`. */
  lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sorted[mid] as Stored, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  position(id: string): number {
    const m = this.byId.get(id);
    if (!m) throw new Error(`the model has no ${id}`);
    return this.lowerBound(m);
  }

  /** Stores a batch in arrival order: repeated ids are duplicates. */
  store(drafts: readonly Draft[]): { results: SendResult[]; stored: Stored[] } {
    const results: SendResult[] = [];
    const stored: Stored[] = [];
    for (const d of drafts) {
      const existing = this.byId.get(d.id);
      if (existing) {
        results.push({ id: d.id, seq: existing.seq, duplicate: true });
        continue;
      }
      const newest = this.newest;
      const m: Stored = {
        ...d,
        seq: ++this.#seq,
        late: newest !== null && compareKeys(newest, d) > 0,
      };
      this.sorted.splice(this.lowerBound(m), 0, m);
      this.byId.set(m.id, m);
      if (m.late) this.lateArrivals.push(m);
      results.push({ id: m.id, seq: m.seq, duplicate: false });
      stored.push(m);
    }
    return { results, stored };
  }

  /** The user's first connection starts their late count (later ones do nothing). */
  connect(user: string): void {
    if (!this.#readers.has(user)) {
      this.#readers.set(user, { from: this.lateArrivals.length, seen: new Set() });
    }
  }

  #reader(user: string): ReaderModel {
    const r = this.#readers.get(user);
    if (!r) throw new Error(`${user} never connected`);
    return r;
  }

  /** The user's unread late messages, oldest arrival first. */
  unreadLate(user: string): Stored[] {
    const r = this.#reader(user);
    return this.lateArrivals.slice(r.from).filter((m) => !r.seen.has(m.id));
  }

  unread(user: string): number {
    return this.unreadLate(user).length;
  }

  isUnread(user: string, m: Stored): boolean {
    if (!m.late) return false;
    const r = this.#reader(user);
    return this.lateArrivals.indexOf(m) >= r.from && !r.seen.has(m.id);
  }

  see(user: string, messages: Iterable<Stored>): void {
    const r = this.#reader(user);
    for (const m of messages) if (m.late) r.seen.add(m.id);
  }

  /** A declared view: every late message in [first, last] is seen. */
  seeRange(user: string, first: Key | null, last: Key | null): void {
    this.see(
      user,
      this.sorted.filter(
        (m) =>
          (!first || compareKeys(m, first) >= 0) && (!last || compareKeys(m, last) <= 0) && m.late,
      ),
    );
  }

  ack(user: string): void {
    this.see(user, this.lateArrivals);
  }

  /** The wire shape of a message, optionally with its position or unread flag. */
  wire(m: Stored, extra: { position?: number; unread?: true } = {}): WireMessage {
    return {
      id: m.id,
      ts: m.ts,
      author: m.author,
      text: m.text,
      seq: m.seq,
      late: m.late,
      ...extra,
    };
  }

  /** The page PROTOCOL.md prescribes, or "not_found" for an unknown id. */
  page(anchor: Anchor, before = 25, after = 25, user?: string): PageBody | "not_found" {
    const total = this.total;
    if (typeof anchor === "object" && "id" in anchor && !this.byId.has(anchor.id)) {
      return "not_found";
    }
    if (total === 0) {
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq: this.#seq };
    }
    let p: number;
    if (anchor === "newest") p = total - 1;
    else if (anchor === "oldest") p = 0;
    else if ("id" in anchor) p = this.position(anchor.id);
    else if ("position" in anchor) p = Math.min(Math.max(anchor.position, 0), total - 1);
    else {
      const i = this.sorted.findIndex((m) => m.ts >= anchor.ts);
      p = i < 0 ? total - 1 : i;
    }
    const start = Math.max(0, p - before);
    const end = Math.min(total, p + after + 1);
    const messages = this.sorted
      .slice(start, end)
      .map((m) =>
        user !== undefined && this.isUnread(user, m)
          ? this.wire(m, { unread: true })
          : this.wire(m),
      );
    return {
      messages,
      start,
      total,
      anchorIndex: p - start,
      hasOlder: start > 0,
      hasNewer: end < total,
      seq: this.#seq,
    };
  }

  /**
   * Protocol 1.1: after a `view`, `resume` or `late.ack` by `origin` that
   * changed its user's count from `before`, each of that user's other sockets
   * gets a `status` with the new count.
   */
  badgeChanged(
    origin: SocketModel,
    sockets: readonly SocketModel[],
    before: number,
  ): Map<SocketModel, Frame> {
    const out = new Map<SocketModel, Frame>();
    const lateUnread = this.unread(origin.user);
    if (lateUnread === before) return out;
    for (const s of sockets) {
      if (s === origin || s.user !== origin.user) continue;
      out.set(s, { type: "status", total: this.total, lateUnread, shifted: 0, seq: this.#seq });
    }
    return out;
  }

  /**
   * Stores a batch and returns what PROTOCOL.md says each socket gets for it:
   * at most one `insert` and one `status`. Views of live sockets grow and the
   * users' seen sets take what was pushed, as the server must do.
   */
  batch(
    drafts: readonly Draft[],
    sockets: readonly SocketModel[],
  ): { results: SendResult[]; stored: Stored[]; pushes: Map<SocketModel, Frame[]> } {
    const { results, stored } = this.store(drafts);
    const pushes = new Map<SocketModel, Frame[]>();
    if (stored.length === 0) {
      for (const s of sockets) pushes.set(s, []);
      return { results, stored, pushes };
    }
    const sorted = [...stored].sort(compareKeys);
    const total = this.total;
    const plans = sockets.map((socket) => {
      const { view } = socket;
      const pushed = sorted.filter((m) =>
        view.empty
          ? view.live
          : inside(view, m) || (view.live && view.last !== null && compareKeys(m, view.last) > 0),
      );
      const shifted =
        view.empty || !view.first
          ? 0
          : sorted.filter((m) => compareKeys(m, view.first as Key) < 0).length;
      const latest = [...stored]
        .reverse()
        .filter((m) => m.late && !pushed.includes(m))
        .slice(0, 3)
        .map((m) => ({ id: m.id, ts: m.ts, position: this.position(m.id) }));
      const top = pushed.at(-1);
      if (view.live && top) {
        socket.view = view.empty
          ? { first: keyOf(pushed[0] as Stored), last: keyOf(top), live: true }
          : {
              ...view,
              last: view.last && compareKeys(top, view.last) > 0 ? keyOf(top) : view.last,
            };
      }
      this.see(socket.user, pushed);
      return { socket, pushed, shifted, latest };
    });
    for (const { socket, pushed, shifted, latest } of plans) {
      const frames: Frame[] = [];
      if (pushed.length > 0) {
        frames.push({
          type: "insert",
          messages: pushed.map((m) => this.wire(m, { position: this.position(m.id) })),
          total,
          seq: this.#seq,
        });
      }
      frames.push({
        type: "status",
        total,
        lateUnread: this.unread(socket.user),
        shifted,
        latest,
        seq: this.#seq,
      });
      pushes.set(socket, frames);
    }
    return { results, stored, pushes };
  }
}

/**
 * Push frames in a comparable form: `insert` before `status` (PROTOCOL.md
 * fixes no order between them) and an absent `latest` as an empty list.
 */
export function normalizePushes(frames: readonly Frame[]): Frame[] {
  const rank = (f: Frame) => (f.type === "insert" ? 0 : f.type === "status" ? 1 : 2);
  return [...frames]
    .map((f) => (f.type === "status" ? { ...f, latest: f.latest ?? [] } : f))
    .sort((a, b) => rank(a) - rank(b));
}

// ── A channel under test: the model, its sockets, and checked operations ──

/** One open socket and the model of it. */
export interface Peer {
  readonly client: Client;
  readonly socket: SocketModel;
}

/**
 * A channel driven by a test: every operation goes to the server and to the
 * model, and every reply and push is compared with the model's.
 */
export class Harness {
  readonly channel: string;
  readonly model = new ChannelModel();
  readonly peers: Peer[] = [];
  #views = 0;

  constructor(channel: string) {
    this.channel = channel;
  }

  /** Opens a socket and checks its hello. */
  async connect(user: string): Promise<Peer> {
    const client = await Client.open(this.channel, user);
    const hello = await client.next("hello");
    this.model.connect(user);
    expect(hello).toEqual({
      type: "hello",
      protocol: 1,
      minor: 1,
      channel: this.channel,
      user,
      total: this.model.total,
      lateUnread: this.model.unread(user),
      newest: this.model.newest,
      seq: this.model.seq,
    });
    const peer = { client, socket: { user, view: initialView(this.model.newest) } };
    this.peers.push(peer);
    return peer;
  }

  /** Closes a socket; the model forgets its view (not its user's late state). */
  disconnect(peer: Peer): void {
    peer.client.close();
    this.peers.splice(this.peers.indexOf(peer), 1);
  }

  /** Declares a view and checks the reply's lateUnread. */
  async declare(peer: Peer, first: Key | null, last: Key | null, live: boolean): Promise<void> {
    const rid = `view-${++this.#views}`;
    const { reply, others } = await peer.client.call({ type: "view", first, last, live }, rid);
    const before = this.model.unread(peer.socket.user);
    peer.socket.view = { first, last, live };
    this.model.seeRange(peer.socket.user, first, last);
    expect(others).toEqual([]);
    expect(reply).toEqual({
      type: "view",
      rid,
      lateUnread: this.model.unread(peer.socket.user),
      seq: this.model.seq,
    });
    await this.#checkBadges(peer, before);
  }

  /** `late.ack`: checks the reply, and the badge on the user's other sockets. */
  async ack(peer: Peer, rid = "ack"): Promise<void> {
    const { reply, others } = await peer.client.call({ type: "late.ack" }, rid);
    const before = this.model.unread(peer.socket.user);
    this.model.ack(peer.socket.user);
    expect(others).toEqual([]);
    expect(reply).toEqual({ type: "view", rid, lateUnread: 0, seq: this.model.seq });
    await this.#checkBadges(peer, before);
  }

  /** The user's other sockets each got the `status` of a badge change, and nothing else. */
  async #checkBadges(origin: Peer, before: number): Promise<void> {
    const expected = this.model.badgeChanged(
      origin.socket,
      this.peers.map((p) => p.socket),
      before,
    );
    await Promise.all(
      this.peers
        .filter((p) => p !== origin && p.socket.user === origin.socket.user)
        .map(async (p) => {
          const frame = expected.get(p.socket);
          expect(await p.client.drain(), `badge of ${p.socket.user}`).toEqual(frame ? [frame] : []);
        }),
    );
  }

  /** Stores a batch over HTTP and checks the reply and every socket's pushes. */
  async post(drafts: readonly Draft[]): Promise<void> {
    const { status, body } = await postMessages(this.channel, drafts);
    const { results, pushes } = this.model.batch(
      drafts,
      this.peers.map((p) => p.socket),
    );
    expect(status).toBe(200);
    const inserted = results.filter((r) => !r.duplicate).length;
    expect(body).toEqual({
      inserted,
      duplicates: drafts.length - inserted,
      total: this.model.total,
    });
    await this.#checkPushes(pushes);
  }

  /** Sends a batch from a socket and checks `sent` and every socket's pushes. */
  async send(from: Peer, drafts: readonly Draft[]): Promise<SendResult[]> {
    const rid = `send-${this.model.total}-${drafts.length}`;
    from.client.send({ type: "send", rid, messages: drafts });
    const { results, pushes } = this.model.batch(
      drafts,
      this.peers.map((p) => p.socket),
    );
    const frames = await from.client.drain();
    const sent = frames.filter((f) => f.type === "sent");
    expect(sent).toEqual([
      { type: "sent", rid, results, total: this.model.total, seq: this.model.seq },
    ]);
    expect(normalizePushes(frames.filter((f) => f.type !== "sent"))).toEqual(
      normalizePushes(pushes.get(from.socket) ?? []),
    );
    pushes.delete(from.socket);
    await this.#checkPushes(pushes);
    return results;
  }

  async #checkPushes(pushes: Map<SocketModel, Frame[]>): Promise<void> {
    await Promise.all(
      this.peers
        .filter((p) => pushes.has(p.socket))
        .map(async (p) => {
          const got = await p.client.drain();
          expect(normalizePushes(got), `pushes to ${p.socket.user}`).toEqual(
            normalizePushes(pushes.get(p.socket) ?? []),
          );
        }),
    );
  }

  /** Asks a page over a socket and checks it against the model's. */
  async page(peer: Peer, anchor: Anchor, before?: number, after?: number): Promise<PageBody> {
    const frame: Record<string, unknown> = { type: "page", anchor };
    if (before !== undefined) frame.before = before;
    if (after !== undefined) frame.after = after;
    const rid = `page-${JSON.stringify(anchor)}-${before}-${after}`.slice(0, 64);
    const { reply, others } = await peer.client.call(frame, rid);
    expect(others).toEqual([]);
    const expected = this.model.page(anchor, before, after, peer.socket.user);
    if (expected === "not_found") {
      expect(reply).toMatchObject({ type: "error", rid, code: "not_found" });
      throw new Error("page: asked for an unknown id");
    }
    expect(reply).toEqual({ type: "page", rid, ...expected });
    return expected;
  }
}

// ── Data ───────────────────────────────────────────────────────────────────

/** A small seeded PRNG: the same seed, the same test. */
export const prng = mulberry32;

/** `n` on-time messages m0000… at ts = start + i·step. */
export function series(n: number, start = 1_000_000, step = 1_000, prefix = "m"): Draft[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${String(i).padStart(5, "0")}`,
    ts: start + i * step,
    author: "seed",
    text: `message ${i}`,
  }));
}

/** The key of message i of `series(n)` with its default start, step and prefix. */
export const seriesKey = (i: number): Key => ({
  ts: 1_000_000 + i * 1_000,
  id: `m${String(i).padStart(5, "0")}`,
});

const MARK = Symbol.for("scrollback test instance mark");

/** Tags the running object instance, to tell afterwards whether an eviction replaced it. */
export async function markInstance(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (instance: object) => {
    Reflect.set(instance, MARK, true);
  });
}

/** True while the instance tagged by {@link markInstance} is still the running one. */
export async function isMarked(stub: DurableObjectStub): Promise<boolean> {
  return runInDurableObject(stub, (instance: object) => Reflect.get(instance, MARK) === true);
}

/** A message with a given key. */
export function msg(id: string, ts: number, author = "tester"): Draft {
  return { id, ts, author, text: `text of ${id}` };
}
