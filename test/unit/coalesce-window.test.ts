/**
 * Push coalescing against the window (issue 18; docs/protocol.md, "Groups of
 * writes" and "Applying pushes to a window"): a socket that falls behind is
 * pushed the groups waiting for it as one `insert`/`remove`/`update`/`status`
 * set, which must leave its window exactly where the groups' own frames,
 * applied one group at a time, would.
 *
 * Random groups of writes (messages above, inside and below the window, on
 * time and late; deletes, edits and reactions, some held for a message that
 * arrives later; messages inserted and changed or deleted a few groups on)
 * are stored in the kit's model one by one, and the same writes in a second
 * model as random runs of consecutive groups, each run one group (as
 * test/support/merges.ts replays what a server merged). Two tabs of one user
 * (live at the bottom, or a range in the middle, some trimmed to hold less
 * than their view) each apply their frames to a MessageWindow
 * (src/client/window.ts) in both worlds from the same start. After every run
 * the windows of the two worlds are equal (start, messages, total, counts,
 * marker, rows remembered above), and each equals the model's slice.
 *
 * `seq` is compared by what the protocol promises, not for equality: a
 * window's `seq` is that of the last frame it applied, and a run's frames
 * carry the run's last seq; so the two differ exactly when the groups at
 * the end of a run pushed that socket nothing one by one (an edit below a
 * window ending the run) or when the run as a whole pushed it nothing (a
 * message inserted in one group and deleted in the next).
 */
import { afterAll, describe, expect, it } from "vitest";
import { MessageWindow } from "../../src/client/window.ts";
import type {
  InsertFrame,
  RemoveFrame,
  StatusFrame,
  UpdateFrame,
} from "../../src/protocol/schemas.ts";
import type { Actor } from "../support/change-rules.ts";
import { ChannelModel, type Stored, type Write, type WriteOutcome } from "../support/model.ts";
import { eachSeed, mulberry32, pick, pickWeighted, randInt } from "../support/random.ts";
import type { SocketModel } from "../support/views.ts";
import type { Change, Draft, Frame, WireMessage } from "../support/wire.ts";

const ME = "me";
const USERS = [ME, "u1", "u2"];
const EMOJI = ["👍", "🎉"];
const TEXTS = ["x", "y", "z"];
/** The seeded messages' ts step: room for late messages between them. */
const STEP = 1_000;

const seen = {
  runs: 0,
  merged: 0,
  checks: 0,
  frames: { one: 0, merged: 0 },
  seqDiffers: 0,
  pushedNothing: 0,
  outcomes: 0,
};
afterAll(() =>
  console.log(
    `coalescing against the window: ${seen.checks} window checks after ${seen.runs} runs ` +
      `(${seen.merged} of two or more groups); ${seen.frames.one} frames one group at a time, ` +
      `${seen.frames.merged} merged; ${seen.seqDiffers} checks where the seqs differ by groups ` +
      `that pushed nothing, ${seen.pushedNothing} merged runs that pushed a tab nothing; ` +
      `${seen.outcomes} write outcomes alike`,
  ),
);

/** One world: a model, the user's two sockets as the model sees them, and their windows. */
interface World {
  readonly model: ChannelModel;
  readonly sockets: SocketModel[];
  readonly windows: MessageWindow[];
  /** Per window: the seq of the last frame it was given. */
  readonly lastSeq: number[];
}

/** The start both worlds share, rebuilt from the seed alone. */
function start(seed: number): World {
  const rand = mulberry32(seed ^ 0x5eed);
  const model = new ChannelModel();
  const n = randInt(rand, 0, 40);
  model.store(
    Array.from({ length: n }, (_, i) => ({
      id: `s${String(i).padStart(3, "0")}`,
      ts: (i + 1) * STEP,
      author: pick(rand, USERS),
      text: `seed ${i}`,
    })),
  );
  model.connect(ME);
  const marked = model.sorted[randInt(rand, 0, n)];
  if (marked && rand() < 0.7) model.read(ME, marked.id);
  const sockets: SocketModel[] = [];
  const windows: MessageWindow[] = [];
  for (let tab = 0; tab < 2; tab++) {
    const live = n === 0 || rand() < 0.5;
    const size = randInt(rand, 1, 12);
    const from = live ? Math.max(0, n - size) : randInt(rand, 0, Math.max(0, n - 1));
    const page = model.page({ position: from }, 0, size - 1, ME);
    if (page === "not_found") throw new Error("no page");
    const w = new MessageWindow().replace(
      { ...page, messages: page.messages as InsertFrame["messages"] },
      { live: live && !page.hasNewer },
    );
    const view = w.view();
    sockets.push({ user: ME, view: { ...view } });
    model.seeRange(ME, view.first, view.last);
    // Holding less than the view: rows trimmed off the top stay in it, remembered.
    if (w.messages.length > 3 && rand() < 0.3) w.trim(w.messages.length - 2, w.end - 1);
    windows.push(w);
  }
  const counts = model.counts(ME);
  for (const w of windows) w.applyCounts({ ...counts, read: model.places.marker(ME) });
  return { model, sockets, windows, lastSeq: windows.map((w) => w.seq) };
}

