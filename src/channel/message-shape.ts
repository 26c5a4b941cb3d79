/**
 * A message's shapes: as stored (a row of the `messages` table, and the
 * `StoredMessage` the store passes around) and as the wire carries it.
 */
import type { ReactionCounts } from "../core/changes.ts";
import type { Key } from "../core/key.ts";
import type { Message } from "../protocol/schemas.ts";
import { fromBlob, type Row } from "./sql.ts";

/** A message as stored. `lateNo` is its ordinal among late arrivals, or null. */
export interface StoredMessage {
  readonly seq: number;
  readonly id: string;
  readonly ts: number;
  readonly author: string;
  readonly text: string;
  readonly lateNo: number | null;
  /** The winning edit's ts; null when never edited. */
  readonly edited: number | null;
  /** Reaction counts, ascending by emoji (empty: none). */
  readonly reactions: ReactionCounts;
}

export interface MessageRow extends Row {
  seq: number;
  id: ArrayBuffer;
  ts: number;
  author: string;
  text: string;
  late_no: number | null;
  edited: number | null;
  reactions: string | null;
}

/** The columns of a {@link MessageRow}, in order. */
export const COLUMNS = "seq, id, ts, author, text, late_no, edited, reactions";

export const keyOf = (m: { ts: number; id: string }): Key => ({ ts: m.ts, id: m.id });

export function toStored(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    id: fromBlob(row.id),
    ts: row.ts,
    author: row.author,
    text: row.text,
    lateNo: row.late_no,
    edited: row.edited,
    reactions: row.reactions === null ? [] : (JSON.parse(row.reactions) as ReactionCounts),
  };
}

/**
 * The wire shape of a stored message. `mine`: the emojis the asking user has
 * on (over a socket), flagged in `reactions`.
 */
export function toWire(m: StoredMessage, mine?: ReadonlySet<string>): Message {
  const wire: Message = {
    id: m.id,
    ts: m.ts,
    author: m.author,
    text: m.text,
    seq: m.seq,
    late: m.lateNo !== null,
  };
  if (m.edited !== null) wire.edited = m.edited;
  if (m.reactions.length > 0) {
    wire.reactions = m.reactions.map(([emoji, count]) =>
      mine?.has(emoji) ? { emoji, count, mine: true as const } : { emoji, count },
    );
  }
  return wire;
}

/** The `reactions` column: the counts as JSON, NULL when there are none. */
export const reactionsColumn = (counts: ReactionCounts): string | null =>
  counts.length > 0 ? JSON.stringify(counts) : null;
