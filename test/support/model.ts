/**
 * The one model of a channel the tests compare the server with, written from
 * docs/protocol.md alone: a sorted array with late arrivals in arrival order (their
 * ordinals), per-user seen sets, socket views, the pushes of a group, the
 * channel's seq watermark, the cross-tab badge and the replay of a `resume`;
 * protocol 1.2's changes: edits, deletes (tombstones; positions shift),
 * reactions, and changes held until their message arrives; and 1.2's
 * reader's place (place.ts): unread reactions and the read marker.
 */
import { type Actor, ChangeMarks, mayMake } from "./change-rules.ts";
import { GroupNet } from "./group.ts";
import { compareKeys, countBelow, keyOf } from "./keys.ts";
import { type OrderedList, pageOf, timelineOf } from "./pages.ts";
import { Places, type ReadOutcome } from "./place.ts";
import { replay } from "./replay.ts";
import type { SocketModel } from "./views.ts";
import {
  type Anchor,
  type Audience,
  type Change,
  type ChangeResult,
  type Counts,
  type Draft,
  type Frame,
  type Key,
  type LateItem,
  NO_AUDIENCE,
  type PageBody,
  type ReactionsItem,
  type ResumedFrame,
  type SendResult,
  type Stats,
  type Timeline,
  type WireMessage,
} from "./wire.ts";

/** A message the model holds, as it arrived (its changes are kept beside it). */
export interface Stored extends Draft {
  readonly seq: number;
  readonly late: boolean;
}

/** A deleted message: its id stays taken. */
export interface Tombstone extends Key {
  /** The message's own arrival seq. */
  readonly seq: number;
  /** The seq of the delete that took it (its own when it arrived already deleted). */
  readonly deletedSeq: number;
}

/** One arrival, by seq: a message (present or not) or a change applied or held. */
export type Arrival =
  | { readonly message: Stored; readonly change?: undefined }
  | {
      readonly message?: undefined;
      readonly change: { readonly id: string; readonly kind: Change["kind"] };
    };

interface HeldChange {
  readonly actor: Actor;
  readonly change: Change;
  /** Its arrival. */
  readonly seq: number;
}

/** A declared view, as `view` and `resume` carry it. */
export interface Declared {
  first: Key | null;
  last: Key | null;
  live: boolean;
}

/** One write of a group: a batch of messages, or a frame of changes by an actor. */
export type Write =
  | { readonly insert: readonly Draft[] }
  | { readonly actor: Actor; readonly changes: readonly Change[] };

/** What a write got: its results, or `forbidden` (a change the actor may not make, at `index`). */
export type WriteOutcome =
  | { readonly results: SendResult[] }
  | { readonly results: ChangeResult[] }
  | { readonly forbidden: number };

/** An exact repeat of a held change is one change: held changes are named by sender and content. */
const heldName = (user: string, c: Change): string =>
  JSON.stringify(
    c.kind === "edit"
      ? [user, c.kind, c.id, c.text, c.ts]
      : c.kind === "react"
        ? [user, c.kind, c.id, c.emoji, c.on, c.ts]
        : [user, c.kind, c.id],
  );

/** A channel as docs/protocol.md describes it, kept by the test. */
export class ChannelModel {
  /** Every message present, ascending by key. */
  readonly sorted: Stored[] = [];
  /** The messages present, by id. */
  readonly byId = new Map<string, Stored>();
  /** Deleted messages, by id. */
  readonly tombstones = new Map<string, Tombstone>();
  /** Late messages in arrival order (their ordinals), deleted ones included. */
  readonly lateArrivals: Stored[] = [];
  /** Every arrival, messages and changes: `arrivals[seq - 1]`. */
  readonly arrivals: Arrival[] = [];
  readonly #marks = new Map<string, ChangeMarks>();
  /** Changes waiting for their message, by id. */
  readonly #held = new Map<string, { names: Set<string>; changes: HeldChange[] }>();
  /** Each user's late messages, unread reactions and read marker. */
  readonly places = new Places(this);
  /** The group being stored, when the test asked for its pushes. */
  #group: GroupNet | undefined;

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

  /** Late messages in the channel: a deleted one leaves the count. */
  get lateTotal(): number {
    return this.lateArrivals.filter((m) => this.byId.has(m.id)).length;
  }

