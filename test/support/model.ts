/**
 * The one model of a channel the tests compare the server with, written from
 * PROTOCOL.md alone: a sorted array with late arrivals in arrival order (their
 * ordinals), per-user seen sets, socket views, the pushes of a batch, the
 * channel's seq watermark, the cross-tab badge and the replay of a `resume`.
 */
import { compareKeys, countBelow, keyOf } from "./keys.ts";
import { type OrderedList, pageOf, timelineOf } from "./pages.ts";
import { grow, route, type SocketModel } from "./views.ts";
import {
  type Anchor,
  type Counts,
  type Draft,
  type Frame,
  type Key,
  MAX_RESUME,
  type PageBody,
  type ResumedFrame,
  type SendResult,
  type Stats,
  type Timeline,
  type WireMessage,
} from "./wire.ts";

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

/** A declared view, as `view` and `resume` carry it. */
export interface Declared {
  first: Key | null;
  last: Key | null;
  live: boolean;
}

/** A channel as PROTOCOL.md describes it, kept by the test. */
export class ChannelModel {
  /** Every message, ascending by key. */
  readonly sorted: Stored[] = [];
  readonly byId = new Map<string, Stored>();
  /** Every message in arrival order: `arrivals[seq - 1]`. */
  readonly arrivals: Stored[] = [];
  /** Late messages in arrival order. */
  readonly lateArrivals: Stored[] = [];
  readonly #readers = new Map<string, ReaderModel>();

  get total(): number {
    return this.sorted.length;
  }

  /** The channel's seq watermark: the latest arrival's seq (0 when empty). */
  get seq(): number {
    return this.arrivals.length;
  }

  get newest(): Key | null {
    const last = this.sorted.at(-1);
    return last ? keyOf(last) : null;
  }

  position(id: string): number {
    const m = this.byId.get(id);
    if (!m) throw new Error(`the model has no ${id}`);
    return countBelow(this.sorted, m);
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
        seq: this.arrivals.length + 1,
        late: newest !== null && compareKeys(newest, d) > 0,
      };
      this.sorted.splice(countBelow(this.sorted, m), 0, m);
      this.byId.set(m.id, m);
      this.arrivals.push(m);
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

  /**
   * The counts frames carry for the user. Nobody here reacts or moves a read
   * marker, so no reaction is unread and every message is after the marker.
   */
  counts(user: string): Counts {
    return { lateUnread: this.unread(user), reactionsUnread: 0, unread: this.total };
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
      this.lateArrivals.filter(
        (m) => (!first || compareKeys(m, first) >= 0) && (!last || compareKeys(m, last) <= 0),
      ),
    );
  }

  ack(user: string): void {
    this.see(user, this.lateArrivals);
  }

  /** The wire shape of a message, optionally with its position or unread flag. */
  wire(m: Stored, extra: { position?: number; unread?: true } = {}): WireMessage {
    const { id, ts, author, text, seq, late } = m;
    return { id, ts, author, text, seq, late, ...extra };
  }

  /** The list as pages read it; with `user`, unread late messages are flagged. */
  #list(user?: string): OrderedList {
    return {
      total: this.total,
      seq: this.seq,
      tsAt: (p) => (this.sorted[p] as Stored).ts,
      positionOf: (id) => (this.byId.has(id) ? this.position(id) : undefined),
      messageAt: (p) => {
        const m = this.sorted[p] as Stored;
        return user !== undefined && this.isUnread(user, m)
          ? this.wire(m, { unread: true })
          : this.wire(m);
      },
    };
  }

  /** The page PROTOCOL.md prescribes, or "not_found" for an unknown id. */
  page(anchor: Anchor, before = 25, after = 25, user?: string): PageBody | "not_found" {
    return pageOf(this.#list(user), anchor, before, after);
  }

  timeline(points: number): Timeline {
    return timelineOf(this.#list(), points);
  }

  stats(channel: string): Stats {
    const first = this.sorted[0];
    return {
      channel,
      total: this.total,
      lateTotal: this.lateArrivals.length,
      oldest: first ? keyOf(first) : null,
      newest: this.newest,
      seq: this.seq,
    };
  }

  /**
   * Protocol 1.1: after a `view`, `resume` or `late.ack` by `origin` that
   * changed its user's count from `before`, each of that user's other sockets
   * gets a `status` with the new count; nobody else gets anything.
   */
  badgeChanged(
    origin: SocketModel,
    sockets: readonly SocketModel[],
    before: number,
  ): Map<SocketModel, Frame> {
    const out = new Map<SocketModel, Frame>();
    const counts = this.counts(origin.user);
    if (counts.lateUnread === before) return out;
    for (const s of sockets) {
      if (s === origin || s.user !== origin.user) continue;
      out.set(s, { type: "status", total: this.total, ...counts, shifted: 0, seq: this.seq });
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
    const { total, seq } = this;
    // Every socket's pushes are seen before any status counts its user's unread.
    const plans = sockets.map((socket) => {
      const { pushed, shifted } = route(socket.view, sorted);
      const latest = [...stored]
        .reverse()
        .filter((m) => m.late && !pushed.includes(m))
        .slice(0, 3)
        .map((m) => ({ id: m.id, ts: m.ts, position: this.position(m.id) }));
      socket.view = grow(socket.view, pushed);
      this.see(socket.user, pushed);
      return { socket, pushed, shifted, latest };
    });
    for (const { socket, pushed, shifted, latest } of plans) {
      const frames: Frame[] = [];
      if (pushed.length > 0) {
        const messages = pushed.map((m) => this.wire(m, { position: this.position(m.id) }));
        frames.push({ type: "insert", messages, total, seq });
      }
      frames.push({ type: "status", total, ...this.counts(socket.user), shifted, latest, seq });
      pushes.set(socket, frames);
    }
    return { results, stored, pushes };
  }

  /**
   * Protocol 1.1 `resume` from `since` with a declared view: the socket's view
   * becomes it (grown by the replay when live), its late messages and the
   * replayed ones are seen, and the reply replays the missed arrivals that
   * concern the view, or says `complete: false` beyond MAX_RESUME or for a
   * `since` from the future.
   */
  resume(socket: SocketModel, since: number, declared: Declared): ResumedFrame {
    const { user } = socket;
    const { total, seq } = this;
    socket.view = { ...declared };
    this.seeRange(user, declared.first, declared.last);
    const missed = since <= seq ? this.arrivals.slice(since) : undefined;
    if (missed === undefined || missed.length > MAX_RESUME) {
      return {
        type: "resumed",
        complete: false,
        seq,
        total,
        ...this.counts(user),
        shifted: 0,
        messages: [],
        removed: [],
        updated: [],
      };
    }
    const { pushed, shifted } = route(socket.view, [...missed].sort(compareKeys));
    socket.view = grow(socket.view, pushed);
    this.see(user, pushed);
    return {
      type: "resumed",
      complete: true,
      seq,
      total,
      ...this.counts(user),
      shifted,
      messages: pushed.map((m) => this.wire(m, { position: this.position(m.id) })),
      removed: [],
      updated: [],
    };
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
