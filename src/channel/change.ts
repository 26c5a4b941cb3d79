/**
 * Applying a frame of changes (docs/protocol.md 1.2, "Changes"), all or nothing,
 * inside the store's transaction. Every change is checked before any is
 * applied (a forbidden one rejects the frame); then each, in order, is
 * `applied`, `pending` (held until its message arrives: insert.ts applies
 * it), `stale` or `deleted`. Applied and pending changes are arrivals: each
 * takes the next seq and a row in the change log, which resume replays.
 *
 * Cost: an edit or a reaction reads its message's row and its own register;
 * a delete also lowers the position index, with no row of it read.
 */
import {
  type Actor,
  adjustCounts,
  changeKey,
  editWins,
  mayChange,
  reactionWins,
} from "../core/changes.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Change, ChangeResult } from "../protocol/schemas.ts";
import type { Tombstone } from "./change-rows.ts";
import type { StoredMessage } from "./messages.ts";
import { deleteMessage, type Effect, saveIndex, type Tables } from "./tables.ts";

export interface ChangeOutcome extends Effect {
  readonly results: ChangeResult[];
  /** Late ordinals of the messages deleted, for the late state. */
  readonly goneLate: number[];
}

export function applyChanges(
  tables: Tables,
  actor: Actor,
  changes: readonly Change[],
): ChangeOutcome {
  const { rows, tips } = tables;
  const ids = [...new Set(changes.map((c) => c.id))];
  const present = new Map<string, StoredMessage>();
  for (const id of ids) {
    const m = rows.byId(id);
    if (m) present.set(id, m);
  }
  checkAllowed(changes, actor, present);
  const buried = new Map<string, Tombstone | true>(tables.changes.tombstonesOf(ids));
  const absent = ids.filter((id) => !present.has(id) && !buried.has(id));
  const heldKeys = new Set<string>();
  for (const [id, held] of tables.changes.heldFor(absent)) {
    for (const h of held) heldKeys.add(id + changeKey(h.change, h.user));
  }

  const results: ChangeResult[] = [];
  const removed: Tombstone[] = [];
  const updated = new Set<string>();
  const goneLate: number[] = [];
  /** The change takes the next seq and a row in the log; `shown`: it changed what its message shows. */
  const arrive = (change: Change, how: { held?: true; shown?: boolean } = {}): number => {
    const seq = tips.lastSeq + 1;
    tips.lastSeq = seq;
    const held = how.held
      ? { seq, user: actor.user, moderator: actor.moderator, change }
      : undefined;
    tables.changes.log(seq, change.id, change.kind, actor.user, { held, shown: how.shown ?? true });
    return seq;
  };
  for (const change of changes) {
    const { id } = change;
    const m = present.get(id);
    if (buried.has(id)) {
      results.push({ id, outcome: "deleted" });
    } else if (m === undefined) {
      const key = id + changeKey(change, actor.user);
      if (heldKeys.has(key)) {
        results.push({ id, outcome: "stale" });
      } else {
        heldKeys.add(key);
        results.push({ id, outcome: "pending", seq: arrive(change, { held: true }) });
      }
    } else if (change.kind === "delete") {
      const seq = arrive(change);
      const tombstone = deleteMessage(tables, m, seq);
      if (m.lateNo !== null) goneLate.push(m.lateNo);
      present.delete(id);
      buried.set(id, tombstone);
      removed.push(tombstone);
      results.push({ id, outcome: "applied", seq });
    } else {
      // The seq this change takes if it applies (unread reactions are ordered by it).
      const seq = tips.lastSeq + 1;
      const next =
        change.kind === "edit" ? edited(tables, m, change) : reacted(tables, m, change, actor, seq);
      if (next === undefined) {
        results.push({ id, outcome: "stale" });
        continue;
      }
      present.set(id, next.message);
      if (next.visible) updated.add(id);
      results.push({ id, outcome: "applied", seq: arrive(change, { shown: next.visible }) });
    }
  }
  if (removed.length > 0) saveIndex(tables);
  const badges = tables.badges.takeTouched();
  return { results, inserted: [], removed, updated, badges, goneLate };
}

/** Every change on a stored message must be allowed: one that is not rejects the frame. */
function checkAllowed(
  changes: readonly Change[],
  actor: Actor,
  present: ReadonlyMap<string, StoredMessage>,
): void {
  changes.forEach((change, i) => {
    const m = present.get(change.id);
    if (m === undefined || mayChange(change, actor, m.author)) return;
    const what =
      change.kind === "edit"
        ? "only its author may edit a message"
        : "only its author or a moderator may delete a message";
    throw new ProtocolError("forbidden", `changes[${i}]: ${what}`);
  });
}

type Next = { message: StoredMessage; visible: boolean } | undefined;

function edited(tables: Tables, m: StoredMessage, change: Extract<Change, { kind: "edit" }>): Next {
  const stored = m.edited === null ? null : { ts: m.edited, text: m.text };
  if (!editWins({ ts: change.ts, text: change.text }, stored)) return undefined;
  tables.rows.setText(m.id, change.text, change.ts);
  return { message: { ...m, text: change.text, edited: change.ts }, visible: true };
}

/** A reaction arriving with `seq`; one that turns on or off moves its author's unread reactions. */
function reacted(
  tables: Tables,
  m: StoredMessage,
  change: Extract<Change, { kind: "react" }>,
  actor: Actor,
  seq: number,
): Next {
  const { changes, badges } = tables;
  const stored = changes.reaction(m.id, actor.user, change.emoji);
  const stamp = { ts: change.ts, on: change.on };
  if (!reactionWins(stamp, stored)) return undefined;
  changes.setReaction(m.id, actor.user, change.emoji, stamp);
  const wasOn = stored?.on ?? false;
  // A register that turns off from off (or on from on) changes no count: stored, not shown.
  if (wasOn === change.on) return { message: m, visible: false };
  if (change.on) badges.reactionOn(m, actor.user, change.emoji, seq);
  else if (stored?.unreadSeq != null) {
    badges.reactionOff(m, actor.user, change.emoji, stored.unreadSeq);
  }
  const reactions = adjustCounts(m.reactions, change.emoji, change.on ? 1 : -1);
  tables.rows.setReactions(m.id, reactions);
  return { message: { ...m, reactions }, visible: true };
}
