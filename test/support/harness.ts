/**
 * A channel driven by a test: every operation goes to the server and to the
 * model, and every reply and push is compared with the model's. The harness
 * reaches the server through a {@link Transport}, so the same checks run in
 * the Workers runtime and against a real `wrangler dev`.
 */
import { expect } from "vitest";
import type { Actor } from "./change-rules.ts";
import {
  ChannelModel,
  type Declared,
  normalizePushes,
  type Write,
  type WriteOutcome,
} from "./model.ts";
import type { Client } from "./socket.ts";
import { initialView, type SocketModel } from "./views.ts";
import {
  type Anchor,
  type Change,
  type ChangeResult,
  DEFAULT_LIST,
  type Draft,
  type Frame,
  type Key,
  type NewMessage,
  type PageBody,
  type SendResult,
  STATUS_OF,
} from "./wire.ts";

/** An HTTP answer: its status and parsed body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** How a project reaches the server. */
export interface Transport {
  /** Users whose sockets and requests carry the `moderate` scope (protocol 1.2). */
  readonly moderators: ReadonlySet<string>;
  /** Opens a socket as `user` on `channel` (its hello not yet read). */
  open(channel: string, user: string): Promise<Client>;
  /** POSTs a batch; answers the status and the parsed body. */
  post(channel: string, messages: readonly NewMessage[]): Promise<Answer>;
  /** Protocol 1.2: POSTs changes made by `user`. */
  postChanges(channel: string, user: string, changes: readonly Change[]): Promise<Answer>;
}

/** A write sent with others at once: a socket's `send` or `change`, or changes over HTTP as `user`. */
export type Concurrent =
  | { readonly peer: Peer; readonly send: readonly Draft[] }
  | { readonly peer: Peer; readonly change: readonly Change[] }
  | { readonly user: string; readonly change: readonly Change[] };

/** A concurrent write's reply and where its arrivals put it: seqs first…last; `seq` its group's. */
interface Placed {
  readonly index: number;
  readonly reply: unknown;
  readonly first: number;
  readonly last: number;
  readonly seq: number;
}

/** Places a reply (`sent`, `changed` or an HTTP changes answer) by the seqs of its arrivals. */
function placed(index: number, reply: unknown): Placed {
  const { results, seq } = reply as { results?: (SendResult | ChangeResult)[]; seq?: number };
  const arrivals = (results ?? []).flatMap((r) =>
    ("duplicate" in r ? !r.duplicate : r.outcome === "applied" || r.outcome === "pending")
      ? [r.seq as number]
      : [],
  );
  if (arrivals.length === 0 || seq === undefined) {
    throw new Error(`write ${index}: no arrival to place it by in ${JSON.stringify(reply)}`);
  }
  return { index, reply, first: Math.min(...arrivals), last: Math.max(...arrivals), seq };
}

/** What a write of changes got: its results, or the error that refused it whole. */
export type ChangeOutcome = { results: ChangeResult[] } | { forbidden: number };

/** One open socket and the model of it. */
export interface Peer {
  readonly client: Client;
  readonly socket: SocketModel;
}

export class Harness {
  readonly channel: string;
  readonly model = new ChannelModel();
  readonly peers: Peer[] = [];
  /** What each socket was pushed for the last write (or wave of writes) checked. */
  pushed = new Map<SocketModel, Frame[]>();
  /** Frames and answers received and compared with the model's so far. */
  compared = 0;
  readonly #transport: Transport;
  #rids = 0;

  constructor(channel: string, transport: Transport) {
    this.channel = channel;
    this.#transport = transport;
  }

