/**
 * The channel's Durable Object: thin glue between the runtime (RPC from the
 * worker, hibernatable WebSockets, the alarm) and the store, the pure routing
 * of pushes and the simulator.
 */
import { DurableObject } from "cloudflare:workers";
import { type Push, planPushes } from "../core/fanout.ts";
import { compareKeys, type Key, partitionPoint } from "../core/key.ts";
import { TokenBucket } from "../core/rate-limit.ts";
import { initialView, route } from "../core/view.ts";
import type { Env } from "../env.ts";
import { allows, Scope } from "../protocol/access.ts";
import { type ErrorInfo, ProtocolError, toErrorInfo } from "../protocol/errors.ts";
import { parseClientFrame } from "../protocol/parse.ts";
import {
  type ClientFrame,
  type InsertReply,
  MAX_FRAME_BYTES,
  MAX_RESUME,
  type Message,
  type NewMessage,
  type PageBody,
  type PageRequest,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  type ResumeFrame,
  type ServerFrame,
  type SimulatorState,
  type SimulatorUpdate,
  type Stats,
  type Timeline,
} from "../protocol/schemas.ts";
import { type Session, sessionOf } from "./session.ts";
import { Simulator } from "./simulator.ts";
import {
  ChannelStore,
  type Draft,
  type InsertResult,
  keyOf,
  type StoredMessage,
  toWire,
} from "./store.ts";

/** Headers the worker sets on a WebSocket upgrade it has validated. */
export const CHANNEL_HEADER = "x-scrollback-channel";
export const USER_HEADER = "x-scrollback-user";
export const SCOPE_HEADER = "x-scrollback-scope";
export const EXP_HEADER = "x-scrollback-exp";

