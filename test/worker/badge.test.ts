/**
 * Protocol 1.1, "One user, many sockets": when a `view`, `resume` or
 * `late.ack` on one socket changes the user's lateUnread, each of the user's
 * other sockets gets `{ type: "status", total, lateUnread, shifted: 0, seq }`
 * (no `latest`), the sender its reply only, and other users' sockets nothing.
 * The harness drains every socket after each of these and compares with the
 * kit's model; each test also asserts the count did change, so the status
 * it expects is really there.
 */
import { afterEach, describe, expect, it } from "vitest";
import { seriesKey as key, msg, series } from "../support/data.ts";
import type { Harness } from "../support/harness.ts";
import { closeAll } from "../support/socket.ts";
import { harness } from "./net.ts";

afterEach(closeAll);

/** Two sockets of alice, one of bob, and late arrivals none of them holds. */
async function tabs(channel: string) {
  const h = harness(channel);
  await h.post(series(200));
  const tab1 = await h.connect("alice");
  const tab2 = await h.connect("alice");
  const bob = await h.connect("bob");
  await h.post([20, 40, 60, 120].map((i) => msg(`late-${i}`, key(i).ts + 1)));
  expect(h.model.lateUnread("alice")).toBe(4);
  expect(h.model.lateUnread("bob")).toBe(4);
  return { h, tab1, tab2, bob };
}

/** Pins the model's count, so each step is known to have changed it (a status was due) or not. */
function expectBadge(h: Harness, user: string, count: number): void {
  expect(h.model.lateUnread(user)).toBe(count);
}

describe("one badge across a user's sockets", () => {
  it("tells the user's other sockets when a view changes the count, and nobody else", async () => {
    const { h, tab1, tab2 } = await tabs("badge-view");
    await h.declare(tab1, key(10), key(50), false); // sees late-20 and late-40
    expectBadge(h, "alice", 2);
    await h.declare(tab2, key(100), null, true); // sees late-120
    expectBadge(h, "alice", 1);
    // A view with no unread late message in it changes nothing: no status anywhere.
    await h.declare(tab1, key(150), key(160), false);
    expectBadge(h, "alice", 1);
    expectBadge(h, "bob", 4);
  });

  it("tells the user's other sockets when late.ack clears the count", async () => {
    const { h, tab2, bob } = await tabs("badge-ack");
    await h.ack(tab2);
    expectBadge(h, "alice", 0);
    await h.ack(tab2); // nothing left to clear: no status
    await h.ack(bob);
    expectBadge(h, "bob", 0);
  });

  it("tells the user's other sockets when a resume changes the count", async () => {
    const { h, tab1 } = await tabs("badge-resume");
    const since = h.model.seq;
    await h.post([msg("later", key(61).ts + 1), msg("bottom", 9e6)]);
    await h.resume(tab1, since, { first: key(50), last: key(70), live: false });
    expectBadge(h, "alice", 3); // late-60 by the view, later by the replay
    await h.resume(tab1, since, { first: key(0), last: null, live: true });
    expectBadge(h, "alice", 0);
  });

  it("keeps the badge in step across the user's sockets under pushes, views and acks", async () => {
    const { h, tab1, tab2, bob } = await tabs("badge-mixed");
    await h.declare(tab2, key(0), key(30), false);
    await h.post([msg("late-25", key(25).ts + 1), msg("late-90", key(90).ts + 1)]);
    await h.declare(bob, key(80), key(130), false);
    await h.declare(tab1, key(85), key(95), false);
    await h.ack(bob);
    // late-40, late-60, late-120: late-20 by tab2's view, late-25 pushed to it, late-90 by tab1's.
    expectBadge(h, "alice", 3);
  });
});
