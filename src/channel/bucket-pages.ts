/**
 * The position index's bucket directory in SQLite: pages of buckets, one row
 * each (see core/page-layout.ts for the cut and core/page-codec.ts for the
 * bytes). A wake reads every page row once; an insert rewrites the pages
 * holding the buckets it changed, usually one.
 */
import type { Bucket } from "../core/buckets.ts";
import { compareKeys, type Key } from "../core/key.ts";
import { decodePage, encodePage } from "../core/page-codec.ts";
import { type Page, PageLayout } from "../core/page-layout.ts";
import { ChangeRows } from "./change-rows.ts";
import { blob, fromBlob, type Sql } from "./sql.ts";

/**
 * One row a page, named by its first bucket's bound. A rowid table, not
 * WITHOUT ROWID: rows are kilobytes, which SQLite keeps better in a rowid table.
 */
export const BUCKET_PAGES_SCHEMA = `CREATE TABLE bucket_pages (
  lo_ts INTEGER NOT NULL, lo_id BLOB NOT NULL, buckets BLOB NOT NULL,
  UNIQUE (lo_ts, lo_id)
)`;

export class BucketPages {
  readonly #sql: Sql;
  #layout = new PageLayout([]);

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Reads the whole directory: every bucket, ascending. One row read per page. */
  load(): Bucket[] {
    // No ORDER BY: sorting ~100 pages here costs nothing, and a scan reads each row once.
    const pages = this.#sql
      .all<{ lo_ts: number; lo_id: ArrayBuffer; buckets: ArrayBuffer }>(
        "SELECT lo_ts, lo_id, buckets FROM bucket_pages",
      )
      .map((row) => {
        const lo: Key = { ts: row.lo_ts, id: fromBlob(row.lo_id) };
        return { lo, buckets: decodePage(lo, new Uint8Array(row.buckets)) };
      })
      .sort((a, b) => compareKeys(a.lo, b.lo));
    this.#layout = new PageLayout(pages.map((page) => page.lo));
    return pages.flatMap((page) => page.buckets);
  }

  /** True when the bucket bound `lo` names a stored page (it must not merge away). */
  isPageName(lo: Key): boolean {
    return this.#layout.isStart(lo);
  }

  /** Stores the pages holding `changed`, given the whole bucket list after the change. */
  save(buckets: readonly Bucket[], changed: readonly Bucket[]): void {
    for (const page of this.#layout.pagesToWrite(buckets, changed)) this.#write(page);
  }

  #write(page: Page): void {
    this.#sql.run(
      `INSERT INTO bucket_pages (lo_ts, lo_id, buckets) VALUES (?, ?, ?)
       ON CONFLICT (lo_ts, lo_id) DO UPDATE SET buckets = excluded.buckets`,
      page.lo.ts,
      blob(page.lo.id),
      encodePage(page.buckets).buffer,
    );
  }
}

/**
 * Schema 1 → 2: the one-row-a-bucket table becomes pages, its rows read once.
 * Runs inside the migration's transaction.
 */
export function migrateBucketRows(sql: Sql): void {
  sql.run(BUCKET_PAGES_SCHEMA);
  const buckets = sql
    .all<{ lo_ts: number; lo_id: ArrayBuffer; size: number }>(
      "SELECT lo_ts, lo_id, size FROM buckets ORDER BY lo_ts, lo_id",
    )
    .map((r): Bucket => ({ lo: { ts: r.lo_ts, id: fromBlob(r.lo_id) }, size: r.size }));
  // Every bucket "changed" in a layout with no pages yet: the same cut as any other write.
  new BucketPages(sql).save(buckets, buckets);
  sql.run("DROP TABLE buckets");
}

/**
 * Schema 4 → 5: each page rewritten in format 2, its deleted bounds marked.
 * Every bound but MIN_KEY was a stored message's key when it was cut, so it
 * is deleted exactly when its id has a tombstone. Reads each page once and
 * probes the tombstones once a bound (~22,000 rows read at 10M messages, as
 * SQLite counts an IN list's probes), once; runs inside the migration's
 * transaction.
 */
export function migrateBoundMarks(sql: Sql): void {
  const tombstones = new ChangeRows(sql);
  const pages = sql.all<{ lo_ts: number; lo_id: ArrayBuffer; buckets: ArrayBuffer }>(
    "SELECT lo_ts, lo_id, buckets FROM bucket_pages",
  );
  for (const row of pages) {
    const lo: Key = { ts: row.lo_ts, id: fromBlob(row.lo_id) };
    const buckets = decodePage(lo, new Uint8Array(row.buckets), 1);
    // MIN_KEY's id is empty: no message has it.
    const gone = tombstones.tombstonesOf(buckets.map((b) => b.lo.id).filter((id) => id !== ""));
    const marked = buckets.map((b): Bucket => (gone.has(b.lo.id) ? { ...b, boundGone: true } : b));
    sql.run(
      "UPDATE bucket_pages SET buckets = ? WHERE lo_ts = ? AND lo_id = ?",
      encodePage(marked).buffer,
      row.lo_ts,
      row.lo_id,
    );
  }
}
