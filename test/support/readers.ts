/**
 * Readers: sockets whose client holds a page and declares exactly it as its
 * view (docs/protocol.md, "Applying pushes to a window"), then applies the
 * pushes, or comes back with `resume`, the way the protocol says. After
 * each step what it holds must equal a fresh page over the same range, read
 * on its own socket (so reactions carry its `mine`).
 */
import { expect } from "vitest";
import type { Harness, Peer } from "./harness.ts";
import { Held } from "./held.ts";
import type { Declared } from "./model.ts";
import type { Anchor, ResumedFrame } from "./wire.ts";

export interface Reader {
  readonly peer: Peer;
  readonly held: Held;
  readonly view: Declared;
}

/** Connects `user`, pages around `anchor` and declares the page as the socket's view. */
export async function reader(
  h: Harness,
  user: string,
  anchor: Anchor,
  [before, after]: readonly [number, number],
  live: boolean,
): Promise<Reader> {
  const peer = await h.connect(user);
  const held = new Held(await h.page(peer, anchor, before, after));
  const view = { first: held.first, last: held.last, live };
  await h.declare(peer, view.first, view.last, view.live);
  return { peer, held, view };
}

/** Asserts the reader holds what a fresh page over its range says; answers the messages checked. */
export async function expectFresh(h: Harness, r: Reader): Promise<number> {
  const { held } = r;
  held.expectEquals(await h.page(r.peer, { id: held.first.id }, 0, held.messages.length - 1));
  return held.messages.length;
}

/** Applies the last write's pushes to each reader and checks it; answers the messages checked. */
export async function follow(h: Harness, readers: readonly Reader[]): Promise<number> {
  let checks = 0;
  for (const r of readers) {
    r.held.applyBatch(h.pushed.get(r.peer.socket) ?? []);
    checks += await expectFresh(h, r);
  }
  return checks;
}

/**
 * Closes nothing: the reader's old socket is gone already. Comes back on a
 * new socket with `resume` from the last seq it applied and its view, applies
 * the complete reply and checks what it holds.
 */
export async function comeBack(h: Harness, r: Reader): Promise<Reader & { reply: ResumedFrame }> {
  const peer = await h.connect(r.peer.socket.user);
  const reply = await h.resume(peer, r.held.seq, r.view);
  if (reply.type !== "resumed") throw new Error(`expected resumed, got ${reply.type}`);
  expect(reply.complete, "a complete replay").toBe(true);
  r.held.apply(reply);
  const back = { ...r, peer, reply };
  await expectFresh(h, back);
  return back;
}
