/**
 * The pushes of one stored group, as docs/protocol.md (1.0–1.2) and
 * docs/protocol.md ("Pushes: remove and update") describe them: for each
 * socket, in this order and each at most once, `insert` (the group's new
 * messages in its view, or after its last key when live), `remove` (the
 * messages of its view that the group deleted), `update` (those whose text
 * or reactions it changed, in their final state) and `status` (after a
 * group that inserted or deleted a message, to every socket; after one of
 * edits and reactions alone, to the sockets of the users whose
 * `reactionsUnread` it changed; `shifted` is the net change before the
 * view's first key). Each frame carries the group's net effect:
 * a message inserted and deleted in the group is in none, one inserted and
 * changed comes in `insert` only, one changed and deleted in `remove` only.
 */
import { compareKeys, keyOf } from "./keys.ts";
import type { ChannelModel, Stored } from "./model.ts";
import { countBefore, grow, holds, route, type SocketModel } from "./views.ts";
import type { Frame, Key } from "./wire.ts";

/** Most late messages a `status` lists. */
const MAX_LATEST = 3;

/** What the writes of one group did, folded in their order. */
export class GroupNet {
  /** Ids stored by the group, in arrival order. */
  readonly #inserted = new Set<string>();
  /** Keys of messages stored before the group that it deleted. */
  readonly #removed = new Map<string, Key>();
  /** Ids of messages stored before the group whose text or reactions it changed. */
  readonly #updated = new Set<string>();

  inserted(id: string): void {
    this.#inserted.add(id);
  }

  /** A delete: a message stored by this very group was shown to no one, so nothing is taken back. */
  removed(m: Stored): void {
    this.#updated.delete(m.id);
    if (!this.#inserted.delete(m.id)) this.#removed.set(m.id, keyOf(m));
  }

  /** An edit, or a reaction that changed a count. */
  updated(id: string): void {
    if (!this.#inserted.has(id)) this.#updated.add(id);
  }

  /**
   * The pushes to each socket; live views grow and users see what they are
   * pushed, as on the server. `reactionsBefore` holds each user's
   * `reactionsUnread` before the group.
   */
  pushes(
    model: ChannelModel,
    sockets: readonly SocketModel[],
    reactionsBefore: ReadonlyMap<string, number>,
  ): Map<SocketModel, Frame[]> {
    const present = (ids: Iterable<string>) =>
      [...ids].flatMap((id) => {
        const m = model.byId.get(id);
        return m ? [m] : [];
      });
    const inserted = present(this.#inserted);
    const sorted = [...inserted].sort(compareKeys);
    const removed = [...this.#removed.entries()].sort(([, a], [, b]) => compareKeys(a, b));
    const removedKeys = removed.map(([, k]) => k);
    const updated = present(this.#updated).sort(compareKeys);
    const { total, seq } = model;
    const positioned = (list: readonly Stored[], user: string) =>
      list.map((m) => model.wire(m, { position: model.position(m.id) }, user));
    // Every socket's pushes are seen before any status counts its user's counts.
    const plans = sockets.map((socket) => {
      const { view, user } = socket;
      const { pushed, shifted } = route(view, sorted);
      const gone = removed.filter(([, k]) => holds(view, k));
      const changed = updated.filter((m) => holds(view, m));
      const latest = [...inserted]
        .reverse()
        .filter((m) => m.late && !pushed.includes(m))
        .slice(0, MAX_LATEST)
        .map((m) => ({ id: m.id, ts: m.ts, position: model.position(m.id) }));
      const frames: Frame[] = [];
      if (pushed.length > 0) {
        frames.push({ type: "insert", messages: positioned(pushed, user), total, seq });
      }
      if (gone.length > 0) frames.push({ type: "remove", ids: gone.map(([id]) => id), total, seq });
      if (changed.length > 0)
        frames.push({ type: "update", messages: positioned(changed, user), seq });
      socket.view = grow(view, pushed);
      model.see(user, pushed);
      model.places.seeReactions(user, changed);
      return { socket, frames, shifted: shifted - countBefore(view, removedKeys), latest };
    });
    const pushes = new Map<SocketModel, Frame[]>();
    const moved = inserted.length + removed.length > 0;
    const told = (user: string) => model.counts(user).reactionsUnread !== reactionsBefore.get(user);
    for (const { socket, frames, shifted, latest } of plans) {
      if (moved || told(socket.user)) {
        frames.push({ type: "status", total, ...model.counts(socket.user), shifted, latest, seq });
      }
      pushes.set(socket, frames);
    }
    return pushes;
  }
}