/** Answered by the runtime itself, without waking a hibernated object. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

/** What an RPC call returns: never a thrown error across the RPC boundary. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly rowsRead: number }
  | { readonly ok: false; readonly error: ErrorInfo; readonly rowsRead: number };

export class Channel extends DurableObject<Env> {
  #store: ChannelStore | undefined;
  #simulator: Simulator | undefined;
  readonly #budgets = new WeakMap<WebSocket, TokenBucket>();
  /** Sessions read from attachments, so a fan-out does not deserialize every socket's. */
  readonly #sessions = new WeakMap<WebSocket, Session>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Stays light: the store is opened on first use, not on every wake.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  get #db(): ChannelStore {
    this.#store ??= new ChannelStore(this.ctx.storage);
    return this.#store;
  }

  get #sim(): Simulator {
    this.#simulator ??= new Simulator(this.#db, this.ctx.storage, (drafts, alsoWrite) =>
      this.#commit(drafts, alsoWrite),
    );
    return this.#simulator;
  }

  /** The channel's name: the worker addresses every object by name (`idFromName`). */
  get #channel(): string {
    return this.ctx.id.name ?? "";
  }

  async #run<T>(fn: (store: ChannelStore) => T | Promise<T>): Promise<Outcome<T>> {
    try {
      const value = await fn(this.#db);
      return { ok: true, value, rowsRead: this.#db.takeRowsRead() };
    } catch (err) {
      this.#log(err);
      return { ok: false, error: toErrorInfo(err), rowsRead: this.#store?.takeRowsRead() ?? 0 };
    }
  }

  #log(err: unknown): void {
    if (!(err instanceof ProtocolError)) console.error(`[channel ${this.#channel}]`, err);
  }

  // ── RPC from the worker (inputs already validated there) ────────────────

  async stats(): Promise<Outcome<Stats>> {
    return this.#run((s) => ({
      channel: this.#channel,
      total: s.total,
      lateTotal: s.lateTotal,
      oldest: s.oldest(),
      newest: s.newest,
      seq: s.seq,
    }));
  }

  async page(request: PageRequest): Promise<Outcome<PageBody>> {
    return this.#run((s) => s.page(request.anchor, request.before, request.after));
  }

  /** OFFSET / count(*) pages, for the benchmark's comparison (enabled by BENCH_NAIVE). */
  async naivePage(position: number, before: number, after: number): Promise<Outcome<PageBody>> {
    return this.#run((s) => s.naivePage(position, before, after));
  }

  async timeline(points: number): Promise<Outcome<Timeline>> {
    return this.#run((s) => s.timeline(points));
  }

  /** Stores a batch from HTTP; `author` fills in messages that have none. */
  async insert(messages: NewMessage[], author: string): Promise<Outcome<InsertReply>> {
    return this.#run(() => {
      const now = Date.now();
      const result = this.#commit(messages.map((m) => draftOf(m, author, now)));
      const inserted = result.inserted.length;
      return { inserted, duplicates: messages.length - inserted, total: result.total };
    });
  }

  async simulator(): Promise<Outcome<SimulatorState>> {
    return this.#run(() => this.#sim.state());
  }

  async startSimulator(update: SimulatorUpdate): Promise<Outcome<SimulatorState>> {
    return this.#run(() => this.#sim.start(update, Date.now()));
  }

  async stopSimulator(): Promise<Outcome<SimulatorState>> {
    return this.#run(() => this.#sim.stop());
  }

  /** The simulator's tick: at-least-once, so the simulator makes it idempotent. */
  override async alarm(): Promise<void> {
    await this.#sim.tick(Date.now());
  }

  // ── WebSockets ───────────────────────────────────────────────────────────

  /** A WebSocket upgrade the worker has validated (channel, user, scope in headers). */
  override async fetch(request: Request): Promise<Response> {
    const user = request.headers.get(USER_HEADER);
    const scope = Scope.catch("read").parse(request.headers.get(SCOPE_HEADER));
    if (!user || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    }
    const db = this.#db;
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const exp = Number(request.headers.get(EXP_HEADER) ?? Number.NaN);
    const session: Session = {
      user,
      scope,
      view: initialView(db.newest),
      ...(Number.isFinite(exp) ? { exp } : {}),
    };
    this.#setSession(server, session);
    send(server, {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      minor: PROTOCOL_MINOR,
      channel: this.#channel,
      user,
      total: db.total,
      lateUnread: db.readers.unread(user),
      newest: db.newest,
      seq: db.seq,
    });
    db.takeRowsRead();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    let rid: string | undefined;
    try {
      const session = this.#session(ws);
      if (!session) throw new Error("a socket without a session");
      // Every frame counts against the budget, bad ones too, before any work on it.
      const admitted = this.#budget(ws).take(Date.now());
      const text = frameText(raw);
      // Parsed once, up to twice the limit, so even a refused frame's rid is echoed.
      const json = text.length <= RID_PARSE_LIMIT ? parseJson(text) : undefined;
      rid = json?.ok ? ridOf(json.value) : undefined;
      if (!admitted) {
        throw new ProtocolError("rate_limited", "over this socket's frame budget; slow down");
      }
      if (utf8Length(text) > MAX_FRAME_BYTES) {
        throw new ProtocolError("too_large", `frames are limited to ${MAX_FRAME_BYTES} bytes`);
      }
      if (!json?.ok) throw new ProtocolError("bad_request", "invalid JSON");
      // A token is checked at the upgrade; its expiry still holds for every frame after.
      if (session.exp !== undefined && Date.now() / 1000 >= session.exp) {
        throw new ProtocolError(
          "unauthorized",
          "the token has expired; reconnect with a fresh one",
        );
      }
      this.#dispatch(ws, session, parseClientFrame(json.value));
    } catch (err) {
      this.#log(err);
      send(ws, { type: "error", ...(rid === undefined ? {} : { rid }), ...toErrorInfo(err) });
    } finally {
      this.#store?.takeRowsRead();
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005/1006 are reserved and may not be sent back.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed: nothing to answer.
    } finally {
      this.#budgets.delete(ws);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.warn(`[channel ${this.#channel}] socket error`, error);
    this.#budgets.delete(ws);
  }

  /** The socket's session: from memory, or from its attachment after a wake. */
  #session(ws: WebSocket): Session | undefined {
    let session = this.#sessions.get(ws);
    if (!session) {
      session = sessionOf(ws);
      if (session) this.#sessions.set(ws, session);
    }
    return session;
  }

  /** Keeps the session in memory and in the attachment, which survives hibernation. */
  #setSession(ws: WebSocket, session: Session): void {
    ws.serializeAttachment(session);
    this.#sessions.set(ws, session);
  }

  /**
   * Frames a socket may still send. Kept in memory only: a socket that had
   * hibernated was idle long enough for its bucket to be full again.
   */
  #budget(ws: WebSocket): TokenBucket {
    let bucket = this.#budgets.get(ws);
    if (!bucket) {
      bucket = new TokenBucket(
        positive(this.env.WS_RATE, 200),
        positive(this.env.WS_BURST, 400),
        Date.now(),
      );
      this.#budgets.set(ws, bucket);
    }
    return bucket;
  }

  #dispatch(ws: WebSocket, session: Session, frame: ClientFrame): void {
    const db = this.#db;
    const { user } = session;
    const rid = frame.rid === undefined ? {} : { rid: frame.rid };
    switch (frame.type) {
      case "page":
        send(ws, {
          type: "page",
          ...rid,
          ...db.page(frame.anchor, frame.before, frame.after, user),
        });
        return;
      case "view": {
        const { first, last, live } = frame;
        checkView(first, last);
        const before = db.readers.unread(user);
        this.#setSession(ws, { ...session, view: { first, last, live } });
        db.markSeenInRange(user, first, last);
        send(ws, { type: "view", ...rid, lateUnread: db.readers.unread(user), seq: db.seq });
        this.#badgeChanged(ws, user, before);
        return;
      }
      case "resume": {
        checkView(frame.first, frame.last);
        const before = db.readers.unread(user);
        send(ws, { ...this.#resume(ws, session, frame), ...rid });
        this.#badgeChanged(ws, user, before);
        return;
      }
      case "send": {
        if (!allows(session.scope, "write")) {
          throw new ProtocolError("forbidden", "sending needs the write scope");
        }
        const now = Date.now();
        const drafts = frame.messages.map((m) => draftOf(m, user, now));
        const result = db.insert(drafts);
        // Output gate: this frame leaves only once the write is durable.
        send(ws, {
          type: "sent",
          ...rid,
          results: result.results,
          total: result.total,
          seq: db.seq,
        });
        this.#fanOut(result.inserted);
        return;
      }
      case "late.next": {
        const next = db.lateNext(user);
        if (!next) throw new ProtocolError("not_found", "no unread late messages");
        send(ws, {
          type: "page",
          ...rid,
          ...db.page({ id: next.id }, frame.before, frame.after, user),
        });
        return;
      }
      case "late.list":
        send(ws, { type: "late.list", ...rid, ...db.lateList(user, frame.limit) });
        return;
      case "late.ack": {
        const before = db.readers.unread(user);
        db.readers.ack(user);
        send(ws, { type: "view", ...rid, lateUnread: db.readers.unread(user), seq: db.seq });
        this.#badgeChanged(ws, user, before);
        return;
      }
      case "ping":
        send(ws, { type: "pong", ...rid });
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /**
   * `resume` (protocol 1.1): replays the arrivals after `since` that concern
   * the declared view, reading only those arrivals (at most MAX_RESUME + 1 rows).
   */
  #resume(
    ws: WebSocket,
    session: Session,
    frame: ResumeFrame,
  ): Extract<ServerFrame, { type: "resumed" }> {
    const db = this.#db;
    const { user } = session;
    const view = { first: frame.first, last: frame.last, live: frame.live };
    const seq = db.seq;
    const missed = frame.since <= seq ? db.arrivalsSince(frame.since, MAX_RESUME + 1) : undefined;
    this.#setSession(ws, { ...session, view });
    db.markSeenInRange(user, view.first, view.last);
    if (missed === undefined || missed.length > MAX_RESUME) {
      const lateUnread = db.readers.unread(user);
      return {
        type: "resumed",
        complete: false,
        seq,
        total: db.total,
        lateUnread,
        shifted: 0,
        messages: [],
      };
    }
    const sorted = [...missed].sort(compareKeys);
    const { from, to, shifted } = route(view, sorted.map(keyOf));
    const run = sorted.slice(from, to);
    const positions = db.positionsOf(run.map(keyOf));
    // Replayed messages count as pushed: the late ones among them are seen.
    db.readers.markSeen(
      user,
      run.flatMap((m) => (m.lateNo === null ? [] : [m.lateNo])),
    );
    return {
      type: "resumed",
      complete: true,
      seq,
      total: db.total,
      lateUnread: db.readers.unread(user),
      shifted,
      messages: run.map((m, i) => ({ ...toWire(m), position: positions[i] as number })),
    };
  }

  /** Protocol 1.1: a user's other sockets hear at once when a view, resume or ack changed the badge. */
  #badgeChanged(origin: WebSocket, user: string, before: number): void {
    const db = this.#db;
    const lateUnread = db.readers.unread(user);
    if (lateUnread === before) return;
    const frame = JSON.stringify({
      type: "status",
      total: db.total,
      lateUnread,
      shifted: 0,
      seq: db.seq,
    } satisfies ServerFrame);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws !== origin && this.#session(ws)?.user === user) sendRaw(ws, frame);
    }
  }

  // ── Writes and fan-out ───────────────────────────────────────────────────

  /** Every write goes through here, whatever its source, then fans out. */
  #commit(drafts: readonly Draft[], alsoWrite?: (result: InsertResult) => void): InsertResult {
    const result = this.#db.insert(drafts, alsoWrite);
    this.#fanOut(result.inserted);
    return result;
  }

  /**
   * Pushes one stored batch to every socket: at most one `insert` and one
   * `status` each. Routing is O(log batch) a socket, positions are computed
   * once for the union of what is pushed, and identical insert frames are
   * serialized once: O(sockets + batch) overall.
   */
  #fanOut(inserted: readonly StoredMessage[]): void {
    if (inserted.length === 0) return;
    try {
      this.#push(inserted);
    } catch (err) {
      // The batch is stored and acknowledged whatever happens to its pushes.
      console.error(`[channel ${this.#channel}] fan-out failed`, err);
    }
  }

  #push(inserted: readonly StoredMessage[]): void {
    const db = this.#db;
    const sockets = this.ctx.getWebSockets().flatMap((ws) => {
      const session = this.#session(ws);
      return session ? [{ ws, session }] : [];
    });
    if (sockets.length === 0) return;
    const sorted = [...inserted].sort(compareKeys);
    const keys: Key[] = sorted.map(keyOf);
    const sortedIndex = new Map(sorted.map((m, i) => [m, i]));
    const lateNewestFirst = inserted
      .filter((m) => m.lateNo !== null)
      .reverse()
      .map((m) => sortedIndex.get(m) as number);
    const { pushes, needed } = planPushes(
      sockets.map((s) => s.session.view),
      keys,
      lateNewestFirst,
    );
    const positions = new Array<number>(sorted.length);
    db.positionsOf(needed.map((i) => keys[i] as Key)).forEach((p, j) => {
      positions[needed[j] as number] = p;
    });
    // The late messages of a run, found by binary search: marking them seen costs what they are.
    const lateAscending = [...lateNewestFirst].sort((a, b) => a - b);
    const lateIn = (from: number, to: number) =>
      lateAscending
        .slice(lowerIndex(lateAscending, from), lowerIndex(lateAscending, to))
        .map((i) => (sorted[i] as StoredMessage).lateNo as number);
    const total = db.total;
    const seq = db.seq;
    const insertFrames = new Map<string, string>();

    sockets.forEach(({ ws, session }, k) => {
      const { from, to, next } = pushes[k] as Push;
      if (to > from) {
        const run = `${from}:${to}`;
        let frame = insertFrames.get(run);
        if (frame === undefined) {
          const messages: Message[] = [];
          for (let i = from; i < to; i++) {
            messages.push({
              ...toWire(sorted[i] as StoredMessage),
              position: positions[i] as number,
            });
          }
          frame = JSON.stringify({ type: "insert", messages, total, seq } satisfies ServerFrame);
          insertFrames.set(run, frame);
        }
        sendRaw(ws, frame);
        const seen = lateIn(from, to);
        if (seen.length > 0) db.readers.markSeen(session.user, seen);
      }
      if (next !== session.view) this.#setSession(ws, { ...session, view: next });
    });
    // Second pass: unread counts include what the user's other sockets were just pushed.
    sockets.forEach(({ ws, session }, k) => {
      const { shifted, latest } = pushes[k] as Push;
      send(ws, {
        type: "status",
        total,
        lateUnread: db.readers.unread(session.user),
        shifted,
        seq,
        ...(latest.length > 0
          ? {
              latest: latest.map((i) => {
                const m = sorted[i] as StoredMessage;
                return { id: m.id, ts: m.ts, position: positions[i] as number };
              }),
            }
          : {}),
      });
    });
  }
}

