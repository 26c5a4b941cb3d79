/**
 * Protocol 1.2's change rules, written from docs/protocol.md ("Changes: edits,
 * deletes, reactions") without touching src/core/changes.ts: who may make a
 * change, which of two edits or two reaction stamps wins, and what a
 * message shows once changed. {@link ChangeMarks} folds changes one by one
 * (the channel model, to tell `applied` from `stale`); {@link converge}
 * computes the same state from a whole set at once, as maxima, so that it
 * cannot depend on any order.
 */
import { compareUnits } from "./keys.ts";
import type { Change, Reaction } from "./wire.ts";

/** Who makes a change: a user, and whether their scope includes `moderate`. */
export interface Actor {
  readonly user: string;
  readonly moderator: boolean;
}

/** "Only the message's author may edit it or delete it; `moderate` may delete any message." */
export function mayMake(kind: Change["kind"], actor: Actor, author: string): boolean {
  if (kind === "react") return true;
  if (kind === "edit") return actor.user === author;
  return actor.user === author || actor.moderator;
}

export interface EditStamp {
  readonly ts: number;
  readonly text: string;
}

/** Sign of a − b: last writer wins by ts, ties by text in code-unit order (greater wins). */
export function compareEdits(a: EditStamp, b: EditStamp): number {
  return a.ts !== b.ts ? Math.sign(a.ts - b.ts) : compareUnits(a.text, b.text);
}

export interface ReactionStamp {
  readonly ts: number;
  readonly on: boolean;
}

/** Sign of a − b: last writer wins by ts, ties to `on: true`. */
export function compareStamps(a: ReactionStamp, b: ReactionStamp): number {
  return a.ts !== b.ts ? Math.sign(a.ts - b.ts) : Number(a.on) - Number(b.on);
}

/** One (user, emoji) register's name. */
const registerOf = (user: string, emoji: string) => JSON.stringify([user, emoji]);

interface Register {
  readonly user: string;
  readonly emoji: string;
  stamp: ReactionStamp;
}

/** The reactions a message shows: emojis with a count above 0, by code unit; `mine` for `user`. */
function shown(registers: Iterable<Register>, user?: string): Reaction[] | undefined {
  const counts = new Map<string, { count: number; mine: boolean }>();
  for (const r of registers) {
    if (!r.stamp.on) continue;
    const c = counts.get(r.emoji) ?? { count: 0, mine: false };
    c.count++;
    if (r.user === user) c.mine = true;
    counts.set(r.emoji, c);
  }
  if (counts.size === 0) return undefined;
  return [...counts]
    .sort(([a], [b]) => compareUnits(a, b))
    .map(([emoji, { count, mine }]) => (mine ? { emoji, count, mine: true } : { emoji, count }));
}

/** What changes did to one stored message: its winning edit and every register's winner. */
export class ChangeMarks {
  edit: EditStamp | null = null;
  readonly #registers = new Map<string, Register>();

  /** Offers an edit; true when it wins (the first edit always does: the original text is no contender). */
  offerEdit(stamp: EditStamp): boolean {
    if (this.edit !== null && compareEdits(stamp, this.edit) <= 0) return false;
    this.edit = stamp;
    return true;
  }

  /**
   * Offers a reaction; `applied` when it wins its register (the register
   * changed, from absent to off included), `shown` when the user's reaction
   * turned on or off, which changes a count.
   */
  offerReaction(
    user: string,
    emoji: string,
    stamp: ReactionStamp,
  ): { applied: boolean; shown: boolean } {
    const name = registerOf(user, emoji);
    const r = this.#registers.get(name);
    if (r && compareStamps(stamp, r.stamp) <= 0) return { applied: false, shown: false };
    const wasOn = r?.stamp.on ?? false;
    this.#registers.set(name, { user, emoji, stamp });
    return { applied: true, shown: wasOn !== stamp.on };
  }

  reactions(user?: string): Reaction[] | undefined {
    return shown(this.#registers.values(), user);
  }
}

/** A change as delivered: who sent it, with what scope. */
export interface Delivered {
  readonly actor: Actor;
  readonly change: Change;
}

/** A message's state after a set of changes, as docs/protocol.md's "Order does not matter" promises. */
export interface Converged {
  readonly deleted: boolean;
  readonly text: string;
  readonly edited?: number;
  reactions(user?: string): Reaction[] | undefined;
}

/**
 * The state of a message by `author` with `text` after every change of
 * `delivered` (any order, any repeats), from the set: deleted when any
 * delete was allowed; the text of the greatest edit by its author; each
 * register's greatest stamp. Changes the sender could not make count for
 * nothing (a frame holding one is refused whole; a held one is dropped).
 */
export function converge(author: string, text: string, delivered: Iterable<Delivered>): Converged {
  const allowed = [...delivered].filter((d) => mayMake(d.change.kind, d.actor, author));
  const deleted = allowed.some((d) => d.change.kind === "delete");
  const edits = allowed.flatMap((d) => (d.change.kind === "edit" ? [d.change] : []));
  const top = edits.reduce<EditStamp | null>(
    (best, e) => (best === null || compareEdits(e, best) > 0 ? e : best),
    null,
  );
  const registers = new Map<string, Register>();
  for (const { actor, change } of allowed) {
    if (change.kind !== "react") continue;
    const name = registerOf(actor.user, change.emoji);
    const stamps = allowed.flatMap((d) =>
      d.change.kind === "react" && registerOf(d.actor.user, d.change.emoji) === name
        ? [d.change]
        : [],
    );
    const latest = Math.max(...stamps.map((s) => s.ts));
    const on = stamps.some((s) => s.ts === latest && s.on);
    registers.set(name, { user: actor.user, emoji: change.emoji, stamp: { ts: latest, on } });
  }
  return {
    deleted,
    text: top?.text ?? text,
    ...(top ? { edited: top.ts } : {}),
    reactions: (user) => shown(registers.values(), user),
  };
}
