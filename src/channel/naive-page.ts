/**
 * The usual approach, for the benchmark's comparison only (GET …/naive, on
 * when BENCH_NAIVE is "1"): `count(*)` for the total and `LIMIT … OFFSET`
 * for the page. Both read every row they skip; nothing in production uses it.
 */
import type { PageBody } from "../protocol/schemas.ts";
import { COLUMNS, type MessageRow, toStored, toWire } from "./messages.ts";
import type { Sql } from "./sql.ts";

export function naivePage(
  sql: Sql,
  seq: number,
  position: number,
  before: number,
  after: number,
): PageBody {
  const total = sql.one<{ n: number }>("SELECT count(*) AS n FROM messages")?.n ?? 0;
  const anchor = Math.min(Math.max(position, 0), Math.max(total - 1, 0));
  const start = Math.max(0, anchor - before);
  const messages = sql
    .all<MessageRow>(
      `SELECT ${COLUMNS} FROM messages ORDER BY ts, id LIMIT ? OFFSET ?`,
      anchor - start + after + 1,
      start,
    )
    .map((row) => toWire(toStored(row)));
  return {
    messages,
    start,
    total,
    anchorIndex: anchor - start,
    hasOlder: start > 0,
    hasNewer: start + messages.length < total,
    seq,
  };
}