/** The writes of groups, chosen against the one-by-one world as it is before each group. */
class Writer {
  readonly #rand: () => number;
  #next = 0;
  #clock = 0;
  /** Messages announced by changes held for them, to arrive later. */
  readonly #future: Draft[] = [];
  /** Ids inserted lately: changed or deleted a few groups on, often within one run. */
  readonly #fresh: string[] = [];

  constructor(seed: number) {
    this.#rand = mulberry32(seed);
  }

  group(world: World): Write[] {
    const rand = this.#rand;
    return Array.from({ length: randInt(rand, 1, 4) }, () => this.#write(world));
  }

  #write({ model, windows }: World): Write {
    const rand = this.#rand;
    const w = pick(rand, windows);
    const [, kind] = pickWeighted(rand, [
      [5, "insert"],
      [2, "delete"],
      [2, "edit"],
      [3, "react"],
      [1, "held"],
      [1, "arrive"],
      [2, "fresh"],
    ] as const);
    const present = (): Stored | undefined => {
      const [lo, hi] = pick(rand, [
        [0, w.start],
        [w.start, w.end],
        [w.end, model.total],
        [0, model.total],
      ] as const);
      return hi > lo ? model.sorted[randInt(rand, lo, hi - 1)] : model.sorted[0];
    };
    switch (kind) {
      case "insert":
        return { insert: Array.from({ length: randInt(rand, 1, 3) }, () => this.#draft(model, w)) };
      case "arrive": {
        const draft = this.#future.shift() ?? this.#draft(model, w);
        this.#fresh.push(draft.id);
        return { insert: [draft] };
      }
      case "held": {
        const draft = this.#draft(model, w);
        this.#future.push(draft);
        return this.#change(draft, pick(rand, ["edit", "react", "react", "delete"] as const));
      }
      case "fresh": {
        const id = this.#fresh.at(-randInt(rand, 1, 3));
        const m = id === undefined ? undefined : model.byId.get(id);
        return m ? this.#change(m, pick(rand, ["delete", "edit", "react"] as const)) : this.#noop();
      }
      default: {
        const m = present();
        return m ? this.#change(m, kind) : this.#noop();
      }
    }
  }

  /** A new message: late above, inside or below the window, or on time at the bottom. */
  #draft(model: ChannelModel, w: MessageWindow): Draft {
    const rand = this.#rand;
    const id = `n${String(this.#next++).padStart(4, "0")}`;
    const author = pick(rand, USERS);
    const newest = model.sorted.at(-1)?.ts ?? 0;
    const [lo, hi] = pick(rand, [
      [0, w.start],
      [w.start, w.end],
      [w.end, model.total],
      [model.total, model.total],
    ] as const);
    const near = hi > lo ? model.sorted[randInt(rand, lo, hi - 1)] : undefined;
    const ts = near ? near.ts + randInt(rand, -STEP / 2, STEP / 2) : newest + randInt(rand, 0, 2);
    this.#fresh.push(id);
    return { id, ts: Math.max(1, ts), author, text: `text ${id}` };
  }

  /** A change of `m` by someone allowed to make it (an author's edit, anyone's reaction, a delete). */
  #change(m: { id: string; author: string }, kind: Change["kind"]): Write {
    const rand = this.#rand;
    // Now and then an older stamp: a stale change, which pushes nothing.
    this.#clock += 2;
    const ts = this.#clock - randInt(rand, 0, 3);
    const author: Actor = { user: m.author, moderator: false };
    switch (kind) {
      case "delete":
        return {
          actor: rand() < 0.5 ? author : { user: "mod", moderator: true },
          changes: [{ kind, id: m.id }],
        };
      case "edit":
        return { actor: author, changes: [{ kind, id: m.id, text: pick(rand, TEXTS), ts }] };
      case "react": {
        const user = pick(rand, USERS);
        const on = rand() < 0.7;
        return {
          actor: { user, moderator: false },
          changes: [{ kind, id: m.id, emoji: pick(rand, EMOJI), on, ts }],
        };
      }
    }
  }

