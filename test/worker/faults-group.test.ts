/**
 * Faults found from outside (issue 19), each at its depth: a simulator tick
 * waiting in its group must not undo a stop or restart stored meanwhile; a
 * group holds at most MAX_GROUP_MESSAGES; the next group waits for every
 * commit under way; a socket's frame chain survives a task that rejects.
 * Each test drives the writer's commit gate by hand (a `sync` that resolves
 * when the test says), so nothing depends on timing.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Simulator } from "../../src/channel/simulator.ts";
import { Sockets } from "../../src/channel/sockets.ts";
import { ChannelStore } from "../../src/channel/store.ts";
import {
  inserting,
  MAX_GROUP_MESSAGES,
  MAX_GROUP_WRITES,
  Writer,
} from "../../src/channel/writer.ts";
import { msg, series } from "../support/data.ts";
import { channelStub } from "./net.ts";

/** A writer whose commits become durable only when the test resolves them, in order. */
function gatedWriter(store: ChannelStore) {
  const commits: (() => void)[] = [];
  const durable = () => new Promise<void>((resolve) => commits.push(resolve));
  // No sockets here: a stored group's pushes go nowhere.
  return {
    writer: new Writer(
      store,
      () => {},
      durable,
      () => {},
    ),
    commits,
  };
}

/** Lets every settled promise run its callbacks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("a simulator tick behind group commit", () => {
  for (const meanwhile of ["stop", "restart"] as const) {
    it(`keeps a ${meanwhile} stored while the tick waited in its group`, async () => {
      await runInDurableObject(channelStub(`sim-gated-${meanwhile}`), async (_i, state) => {
        const store = new ChannelStore(state.storage);
        const { writer, commits } = gatedWriter(store);
        const simulator = new Simulator(store, state.storage, (write) => writer.write(write));
        const t0 = 1_800_000_000_000;
        await simulator.start({ rate: 5, tickMs: 1_000, seed: 3 }, t0);
        // A write made while idle stores at once; its commit is now under way,
        // so the tick's write waits for it in the next group.
        await writer.write(inserting([msg("other", 1)]));
        const tick = simulator.tick(t0 + 3_500);
        await settle();
        const restartAt = t0 + 10_000;
        if (meanwhile === "stop") await simulator.stop();
        else await simulator.start({ rate: 7 }, restartAt);
        const expected = simulator.state();
        commits[0]?.();
        await tick;
        const after = simulator.state();
        // What the stop or restart wrote stands; the tick only added its counts.
        expect(after.running).toBe(expected.running);
        expect(after.settings).toEqual(expected.settings);
        expect(after.counters.inserted).toBeGreaterThan(0);
        const alarm = await state.storage.getAlarm();
        if (meanwhile === "stop") {
          expect(after.running).toBe(false);
          expect(alarm).toBeNull();
        } else {
          expect(after.settings.rate).toBe(7);
          // The restart's own schedule: its first tick, not the old run's next one.
          expect(alarm).toBe(restartAt + 1_000);
          const persisted = JSON.parse(store.meta.get("simulator") ?? "{}") as {
            run: number;
            nextTick: number;
            start: number;
          };
          expect(persisted).toMatchObject({ run: 2, nextTick: 0, start: restartAt });
        }
      });
    });
  }
});

describe("group bounds", () => {
  it(`starts the next group rather than pass ${MAX_GROUP_MESSAGES.toLocaleString("en")} messages`, async () => {
    await runInDurableObject(channelStub("group-bound-messages"), async (_i, state) => {
      const store = new ChannelStore(state.storage);
      const { writer, commits } = gatedWriter(store);
      await writer.write(inserting([msg("first", 1)]));
      const size = Math.ceil((MAX_GROUP_MESSAGES * 3) / 5); // two of them pass the bound
      const a = writer.write(inserting(series(size, 10, 1, "a")));
      let bSettled = false;
      const b = writer.write(inserting(series(size, 10, 1, "b"))).finally(() => {
        bSettled = true;
      });
      await settle();
      // `a` went out as a group of its own when `b` would have passed the bound …
      expect((await a).total).toBe(1 + size);
      expect(bSettled).toBe(false);
      // … and `b` waits for the commits under way, then forms the next group.
      for (const commit of commits) commit();
      await settle();
      for (const commit of commits) commit();
      expect((await b).total).toBe(1 + 2 * size);
    });
  });

  it("holds the next group until every commit under way is durable", async () => {
    await runInDurableObject(channelStub("group-bound-commits"), async (_i, state) => {
      const store = new ChannelStore(state.storage);
      const { writer, commits } = gatedWriter(store);
      await writer.write(inserting([msg("first", 1)]));
      // A full queue is stored at once, while the first commit is still under way.
      const full = Array.from({ length: MAX_GROUP_WRITES }, (_, i) =>
        writer.write(inserting([msg(`w${i}`, 10 + i)])),
      );
      await Promise.all(full);
      expect(commits).toHaveLength(2);
      let lateSettled = false;
      const late = writer.write(inserting([msg("late", 5_000)])).finally(() => {
        lateSettled = true;
      });
      commits[0]?.();
      await settle();
      // The full group's commit is still under way: the write waits for it too.
      expect(lateSettled).toBe(false);
      commits[1]?.();
      expect((await late).total).toBe(MAX_GROUP_WRITES + 2);
    });
  });
});

describe("a socket's frame chain", () => {
  it("answers a task that rejects and runs the socket's later frames", async () => {
    const sockets = new Sockets(
      { getWebSockets: () => [], acceptWebSocket: () => {} },
      { rate: 200, burst: 400 },
    );
    const ws = {} as WebSocket;
    const failures: unknown[] = [];
    const ran: string[] = [];
    const first = sockets.inOrder(
      ws,
      async () => {
        throw new Error("boom");
      },
      (err) => failures.push(err),
    );
    const second = sockets.inOrder(
      ws,
      async () => {
        ran.push("second");
      },
      (err) => failures.push(err),
    );
    await Promise.all([first, second]);
    expect(failures).toHaveLength(1);
    expect(ran).toEqual(["second"]);
  });
});
