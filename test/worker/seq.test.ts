/**
 * Protocol 1.1's seq watermark: the seq of the latest arrival (0 when empty)
 * on hello, page (socket and HTTP), insert, status, sent, the view and
 * late.ack replies, and GET stats, as it was when each was made. The harness
 * compares every frame with the kit's model, which computes seq itself; this
 * suite walks through each kind, and batches that store nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { seriesKey as key, msg, series } from "../support/data.ts";
import { closeAll } from "../support/socket.ts";
import type { PageBody } from "../support/wire.ts";
import { withoutAudience } from "../support/wire.ts";
import { api, harness, postMessages, stats } from "./net.ts";

afterEach(closeAll);

describe("seq watermark", () => {
  it("carries the latest arrival's seq on every frame and answer that has one", async () => {
    const h = harness("seq-all");
    const alice = await h.connect("alice"); // hello: seq 0
    expect(withoutAudience(await stats(h.channel))).toEqual(
      withoutAudience(h.model.stats(h.channel)),
    );
    await h.page(alice, "newest"); // empty page: seq 0
    await h.post(series(30)); // insert and status: seq 30
    const bob = await h.connect("bob"); // hello: seq 30
    await h.send(bob, [msg("late", key(3).ts + 1), msg("new", 5e6)]); // sent: seq 32
    await h.declare(bob, key(0), key(5), false); // view reply: seq 32
    await h.ack(alice); // late.ack reply: seq 32
    await h.page(alice, { position: 3 }, 2, 2);
    // Duplicates only: sent, nothing stored, the watermark stays.
    await h.send(bob, [msg("late", 1), msg("m00001", 2)]);
    expect(h.model.seq).toBe(32);
    // A refused batch stores nothing and moves nothing.
    const refused = await postMessages(h.channel, [msg("ok", 1), { ...msg("bad", 2), text: "" }]);
    expect(refused.status).toBe(400);
    for (const anchor of ["newest", "oldest", "pos:10", "id:late", "ts:0"]) {
      const res = await api(`/v1/channels/${h.channel}/messages?anchor=${anchor}&before=3&after=3`);
      const model = h.model.page(
        anchor === "newest" || anchor === "oldest"
          ? anchor
          : anchor.startsWith("pos:")
            ? { position: 10 }
            : anchor.startsWith("id:")
              ? { id: "late" }
              : { ts: 0 },
        3,
        3,
      );
      expect((await res.json()) as PageBody).toEqual(model);
    }
    expect(withoutAudience(await stats(h.channel))).toEqual(
      withoutAudience(h.model.stats(h.channel)),
    );
    expect(h.model.stats(h.channel).seq).toBe(32);
  });
});