  /** A write that changes nothing (an empty channel has nothing to change). */
  #noop(): Write {
    return { insert: [] };
  }
}

/** Gives a window one pushed frame, as ChannelWindow does. */
function apply(w: MessageWindow, frame: Frame): void {
  switch (frame.type) {
    case "insert":
      w.applyInsert(frame as InsertFrame);
      return;
    case "remove":
      w.applyRemove(frame as RemoveFrame);
      return;
    case "update":
      w.applyUpdate(frame as UpdateFrame);
      return;
    case "status":
      w.applyStatus(frame as StatusFrame);
      return;
    default:
      throw new Error(`not a push: ${frame.type}`);
  }
}

/** Stores `writes` as one group in a world and gives each window its frames; answers the outcomes. */
function store(
  world: World,
  writes: readonly Write[],
  pushed: (n: number) => void,
): WriteOutcome[] {
  const { outcomes, pushes } = world.model.group(writes, world.sockets);
  world.sockets.forEach((socket, k) => {
    const frames = pushes.get(socket) ?? [];
    const w = world.windows[k] as MessageWindow;
    for (const frame of frames) apply(w, frame);
    const last = frames.at(-1);
    if (last && "seq" in last) world.lastSeq[k] = last.seq;
    pushed(frames.length);
  });
  return outcomes;
}

/** A held message as the window shows it (what a page or a push carries, less `position` and `unread`). */
const shown = ({ position: _p, unread: _u, ...m }: WireMessage) => m;

/** A window against its model: the model's slice at its positions, and the user's counts and marker. */
function sameAsModel(w: MessageWindow, model: ChannelModel): void {
  expect(w.total).toBe(model.total);
  const slice = model.sorted.slice(w.start, w.end).map((m) => shown(model.wire(m, {}, ME)));
  expect(w.messages.map((m) => shown(m as WireMessage))).toEqual(slice);
  expect({
    ...model.counts(ME),
    read: model.places.marker(ME),
  }).toEqual({
    lateUnread: w.lateUnread,
    reactionsUnread: w.reactionsUnread,
    unread: w.unread,
    read: w.read,
  });
}

/** The state two windows must share (all but `seq`). */
const state = (w: MessageWindow) => {
  const { seq: _seq, ...rest } = w.snapshot();
  return {
    ...rest,
    messages: rest.messages.map((m) => shown(m as WireMessage)),
    hiddenAbove: w.hiddenAbove,
  };
};

function scenario(seed: number, groups: number): void {
  const one = start(seed);
  const merged = start(seed);
  const writer = new Writer(seed);
  const runs = mulberry32(seed ^ 0x7a11);
  let stored = 0;
  while (stored < groups) {
    const length = randInt(runs, 1, 6);
    const run: Write[] = [];
    const outcomes: WriteOutcome[] = [];
    for (let g = 0; g < length; g++, stored++) {
      const writes = writer.group(one);
      run.push(...writes);
      outcomes.push(
        ...store(one, writes, (n) => {
          seen.frames.one += n;
        }),
      );
      // One group at a time, each window is its model's slice after every group.
      for (const w of one.windows) sameAsModel(w, one.model);
    }
    const before = [...merged.lastSeq];
    const mergedOutcomes = store(merged, run, (n) => {
      seen.frames.merged += n;
    });
    expect(mergedOutcomes).toEqual(outcomes);
    seen.outcomes += outcomes.length;
    expect(merged.model.seq).toBe(one.model.seq);
    seen.runs++;
    if (length > 1) seen.merged++;
    one.windows.forEach((w, k) => {
      const m = merged.windows[k] as MessageWindow;
      expect(state(m)).toEqual(state(w));
      sameAsModel(m, merged.model);
      // The windows' seqs: the last frame each was given (a run's frames carry its last seq).
      expect(w.seq).toBe(one.lastSeq[k]);
      expect(m.seq).toBe(merged.lastSeq[k]);
      if (merged.lastSeq[k] === before[k]) seen.pushedNothing++;
      else expect(m.seq).toBe(merged.model.seq);
      if (w.seq !== m.seq) seen.seqDiffers++;
      seen.checks++;
    });
  }
}

describe("push coalescing against the window", () => {
  it("leaves every tab's window where the groups one by one would, after every merged run", async () => {
    await eachSeed(1, 300, async (seed) => {
      scenario(seed, 40);
    });
    expect(seen.merged).toBeGreaterThan(1_000);
    expect(seen.seqDiffers).toBeGreaterThan(0);
  });
});