  position(id: string): number {
    const m = this.byId.get(id);
    if (!m) throw new Error(`the model has no ${id}`);
    return countBelow(this.sorted, m);
  }

  #arrive(arrival: Arrival): number {
    this.arrivals.push(arrival);
    return this.arrivals.length;
  }

  /**
   * Stores a batch in arrival order: a stored or deleted id is a duplicate;
   * a new message takes the changes held for it, and arrives deleted when a
   * delete its sender could make was among them.
   */
  store(drafts: readonly Draft[]): { results: SendResult[]; stored: Stored[] } {
    const results: SendResult[] = [];
    const stored: Stored[] = [];
    for (const d of drafts) {
      const existing = this.byId.get(d.id);
      if (existing) {
        results.push({ id: d.id, seq: existing.seq, duplicate: true });
        continue;
      }
      const tombstone = this.tombstones.get(d.id);
      if (tombstone) {
        results.push({ id: d.id, seq: tombstone.seq, duplicate: true, deleted: true });
        continue;
      }
      const newest = this.newest;
      const m: Stored = {
        ...d,
        seq: this.seq + 1,
        late: newest !== null && compareKeys(newest, d) > 0,
      };
      this.#arrive({ message: m });
      const held = (this.#held.get(d.id)?.changes ?? []).filter((h) =>
        mayMake(h.change.kind, h.actor, d.author),
      );
      this.#held.delete(d.id);
      if (held.some((h) => h.change.kind === "delete")) {
        this.tombstones.set(d.id, { ...keyOf(d), seq: m.seq, deletedSeq: m.seq });
        results.push({ id: d.id, seq: m.seq, duplicate: false, deleted: true });
        continue;
      }
      const marks = new ChangeMarks();
      for (const { actor, change, seq } of held) {
        if (change.kind === "edit") marks.offerEdit(change);
        if (change.kind !== "react") continue;
        // Each register's winner counts from its own arrival.
        if (marks.offerReaction(actor.user, change.emoji, change).applied) {
          this.places.reacted(d.id, actor.user, change.emoji, change.on, seq, true);
        }
      }
      this.#marks.set(d.id, marks);
      this.sorted.splice(countBelow(this.sorted, m), 0, m);
      this.byId.set(m.id, m);
      if (m.late) this.lateArrivals.push(m);
      this.#group?.inserted(m.id);
      results.push({ id: m.id, seq: m.seq, duplicate: false });
      stored.push(m);
    }
    return { results, stored };
  }

  /**
   * A frame of changes by `actor`, all or nothing: a change the actor may not
   * make on a message present now refuses the frame; otherwise each, in
   * order, is applied, held (pending), stale or finds the message deleted.
   */
  change(actor: Actor, changes: readonly Change[]): WriteOutcome {
    const forbidden = changes.findIndex((c) => {
      const m = this.byId.get(c.id);
      return m !== undefined && !mayMake(c.kind, actor, m.author);
    });
    if (forbidden >= 0) return { forbidden };
    const results = changes.map((c): ChangeResult => {
      const { id } = c;
      if (this.tombstones.has(id)) return { id, outcome: "deleted" };
      const arrival = () => this.#arrive({ change: { id, kind: c.kind } });
      const m = this.byId.get(id);
      if (m === undefined) {
        const held = this.#held.get(id) ?? { names: new Set<string>(), changes: [] };
        const name = heldName(actor.user, c);
        if (held.names.has(name)) return { id, outcome: "stale" };
        held.names.add(name);
        const seq = arrival();
        held.changes.push({ actor, change: c, seq });
        this.#held.set(id, held);
        return { id, outcome: "pending", seq };
      }
      const marks = this.#marks.get(id) as ChangeMarks;
      if (c.kind === "delete") {
        const seq = arrival();
        this.sorted.splice(countBelow(this.sorted, m), 1);
        this.byId.delete(id);
        this.#marks.delete(id);
        this.places.gone(id);
        this.tombstones.set(id, { ...keyOf(m), seq: m.seq, deletedSeq: seq });
        this.#group?.removed(m);
        return { id, outcome: "applied", seq };
      }
      const { applied, shown } =
        c.kind === "edit"
          ? { applied: marks.offerEdit(c), shown: true }
          : marks.offerReaction(actor.user, c.emoji, c);
      if (!applied) return { id, outcome: "stale" };
      const seq = arrival();
      if (shown) this.#group?.updated(id);
      if (shown && c.kind === "react") this.places.reacted(id, actor.user, c.emoji, c.on, seq);
      return { id, outcome: "applied", seq };
    });
    return { results };
  }

  /**
   * Stores the writes of one group in order and returns what docs/protocol.md says
   * each got and each socket is pushed for the group.
   */
  group(
    writes: readonly Write[],
    sockets: readonly SocketModel[],
  ): { outcomes: WriteOutcome[]; pushes: Map<SocketModel, Frame[]> } {
    const net = new GroupNet();
    // Whose reaction count the group changes: they get a status even if nothing moved.
    const before = new Map(sockets.map((s) => [s.user, this.counts(s.user).reactionsUnread]));
    this.#group = net;
    try {
      const outcomes = writes.map((w) =>
        "insert" in w ? this.store(w.insert) : this.change(w.actor, w.changes),
      );
      return { outcomes, pushes: net.pushes(this, sockets, before) };
    } finally {
      this.#group = undefined;
    }
  }

  /** A batch of messages stored as a group of its own, and its pushes. */
  batch(
    drafts: readonly Draft[],
    sockets: readonly SocketModel[],
  ): { results: SendResult[]; stored: Stored[]; pushes: Map<SocketModel, Frame[]> } {
    const { outcomes, pushes } = this.group([{ insert: drafts }], sockets);
    const results = (outcomes[0] as { results: SendResult[] }).results;
    const stored = results.flatMap((r) => {
      const m = r.duplicate ? undefined : this.byId.get(r.id);
      return m ? [m] : [];
    });
    return { results, stored, pushes };
  }

  /** The user's first connection starts their late and reaction counts (later ones do nothing). */
  connect(user: string): void {
    this.places.connect(user);
  }

  /** The user's unread late messages, oldest arrival first: deleted ones leave at once. */
  unreadLate(user: string): Stored[] {
    return this.places.unreadLate(user);
  }

  /** The user's `lateUnread`. */
  lateUnread(user: string): number {
    return this.places.unreadLate(user).length;
  }

  /** The counts frames carry for the user: `lateUnread`, `reactionsUnread` and `unread`. */
  counts(user: string): Counts {
    return this.places.counts(user);
  }

  /** The user was pushed these messages in an `insert` (or replayed them): they are seen. */
  see(user: string, messages: Iterable<Stored>): void {
    this.places.see(user, messages);
  }

  /** A declared view: every message in [first, last] is seen, late ones and reactions. */
  seeRange(user: string, first: Key | null, last: Key | null): void {
    this.places.seeRange(user, first, last);
  }

  /** `read` by the user: see place.ts. */
  read(user: string, id: string): ReadOutcome | "not_found" {
    return this.places.read(user, id);
  }

  /**
   * The wire shape of a message in its current state (text, `edited`,
   * `reactions`), optionally with its position or unread flag; with `user`
   * (a socket's), reactions the user has on carry `mine`.
   */
  wire(m: Stored, extra: { position?: number; unread?: true } = {}, user?: string): WireMessage {
    const { id, ts, author, text, seq, late } = m;
    const marks = this.#marks.get(id);
    const edit = marks?.edit;
    const reactions = marks?.reactions(user);
    return {
      id,
      ts,
      author,
      text: edit?.text ?? text,
      seq,
      late,
      ...(edit ? { edited: edit.ts } : {}),
      ...(reactions ? { reactions } : {}),
      ...extra,
    };
  }

  /** The list as pages read it; with `user` (a socket's), unread late messages are flagged and `mine` set. */
  #list(user?: string): OrderedList {
    return {
      total: this.total,
      seq: this.seq,
      tsAt: (p) => (this.sorted[p] as Stored).ts,
      positionOf: (id) => (this.byId.has(id) ? this.position(id) : undefined),
      messageAt: (p) => {
        const m = this.sorted[p] as Stored;
        const unread = user !== undefined && this.places.isLateUnread(user, m);
        return this.wire(m, unread ? { unread: true } : {}, user);
      },
    };
  }

  /**
   * The page docs/protocol.md prescribes, or "not_found" for an unknown (or
   * deleted) id. `user` is the socket's user (unread flags, `mine`, the read
   * marker `first_unread` means); over HTTP (`http`) the user only names the
   * marker and the page carries no flags.
   */
  page(
    anchor: Anchor,
    before = 25,
    after = 25,
    user?: string,
    over: "socket" | "http" = "socket",
  ): PageBody | "not_found" {
    const readThrough = user === undefined ? undefined : this.places.readThrough(user);
    return pageOf(
      this.#list(over === "socket" ? user : undefined),
      anchor,
      before,
      after,
      readThrough,
    );
  }

  /** `late.list`: the user's unread late messages, oldest arrival first, up to `limit`. */
  lateList(user: string, limit: number): { unread: number; items: LateItem[] } {
    const unread = this.unreadLate(user);
    return { unread: unread.length, items: unread.slice(0, limit).map((m) => this.#item(m)) };
  }

  /** `reactions.list`: the user's messages with unread reactions, oldest unread first, up to `limit`. */
  reactionsList(user: string, limit: number): { unread: number; items: ReactionsItem[] } {
    const unread = this.places.unreadReactions(user);
    const items = unread.slice(0, limit).map((m) => ({
      ...this.#item(m),
      reactions: this.wire(m, {}, user).reactions ?? [],
    }));
    return { unread: unread.length, items };
  }

  /** `reactions.next`: a page around the user's message whose unread reaction arrived first. */
  reactionsNext(user: string, before = 25, after = 25): PageBody | "not_found" {
    const next = this.places.unreadReactions(user)[0];
    return next ? this.page({ id: next.id }, before, after, user) : "not_found";
  }

  #item(m: Stored): LateItem {
    return { id: m.id, ts: m.ts, position: this.position(m.id), seq: m.seq };
  }

  timeline(points: number): Timeline {
    return timelineOf(this.#list(), points);
  }

  /** The stats; `audience`: who is connected (the model does not follow sockets). */
  stats(channel: string, audience: Audience = NO_AUDIENCE): Stats {
    const first = this.sorted[0];
    return {
      channel,
      total: this.total,
      lateTotal: this.lateTotal,
      oldest: first ? keyOf(first) : null,
      newest: this.newest,
      seq: this.seq,
      ...audience,
    };
  }

  /**
   * Protocol 1.1 and 1.2: after a `view`, `resume`, `late.ack` or
   * `reactions.ack` by `origin` that changed its user's `lateUnread` or
   * `reactionsUnread` from `before`, each of that user's other sockets gets a
   * `status` with the new counts; nobody else gets anything.
   */
  badgeChanged(
    origin: SocketModel,
    sockets: readonly SocketModel[],
    before: Counts,
  ): Map<SocketModel, Frame> {
    const counts = this.counts(origin.user);
    const same =
      counts.lateUnread === before.lateUnread && counts.reactionsUnread === before.reactionsUnread;
    return same ? new Map() : this.#tellOthers(origin, sockets, {});
  }

  /** Protocol 1.2: after a `read` that moved the marker, the user's other sockets hear it. */
  markerMoved(origin: SocketModel, sockets: readonly SocketModel[]): Map<SocketModel, Frame> {
    return this.#tellOthers(origin, sockets, { read: this.places.marker(origin.user) });
  }

  /** A cross-tab `status`: the user's counts (and `extra`) to each of their sockets but `origin`. */
  #tellOthers(
    origin: SocketModel,
    sockets: readonly SocketModel[],
    extra: { read?: Key | null },
  ): Map<SocketModel, Frame> {
    const out = new Map<SocketModel, Frame>();
    const counts = this.counts(origin.user);
    for (const s of sockets) {
      if (s === origin || s.user !== origin.user) continue;
      const { total, seq } = this;
      out.set(s, { type: "status", total, ...counts, ...extra, shifted: 0, seq });
    }
    return out;
  }

  /** `resume` from `since` with a declared view: see replay.ts. */
  resume(socket: SocketModel, since: number, declared: Declared): ResumedFrame {
    return replay(this, socket, since, declared);
  }
}

/** Push frames in a comparable form: an absent `status.latest` as an empty list. */
export function normalizePushes(frames: readonly Frame[]): Frame[] {
  return frames.map((f) => (f.type === "status" ? { ...f, latest: f.latest ?? [] } : f));
}