/** A declared view's bounds must be in order (`view` and `resume`). */
function checkView(first: Key | null, last: Key | null): void {
  if (first && last && compareKeys(first, last) > 0) {
    throw new ProtocolError("bad_request", "first: must not be after last");
  }
}

/** A client message with its defaults applied (PROTOCOL.md, `send`). */
function draftOf(m: NewMessage, author: string, now: number): Draft {
  return { id: m.id, ts: m.ts ?? now, author: m.author ?? author, text: m.text };
}

function send(ws: WebSocket, frame: ServerFrame): void {
  sendRaw(ws, JSON.stringify(frame));
}

function sendRaw(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // The socket is closing; its close handler cleans up.
  }
}

/** A frame's text; binary frames are not part of the protocol. */
function frameText(raw: string | ArrayBuffer): string {
  if (typeof raw !== "string") {
    throw new ProtocolError("bad_request", "frames must be JSON text, not binary");
  }
  return raw;
}

/** UTF-8 bytes of a frame, measured only when the code-unit count says it may matter. */
function utf8Length(text: string): number {
  return text.length * 3 <= MAX_FRAME_BYTES ? text.length : new TextEncoder().encode(text).length;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Longest frame parsed just to echo its rid on a too_large error. */
const RID_PARSE_LIMIT = 2 * MAX_FRAME_BYTES;

/** The frame's `rid` when it has a usable one, echoed even on errors so the client's request settles. */
function ridOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || !("rid" in json)) return undefined;
  const rid = json.rid;
  return typeof rid === "string" && rid.length <= 64 ? rid : undefined;
}

/** Index of the first element of ascending `sorted` that is ≥ `value`. */
function lowerIndex(sorted: readonly number[], value: number): number {
  return partitionPoint(sorted.length, (i) => (sorted[i] as number) < value);
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
