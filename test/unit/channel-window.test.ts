/**
 * ChannelWindow (src/client/channel-window.ts) over a fake client that
 * plays the channel model of window-model.ts: pages, declarations by
 * `resume` and the pushes of each group for the declared view. Groups of
 * inserts, deletes, edits and reactions land above, inside and below the
 * window while it follows the bottom (trimming its top) or is parked where
 * the reader is; after each, the window equals the model and the reader
 * still sees the same row.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChannelWindow } from "../../src/client/channel-window.ts";
import { ScrollbackError } from "../../src/client/errors.ts";
import type { ScrollbackClient } from "../../src/client/socket-client.ts";
import type { Anchor, Message } from "../../src/protocol/schemas.ts";
import { mulberry32, randInt } from "../support/random.ts";
import { fakeEvents } from "./fake-events.ts";
import { sameAsModel } from "./window-harness.ts";
import { type Action, ChannelModel, type DeclaredView, ME } from "./window-model.ts";

/** Lets every promise chain of the window settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** The server side of one socket: the model, the declared view, the pushes. */
function fakeServer(model: ChannelModel) {
  const { on, emit } = fakeEvents();
  let view: DeclaredView = { first: null, last: null, live: true };
  let resumes = 0;
  const client = {
    on,
    async page(request: { anchor: Anchor; before?: number; after?: number }) {
      const { anchor } = request;
      if (anchor === "first_unread") {
        const first = model.reader.firstUnread();
        const page = model.page(
          first ?? model.list.length - 1,
          request.before ?? 25,
          request.after ?? 25,
        );
        return first === null ? page : { ...page, firstUnread: first };
      }
      const at =
        anchor === "newest"
          ? model.list.length - 1
          : anchor === "oldest"
            ? 0
            : "id" in anchor
              ? model.positionOf(anchor.id)
              : "position" in anchor
                ? anchor.position
                : 0;
      return model.page(at, request.before ?? 25, request.after ?? 25);
    },
    async resume(request: DeclaredView & { since: number }) {
      resumes++;
      view = { first: request.first, last: request.last, live: request.live };
      return model.resumed(view, request.since, 1_000);
    },
    async read(id: string) {
      reads.push(id);
      const m = model.list[model.positionOf(id)];
      if (!m) throw new ScrollbackError("not_found", `no message ${id}`);
      model.reader.read(m);
      return { read: model.reader.marker, unread: model.reader.counts().unread, seq: model.seq };
    },
  };
  const reads: string[] = [];
  return {
    client: client as unknown as ScrollbackClient,
    resumes: () => resumes,
    /** The ids of the `read` frames sent. */
    reads,
    emit,
    /** One stored group: its frames go to the window, for the view declared now. */
    group(actions: readonly Action[]) {
      model.begin();
      for (const action of actions) model.act(action);
      for (const frame of model.pushes(view, model.end())) emit(frame.type, frame as never);
    },
  };
}

