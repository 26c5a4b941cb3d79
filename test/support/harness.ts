/**
 * A channel driven by a test: every operation goes to the server and to the
 * model, and every reply and push is compared with the model's. The harness
 * reaches the server through a {@link Transport}, so the same checks run in
 * the Workers runtime and against a real `wrangler dev`.
 */
import { expect } from "vitest";
import { ChannelModel, type Declared, normalizePushes } from "./model.ts";
import type { Client } from "./socket.ts";
import { initialView, type SocketModel } from "./views.ts";
import type { Anchor, Draft, Frame, Key, NewMessage, PageBody, SendResult } from "./wire.ts";

/** How a project reaches the server. */
export interface Transport {
  /** Opens a socket as `user` on `channel` (its hello not yet read). */
  open(channel: string, user: string): Promise<Client>;
  /** POSTs a batch; answers the status and the parsed body. */
  post(
    channel: string,
    messages: readonly NewMessage[],
  ): Promise<{ status: number; body: unknown }>;
}

/** One open socket and the model of it. */
export interface Peer {
  readonly client: Client;
  readonly socket: SocketModel;
}

export class Harness {
  readonly channel: string;
  readonly model = new ChannelModel();
  readonly peers: Peer[] = [];
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
    expect(hello).toEqual({
      type: "hello",
      protocol: 1,
      minor: 2,
      channel: this.channel,
      user,
      total: this.model.total,
      ...this.model.counts(user),
      read: null,
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
    const rid = this.#rid("view");
    const { reply, others } = await peer.client.call({ type: "view", first, last, live }, rid);
    const before = this.model.unread(peer.socket.user);
    peer.socket.view = { first, last, live };
    this.model.seeRange(peer.socket.user, first, last);
    expect(others).toEqual([]);
    const counts = this.model.counts(peer.socket.user);
    expect(reply).toEqual({ type: "view", rid, ...counts, seq: this.model.seq });
    await this.#checkBadges(peer, before);
  }

  /** `late.ack`: checks the reply, and the badge on every other socket. */
  async ack(peer: Peer): Promise<void> {
    const rid = this.#rid("ack");
    const { reply, others } = await peer.client.call({ type: "late.ack" }, rid);
    const before = this.model.unread(peer.socket.user);
    this.model.ack(peer.socket.user);
    expect(others).toEqual([]);
    const counts = this.model.counts(peer.socket.user);
    expect(counts.lateUnread).toBe(0);
    expect(reply).toEqual({ type: "view", rid, ...counts, seq: this.model.seq });
    await this.#checkBadges(peer, before);
  }

  /** Protocol 1.1 `resume`: checks the reply against the model's replay; returns it. */
  async resume(peer: Peer, since: number, view: Declared): Promise<Frame> {
    const rid = this.#rid("resume");
    const { reply, others } = await peer.client.call({ type: "resume", since, ...view }, rid);
    const before = this.model.unread(peer.socket.user);
    const expected = this.model.resume(peer.socket, since, view);
    expect(others).toEqual([]);
    expect(reply).toEqual({ ...expected, rid });
    await this.#checkBadges(peer, before);
    return reply;
  }

  /**
   * Every other socket drained: those of the same user got the `status` of a
   * badge change when the count changed, and nobody got anything else.
   */
  async #checkBadges(origin: Peer, before: number): Promise<void> {
    const sockets = this.peers.map((p) => p.socket);
    const expected = this.model.badgeChanged(origin.socket, sockets, before);
    await Promise.all(
      this.peers
        .filter((p) => p !== origin)
        .map(async (p) => {
          const frame = expected.get(p.socket);
          const label = `badge on ${p.socket.user}'s socket after ${origin.socket.user}'s change`;
          expect(await p.client.drain(), label).toEqual(frame ? [frame] : []);
        }),
    );
  }

  /** Stores a batch over HTTP and checks the reply and every socket's pushes. */
  async post(drafts: readonly Draft[]): Promise<ReturnType<ChannelModel["batch"]>> {
    const { status, body } = await this.#transport.post(this.channel, drafts);
    expect(status).toBe(200);
    const outcome = await this.arrived(drafts);
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

  /** Sends a batch from a socket and checks `sent` and every socket's pushes. */
  async send(from: Peer, drafts: readonly Draft[]): Promise<SendResult[]> {
    const rid = this.#rid("send");
    from.client.send({ type: "send", rid, messages: drafts });
    const { results, pushes } = this.model.batch(
      drafts,
      this.peers.map((p) => p.socket),
    );
    const frames = await from.client.drain();
    const sent = frames.filter((f) => f.type === "sent");
    const { total, seq } = this.model;
    expect(sent).toEqual([{ type: "sent", rid, results, total, seq }]);
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
    const rid = this.#rid("page");
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
