/**
 * The rules of changes (docs/protocol.md 1.2, "Changes"), pure: who may make
 * them, which of two concurrent writes wins, and a message's reaction counts.
 * Each rule is a total order or a commutative count, so the stored state after
 * a set of changes does not depend on the order they arrived in, nor on
 * repeats: an edit's winner is the greatest (ts, text); a reaction's, per
 * (message, user, emoji), the greatest (ts, on) with on above off; a delete
 * wins over everything.
 */
import type { Change } from "../protocol/schemas.ts";

/** An edit as the store keeps its winner: the edit's clock and text. */
export interface EditStamp {
  readonly ts: number;
  readonly text: string;
}

/** True when `incoming` beats the stored winning edit (none: the first edit always wins). */
export function editWins(incoming: EditStamp, stored: EditStamp | null): boolean {
  if (stored === null) return true;
  if (incoming.ts !== stored.ts) return incoming.ts > stored.ts;
  return incoming.text > stored.text;
}

/** One user's reaction with one emoji on one message: a last-writer-wins register. */
export interface ReactionStamp {
  readonly ts: number;
  readonly on: boolean;
}

/** True when `incoming` beats the stored register: a later ts, or the same ts turning it on. */
export function reactionWins(incoming: ReactionStamp, stored: ReactionStamp | null): boolean {
  if (stored === null) return true;
  if (incoming.ts !== stored.ts) return incoming.ts > stored.ts;
  return incoming.on && !stored.on;
}

/** Who is asking, and whether they may delete anyone's message (scope `moderate`). */
export interface Actor {
  readonly user: string;
  readonly moderator: boolean;
}

/**
 * Whether `actor` may make `change` on a message by `author`: only the author
 * edits or deletes; a moderator deletes any message; anyone reacts.
 */
export function mayChange(change: Pick<Change, "kind">, actor: Actor, author: string): boolean {
  switch (change.kind) {
    case "react":
      return true;
    case "edit":
      return actor.user === author;
    case "delete":
      return actor.user === author || actor.moderator;
    default: {
      const unreachable: never = change.kind;
      throw new Error(`unknown change ${String(unreachable)}`);
    }
  }
}

/** A message's reactions as stored: [emoji, count] pairs, count > 0, ascending by emoji. */
export type ReactionCounts = readonly (readonly [emoji: string, count: number])[];

/** The counts after one user's register for `emoji` turned on (+1) or off (−1). */
export function adjustCounts(counts: ReactionCounts, emoji: string, delta: 1 | -1): ReactionCounts {
  const out: [string, number][] = [];
  let found = false;
  for (const [e, n] of counts) {
    if (e === emoji) {
      found = true;
      if (n + delta > 0) out.push([e, n + delta]);
    } else out.push([e, n]);
  }
  if (!found) {
    if (delta < 0) throw new RangeError(`no reaction ${emoji} to take back`);
    out.push([emoji, 1]);
    // Code-unit order, as docs/protocol.md sorts reactions.
    out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return out;
}

/** The key of a change held for a message not yet stored: an exact repeat is `stale`. */
export function changeKey(change: Change, user: string): string {
  return JSON.stringify([
    user,
    change.kind,
    "text" in change ? change.text : null,
    ...stamp(change),
  ]);
}

function stamp(change: Change): unknown[] {
  switch (change.kind) {
    case "edit":
      return [change.ts];
    case "react":
      return [change.emoji, change.on, change.ts];
    case "delete":
      return [];
    default: {
      const unreachable: never = change;
      throw new Error(`unknown change ${JSON.stringify(unreachable)}`);
    }
  }
}