describe("ChannelWindow with changes", () => {
  it("stays equal to the channel through changes above, inside and below, live and parked", async () => {
    const rand = mulberry32(16);
    const model = new ChannelModel();
    model.insert(Array.from({ length: 300 }, (_, i) => 1_000 + i * 10));
    const server = fakeServer(model);
    const list = new ChannelWindow(server.client, { maxSize: 40, margin: 10 });
    await list.open(20);
    let ts = 10_000;
    let clock = 0;
    let checks = 0;
    let readerChecks = 0;
    for (let step = 0; step < 600; step++) {
      const w = list.window;
      // Live for a while (its top trimmed as the bottom grows), then parked here and there, then live again.
      if (step >= 200 && step % 100 === 0) {
        const from = randInt(rand, 0, model.list.length - 20);
        await list.show(from, from + 20);
      }
      if (step >= 200 && step % 100 === 50) {
        await list.show(Math.max(0, model.list.length - 20), model.list.length, true);
      }
      const span = Math.max(1, w.messages.length);
      // Where the reader is: a row inside the window.
      if (!w.live) list.window.setReader(w.start + randInt(rand, 0, span - 1));
      const reader = w.at(w.reader)?.id;
      const actions: Action[] = [];
      const near = () =>
        Math.min(model.list.length - 1, Math.max(0, w.start + randInt(rand, -15, span + 15)));
      for (let n = randInt(rand, 1, 5); n > 0; n--) {
        const target = model.list[near()];
        // Live, the bottom grows (and the top is trimmed); parked, as much is deleted as sent.
        const roll = w.live ? rand() * 1.3 - 0.3 : rand();
        if (roll < 0.3) {
          ts += 1;
          actions.push({ kind: "insert", ts: rand() < 0.7 ? ts : randInt(rand, 0, ts) });
        } else if (roll < 0.6 && target) actions.push({ kind: "delete", id: target.id });
        else if (roll < 0.8 && target)
          actions.push({ kind: "edit", id: target.id, text: `e${step}`, ts: ++clock });
        else if (target) {
          const user = rand() < 0.5 ? ME : "u1";
          actions.push({
            kind: "react",
            id: target.id,
            user,
            emoji: "👍",
            on: rand() < 0.7,
            ts: ++clock,
          });
        }
      }
      server.group(actions);
      await settle();
      if (list.window.frozen) continue;
      sameAsModel(list.window, model);
      checks++;
      if (reader !== undefined && list.window.indexOf(reader) >= 0 && !w.live) {
        expect(list.window.at(list.reader)?.id).toBe(reader);
        readerChecks++;
      }
      // Rows trimmed off the top are declared away before they pile up.
      expect(list.window.hiddenAbove).toBeLessThanOrEqual(40 + 15);
    }
    console.log(
      `channel window: ${checks} checks against the model, ${readerChecks} of the reader's row, ${server.resumes()} declarations`,
    );
    expect(checks).toBeGreaterThan(500);
    expect(readerChecks).toBeGreaterThan(100);
    list.dispose();
  });

  it("keeps what the reader sees still when rows above it are deleted", async () => {
    const model = new ChannelModel();
    model.insert(Array.from({ length: 100 }, (_, i) => 1_000 + i * 10));
    const server = fakeServer(model);
    const list = new ChannelWindow(server.client, { maxSize: 100, margin: 10 });
    // Rows 30… asked for, the reader on row 40.
    await list.show(30, 50, false, 40);
    const seen = list.window.at(list.reader)?.id;
    expect([list.reader, seen]).toEqual([40, model.list[40]?.id]);
    const above = model.list.slice(30, 33).map((m) => ({ kind: "delete" as const, id: m.id }));
    const itemIndex = list.window.firstItemIndex;
    server.group(above);
    await settle();
    sameAsModel(list.window, model);
    // The reader's row moved up three places; react-virtuoso's index of it did not change.
    expect([list.reader, list.window.at(list.reader)?.id]).toEqual([37, seen]);
    expect(list.window.firstItemIndex - itemIndex).toBe(3);
    server.group([{ kind: "delete", id: model.list[2]?.id as string }]);
    await settle();
    expect([list.reader, list.window.at(list.reader)?.id]).toEqual([36, seen]);
    list.dispose();
  });
});

describe("ChannelWindow's reader's place", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens at the first unread message and keeps it, unread and the marker right as messages arrive and vanish and the reader reads", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const rand = mulberry32(17);
    const model = new ChannelModel();
    model.insert(Array.from({ length: 300 }, (_, i) => 1_000 + i * 10));
    model.reader.read(model.list[200] as Message);
    const server = fakeServer(model);
    const list = new ChannelWindow(server.client, { maxSize: 80, margin: 10, readEveryMs: 250 });
    server.emit("hello", model.hello());
    await list.open({ at: "first_unread", rows: 20 });
    expect([list.firstUnread, list.reader, list.window.at(201)?.id]).toEqual([
      201,
      200,
      model.list[201]?.id,
    ]);
    let ts = 10_000;
    let checks = 0;
    let moved = 0;
    let bottom = 210;
    for (let step = 0; step < 400; step++) {
      const w = list.window;
      const actions: Action[] = [];
      for (let n = randInt(rand, 1, 4); n > 0; n--) {
        const roll = rand();
        // New messages at the bottom, late ones anywhere (before the marker too), deletes anywhere.
        if (roll < 0.3) actions.push({ kind: "insert", ts: ++ts });
        else if (roll < 0.6) actions.push({ kind: "insert", ts: randInt(rand, 0, ts) });
        else {
          const target = model.list[randInt(rand, 0, model.list.length - 1)];
          if (target) actions.push({ kind: "delete", id: target.id });
        }
      }
      server.group(actions);
      // The reader scrolls down a row or two at a time, now and then back up; the marker follows the bottom row.
      bottom = Math.min(w.total - 1, Math.max(0, bottom + randInt(rand, -1, 3)));
      await list.show(Math.max(0, bottom - 20), bottom + 1, bottom + 1 >= w.total);
      list.markRead(bottom);
      await vi.advanceTimersByTimeAsync(randInt(rand, 0, 300));
      await settle();
      if (list.window.frozen) continue;
      sameAsModel(list.window, model);
      const { reader } = model;
      expect([list.window.unread, list.firstUnread, list.window.read]).toEqual([
        reader.counts().unread,
        reader.firstUnread(),
        reader.marker,
      ]);
      if (list.firstUnread !== null && list.window.has(list.firstUnread)) moved++;
      checks++;
    }
    list.dispose();
    console.log(
      `channel window's reader's place: ${checks} checks of unread, firstUnread and the marker against the model, ` +
        `${moved} with the first unread message held, ${server.reads.length} reads sent`,
    );
    expect(checks).toBeGreaterThan(300);
    expect(moved).toBeGreaterThan(100);
    expect(server.reads.length).toBeGreaterThan(50);
  });
});