  #rid(kind: string): string {
    return `${kind}-${++this.#rids}`;
  }

  /** Opens a socket and checks its hello. */
  async connect(user: string): Promise<Peer> {
    const client = await this.#transport.open(this.channel, user);
    const hello = await client.next("hello");
    this.model.connect(user);
    this.compared++;
    expect(hello).toEqual({
      type: "hello",
      protocol: 1,
      minor: 2,
      channel: this.channel,
      user,
      total: this.model.total,
      ...this.model.counts(user),
      read: this.model.places.marker(user),
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

  /** Declares a view and checks the reply, and the badge on every other socket. */
  async declare(peer: Peer, first: Key | null, last: Key | null, live: boolean): Promise<void> {
    await this.#counted(peer, { type: "view", first, last, live }, (rid) => {
      peer.socket.view = { first, last, live };
      this.model.seeRange(peer.socket.user, first, last);
      return this.#viewReply(peer, rid);
    });
  }

  /** `late.ack`: checks the reply, and the badge on every other socket. */
  async ack(peer: Peer): Promise<void> {
    await this.#counted(peer, { type: "late.ack" }, (rid) => {
      this.model.places.lateAck(peer.socket.user);
      return this.#viewReply(peer, rid);
    });
    expect(this.model.lateUnread(peer.socket.user)).toBe(0);
  }

  /** Protocol 1.2 `reactions.ack`: checks the reply, and the badge on every other socket. */
  async reactionsAck(peer: Peer): Promise<void> {
    await this.#counted(peer, { type: "reactions.ack" }, (rid) => {
      this.model.places.reactionsAck(peer.socket.user);
      return this.#viewReply(peer, rid);
    });
    expect(this.model.counts(peer.socket.user).reactionsUnread).toBe(0);
  }

  /** Protocol 1.1 `resume`: checks the reply against the model's replay; returns it. */
  async resume(peer: Peer, since: number, view: Declared): Promise<Frame> {
    return this.#counted(peer, { type: "resume", since, ...view }, (rid) => ({
      ...this.model.resume(peer.socket, since, view),
      rid,
    }));
  }

  /** The `view` reply: the user's counts now. */
  #viewReply(peer: Peer, rid: string): Frame {
    return { type: "view", rid, ...this.model.counts(peer.socket.user), seq: this.model.seq };
  }

  /**
   * Sends a frame that may change its user's counts, checks its reply (the
   * model's, made by `expected` once the model has done the same), and the
   * cross-tab badge on every other socket; answers the reply.
   */
  async #counted(
    peer: Peer,
    frame: Record<string, unknown> & { type: string },
    expected: (rid: string) => Frame,
  ): Promise<Frame> {
    const rid = this.#rid(frame.type);
    const { reply, others } = await peer.client.call(frame, rid);
    const before = this.model.counts(peer.socket.user);
    expect(others).toEqual([]);
    expect(reply).toEqual(expected(rid));
    this.compared++;
    const sockets = this.#sockets();
    await this.#expectOthers(peer, this.model.badgeChanged(peer.socket, sockets, before));
    return reply;
  }

  /**
   * Protocol 1.2 `read`: checks the reply (or `not_found`), and that the
   * user's other sockets hear of a marker that moved, and nobody else of
   * anything.
   */
  async read(peer: Peer, id: string): Promise<Frame> {
    const rid = this.#rid("read");
    const { reply, others } = await peer.client.call({ type: "read", id }, rid);
    expect(others).toEqual([]);
    const outcome = this.model.read(peer.socket.user, id);
    if (outcome === "not_found") {
      expect(reply).toMatchObject({ type: "error", rid, code: "not_found" });
      this.compared++;
      await this.#expectOthers(peer, new Map());
      return reply;
    }
    const { read, unread, moved } = outcome;
    expect(reply).toEqual({ type: "read", rid, read, unread, seq: this.model.seq });
    this.compared++;
    const sockets = this.#sockets();
    await this.#expectOthers(
      peer,
      moved ? this.model.markerMoved(peer.socket, sockets) : new Map(),
    );
    return reply;
  }

  /** Protocol 1.2 `reactions.list`: checks the reply against the model's list. */
  async reactionsList(peer: Peer, limit?: number): Promise<Frame> {
    const rid = this.#rid("rlist");
    const frame =
      limit === undefined ? { type: "reactions.list" } : { type: "reactions.list", limit };
    const { reply, others } = await peer.client.call(frame, rid);
    expect(others).toEqual([]);
    const list = this.model.reactionsList(peer.socket.user, limit ?? DEFAULT_LIST);
    expect(reply).toEqual({ type: "reactions.list", rid, ...list });
    this.compared++;
    return reply;
  }

  /** Protocol 1.2 `reactions.next`: checks the page (or `not_found`) against the model's. */
  async reactionsNext(peer: Peer, before?: number, after?: number): Promise<Frame> {
    const rid = this.#rid("rnext");
    const { reply, others } = await peer.client.call(
      { type: "reactions.next", before, after },
      rid,
    );
    expect(others).toEqual([]);
    const page = this.model.reactionsNext(peer.socket.user, before, after);
    if (page === "not_found")
      expect(reply).toMatchObject({ type: "error", rid, code: "not_found" });
    else expect(reply).toEqual({ type: "page", rid, ...page });
    this.compared++;
    return reply;
  }

  /**
   * Every other socket drained: those in `expected` got exactly their frame
   * (a cross-tab status), and nobody got anything else.
   */
  async #expectOthers(origin: Peer, expected: ReadonlyMap<SocketModel, Frame>): Promise<void> {
    await Promise.all(
      this.peers
        .filter((p) => p !== origin)
        .map(async (p) => {
          const frame = expected.get(p.socket);
          const label = `status on ${p.socket.user}'s socket after ${origin.socket.user}'s frame`;
          const got = await p.client.drain();
          expect(got, label).toEqual(frame ? [frame] : []);
          this.compared += got.length;
        }),
    );
  }

  /** Stores a batch over HTTP and checks the reply and every socket's pushes. */
  async post(drafts: readonly Draft[]): Promise<ReturnType<ChannelModel["batch"]>> {
    const { status, body } = await this.#transport.post(this.channel, drafts);
    expect(status).toBe(200);
    const outcome = await this.arrived(drafts);
    this.compared++;
    const inserted = outcome.results.filter((r) => !r.duplicate).length;
    expect(body).toEqual({
      inserted,
      duplicates: drafts.length - inserted,
      total: this.model.total,
    });
    return outcome;
  }

  /**
   * A batch the server stored by itself (a simulator tick) or over HTTP: the
   * model stores it too, and every socket's pushes are checked.
   */
  async arrived(drafts: readonly Draft[]): Promise<ReturnType<ChannelModel["batch"]>> {
    const outcome = this.model.batch(
      drafts,
      this.peers.map((p) => p.socket),
    );
    await this.#checkPushes(outcome.pushes);
    return outcome;
  }

  /** The actor a user's socket or request is: a moderator when the transport grants it. */
  actor(user: string): Actor {
    return { user, moderator: this.#transport.moderators.has(user) };
  }

  #sockets(): SocketModel[] {
    return this.peers.map((p) => p.socket);
  }

  /** Sends a batch from a socket and checks `sent` and every socket's pushes. */
  async send(from: Peer, drafts: readonly Draft[]): Promise<SendResult[]> {
    const outcome = await this.#write(from, "send", { messages: drafts }, { insert: drafts });
    return (outcome as { results: SendResult[] }).results;
  }

  /**
   * Protocol 1.2: sends changes from a socket as its user and checks the
   * `changed` reply (or the `forbidden` error that refuses the frame whole)
   * and every socket's pushes.
   */
  async change(from: Peer, changes: readonly Change[]): Promise<ChangeOutcome> {
    const actor = this.actor(from.socket.user);
    return (await this.#write(from, "change", { changes }, { actor, changes })) as ChangeOutcome;
  }

  async #write(
    from: Peer,
    type: "send" | "change",
    body: object,
    write: Write,
  ): Promise<WriteOutcome> {
    const rid = this.#rid(type);
    from.client.send({ type, rid, ...body });
    const { outcomes, pushes } = this.model.group([write], this.#sockets());
    const outcome = outcomes[0] as WriteOutcome;
    const frames = await from.client.drain();
    this.compared += frames.length;
    const replies = frames.filter((f) => "rid" in f && f.rid === rid);
    expect(replies, `the reply to ${rid}`).toEqual([this.#reply(type, rid, outcome)]);
    const own = frames.filter((f) => !replies.includes(f));
    expect(normalizePushes(own), `pushes to ${from.socket.user}, the writer`).toEqual(
      normalizePushes(pushes.get(from.socket) ?? []),
    );
    const others = new Map(pushes);
    others.delete(from.socket);
    await this.#checkPushes(others);
    this.pushed = pushes;
    return outcome;
  }

  /** The reply the model expects to a socket's write. */
  #reply(type: "send" | "change", rid: string, outcome: WriteOutcome): Frame {
    if ("forbidden" in outcome) return { type: "error", rid, ...forbidden(outcome.forbidden) };
    const { total, seq } = this.model;
    return type === "send"
      ? { type: "sent", rid, results: outcome.results as SendResult[], total, seq }
      : { type: "changed", rid, results: outcome.results as ChangeResult[], total, seq };
  }

  /** Protocol 1.2: POSTs changes as `user` and checks the answer and every socket's pushes. */
  async postChanges(user: string, changes: readonly Change[]): Promise<ChangeOutcome> {
    const answer = await this.#transport.postChanges(this.channel, user, changes);
    const write = { actor: this.actor(user), changes };
    const { outcomes, pushes } = this.model.group([write], this.#sockets());
    const outcome = outcomes[0] as ChangeOutcome;
    expect(answer, `POST changes as ${user}`).toEqual(this.#answer(outcome));
    this.compared++;
    await this.#checkPushes(pushes);
    return outcome;
  }

  /** The HTTP answer the model expects to changes. */
  #answer(outcome: ChangeOutcome): Answer {
    if ("forbidden" in outcome) {
      return { status: STATUS_OF.forbidden, body: { error: forbidden(outcome.forbidden) } };
    }
    return {
      status: 200,
      body: { results: outcome.results, total: this.model.total, seq: this.model.seq },
    };
  }

  /**
   * Sends writes all at once, so that the server stores them in groups of
   * its own making, then checks every reply and every socket's pushes
   * against the model storing the same groups. The replies tell the groups:
   * each write's arrivals are a run of seqs, so each must have one (a
   * marker: a new message, or a change of an id never sent); every reply of
   * a group carries the group's last seq. `sent` runs once every write is
   * on its way (e.g. to release a held commit). Answers the number of groups.
   */
  async concurrently(writes: readonly Concurrent[], sent?: () => Promise<void>): Promise<number> {
    const rids = writes.map((w, i) => {
      if (!("peer" in w)) return undefined;
      const rid = this.#rid(`w${i}`);
      const [type, body] =
        "send" in w ? ["send", { messages: w.send }] : ["change", { changes: w.change }];
      w.peer.client.send({ type, rid, ...body });
      return rid;
    });
    const http = writes.map((w) =>
      "user" in w ? this.#transport.postChanges(this.channel, w.user, w.change) : undefined,
    );
    await sent?.();
    const got = new Map<Peer, Frame[]>(this.peers.map((p) => [p, []]));
    const replies: Placed[] = [];
    for (const [i, w] of writes.entries()) {
      if ("peer" in w) {
        const frames = got.get(w.peer) as Frame[];
        let reply = await w.peer.client.next();
        while (!("rid" in reply) || reply.rid !== rids[i]) {
          frames.push(reply);
          reply = await w.peer.client.next();
        }
        replies.push(placed(i, reply));
      } else {
        const { status, body } = (await http[i]) as Answer;
        expect(status, `POST changes as ${w.user}`).toBe(200);
        replies.push(placed(i, body));
      }
    }
    // Every group is stored and pushed by the time its replies are out.
    for (const [peer, frames] of got) frames.push(...(await peer.client.drain()));
    this.compared += replies.length;
    for (const frames of got.values()) this.compared += frames.length;
    const ends = [...new Set(replies.map((r) => r.seq))].sort((a, b) => a - b);
    const expected = new Map<Peer, Frame[]>(this.peers.map((p) => [p, []]));
    let from = 0;
    let placedInGroups = 0;
    for (const end of ends) {
      const group = replies
        .filter((r) => r.first > from && r.last <= end)
        .sort((a, b) => a.first - b.first);
      from = end;
      placedInGroups += group.length;
      const toWrite = (i: number): Write => {
        const w = writes[i] as Concurrent;
        if ("send" in w) return { insert: w.send };
        return { actor: this.actor("peer" in w ? w.peer.socket.user : w.user), changes: w.change };
      };
      const { outcomes, pushes } = this.model.group(
        group.map((r) => toWrite(r.index)),
        this.#sockets(),
      );
      group.forEach((r, k) => {
        const w = writes[r.index] as Concurrent;
        const outcome = outcomes[k] as WriteOutcome;
        const want =
          "user" in w
            ? (this.#answer(outcome as ChangeOutcome).body as object)
            : this.#reply("send" in w ? "send" : "change", rids[r.index] as string, outcome);
        expect(r.reply, `the reply to write ${r.index} of the group ending at ${end}`).toEqual(
          want,
        );
      });
      for (const peer of this.peers) expected.get(peer)?.push(...(pushes.get(peer.socket) ?? []));
    }
    expect(placedInGroups, "every write in a group").toBe(replies.length);
    expect(replies.every((r) => ends.includes(r.seq))).toBe(true);
    this.pushed = new Map(this.peers.map((p) => [p.socket, expected.get(p) ?? []]));
    for (const peer of this.peers) {
      expect(normalizePushes(got.get(peer) ?? []), `pushes to ${peer.socket.user}`).toEqual(
        normalizePushes(expected.get(peer) ?? []),
      );
    }
    return ends.length;
  }

  async #checkPushes(pushes: Map<SocketModel, Frame[]>): Promise<void> {
    this.pushed = new Map(pushes);
    await Promise.all(
      this.peers
        .filter((p) => pushes.has(p.socket))
        .map(async (p) => {
          const got = await p.client.drain();
          this.compared += got.length;
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
    const rid = this.#rid("page");
    const { reply, others } = await peer.client.call(frame, rid);
    expect(others).toEqual([]);
    const expected = this.model.page(anchor, before, after, peer.socket.user);
    if (expected === "not_found") {
      expect(reply).toMatchObject({ type: "error", rid, code: "not_found" });
      throw new Error("page: asked for an unknown id");
    }
    expect(reply).toEqual({ type: "page", rid, ...expected });
    this.compared++;
    return expected;
  }
}

/** A `forbidden` error naming the change refused (its message starts `changes[i]`). */
function forbidden(index: number): { code: "forbidden"; message: string } {
  const message = expect.stringMatching(new RegExp(`^changes\\[${index}\\]`)) as unknown;
  return { code: "forbidden", message: message as string };
}
