/**
 * A group's net effect on the list, for its pushes (docs/protocol.md 1.2: one
 * `insert`, `remove` and `update` a socket a group). Writes of one group are
 * folded in order: a message inserted and deleted in the group shows in no
 * frame; one inserted and then changed comes in `insert`, in its final
 * state; one changed and then deleted only in `remove`.
 */
import type { ChannelStore, Effect, StoredMessage, Tombstone } from "./store.ts";

/** What the group did to messages that a client may hold or be shown. */
export interface NetEffect {
  /** Stored by the group and still there, in arrival order, in their final state. */
  readonly inserted: StoredMessage[];
  /** Stored before the group, deleted by it. */
  readonly removed: Tombstone[];
  /** Stored before the group, still there, text or reactions changed: final state. */
  readonly updated: StoredMessage[];
  /** Users whose `reactionsUnread` the group changed, with their count before it. */
  readonly badges: ReadonlyMap<string, number>;
}

export class GroupEffect {
  readonly #inserted = new Map<string, StoredMessage>();
  readonly #removed = new Map<string, Tombstone>();
  readonly #updated = new Set<string>();
  readonly #badges = new Map<string, number>();

  /** Folds in the next stored write of the group. */
  add(effect: Effect): void {
    for (const [user, before] of effect.badges) {
      if (!this.#badges.has(user)) this.#badges.set(user, before);
    }
    for (const m of effect.inserted) this.#inserted.set(m.id, m);
    for (const t of effect.removed) {
      this.#updated.delete(t.id);
      // Inserted in this group: no client was shown it, so nothing to take back.
      if (!this.#inserted.delete(t.id)) this.#removed.set(t.id, t);
    }
    for (const id of effect.updated) this.#updated.add(id);
  }

  /** The net effect, reading the final state of what was changed (one indexed row each). */
  net(store: Pick<ChannelStore, "messagesById">): NetEffect {
    const current = store.messagesById(this.#updated);
    const inserted = [...this.#inserted.values()].map((m) => current.get(m.id) ?? m);
    const updated = [...this.#updated].flatMap((id) => {
      const m = current.get(id);
      return m && !this.#inserted.has(id) ? [m] : [];
    });
    return { inserted, removed: [...this.#removed.values()], updated, badges: this.#badges };
  }

  /** The fold so far as one write's effect: a write made of several (a simulator tick) folds its parts here. */
  get effect(): Effect {
    return {
      inserted: [...this.#inserted.values()],
      removed: [...this.#removed.values()],
      updated: new Set(this.#updated),
      badges: new Map(this.#badges),
    };
  }

  get empty(): boolean {
    return (
      this.#inserted.size === 0 &&
      this.#removed.size === 0 &&
      this.#updated.size === 0 &&
      this.#badges.size === 0
    );
  }
}
