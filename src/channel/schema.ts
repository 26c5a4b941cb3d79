/**
 * The channel's SQLite schema, its version and the `meta` table of small
 * settings. Durable Object SQLite has no `PRAGMA user_version`, so the
 * version lives in `meta` and each object migrates once, on first use.
 */
import { BUCKET_PAGES_SCHEMA, migrateBoundMarks, migrateBucketRows } from "./bucket-pages.ts";
import type { Sql } from "./sql.ts";

/**
 * Bumped when the schema changes. 2: the bucket table became pages of
 * buckets. 3: changes (protocol 1.2): edits, reactions, tombstones, the
 * change log, deleted late ordinals. 4: the reader's place (protocol 1.2):
 * unread reactions and read markers. 5: the bucket directory's pages mark
 * deleted bounds (page format 2), so the timeline reads bucket starts from memory.
 * 6: relays (issue 18): which relay each user's sockets are on, and how far
 * each relay has pushed its sockets.
 */
export const SCHEMA_VERSION = 6;

const SCHEMA = [
  `CREATE TABLE messages (
     seq INTEGER PRIMARY KEY,   -- arrival order, 1, 2, 3, …
     id BLOB NOT NULL UNIQUE,   -- UTF-16BE: memcmp order is the protocol's code-unit order
     ts INTEGER NOT NULL,
     author TEXT NOT NULL,
     text TEXT NOT NULL,
     late_no INTEGER            -- ordinal among late arrivals; NULL when on time
   )`,
  "CREATE INDEX messages_key ON messages (ts, id)",
  "CREATE UNIQUE INDEX messages_late_no ON messages (late_no) WHERE late_no IS NOT NULL",
  "CREATE INDEX messages_late_key ON messages (ts, id) WHERE late_no IS NOT NULL",
  BUCKET_PAGES_SCHEMA,
  "CREATE TABLE readers (user TEXT PRIMARY KEY, base INTEGER NOT NULL, seen INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE seen (user TEXT NOT NULL, late_no INTEGER NOT NULL, PRIMARY KEY (user, late_no)) WITHOUT ROWID",
];

/** Schema 2 → 3: what protocol 1.2's changes keep. A fresh store runs it after the base schema. */
const CHANGES_SCHEMA = [
  // The winning edit's ts (NULL: never edited) and the reaction counts as JSON [[emoji, n], …].
  "ALTER TABLE messages ADD COLUMN edited INTEGER",
  "ALTER TABLE messages ADD COLUMN reactions TEXT",
  // A deleted message keeps its id, key, arrival seq and late ordinal: no author, no text.
  `CREATE TABLE tombstones (
     id BLOB PRIMARY KEY, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
     late_no INTEGER, deleted_seq INTEGER NOT NULL
   ) WITHOUT ROWID`,
  "CREATE INDEX tombstones_seq ON tombstones (seq)",
  "CREATE INDEX tombstones_late_no ON tombstones (late_no) WHERE late_no IS NOT NULL",
  // Every change that was an arrival, by seq; `body` holds a change still waiting for its message.
  `CREATE TABLE changes (
     seq INTEGER PRIMARY KEY, id BLOB NOT NULL, kind TEXT NOT NULL, user TEXT NOT NULL, body TEXT
   )`,
  "CREATE INDEX changes_pending ON changes (id) WHERE body IS NOT NULL",
  // One last-writer-wins register per (message, user, emoji); off registers stay to win ties.
  `CREATE TABLE reactions (
     id BLOB NOT NULL, user TEXT NOT NULL, emoji TEXT NOT NULL, is_on INTEGER NOT NULL, ts INTEGER NOT NULL,
     PRIMARY KEY (id, user, emoji)
   ) WITHOUT ROWID`,
  // Deleted late ordinals: a sparse Fenwick tree, one node a row (core/ordinal-counts.ts).
  "CREATE TABLE late_gone (node INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
  "CREATE INDEX seen_late_no ON seen (late_no)",
];

/** Schema 5 → 6: the channel's relays (relays.ts). */
const RELAYS_SCHEMA = [
  // A user's sockets all live on one relay (their home, kept once given); `sockets`: open now.
  "CREATE TABLE relay_users (user TEXT PRIMARY KEY, relay INTEGER NOT NULL, sockets INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE INDEX relay_users_relay ON relay_users (relay, sockets)",
  // Each relay: the seq it has pushed its sockets up to, and how many sockets it holds.
  "CREATE TABLE relays (relay INTEGER PRIMARY KEY, cursor INTEGER NOT NULL, sockets INTEGER NOT NULL)",
  // 0: a change that moved a register and no count (a relay's sockets are not pushed it).
  "ALTER TABLE changes ADD COLUMN shown INTEGER",
];

/** Schema 3 → 4: unread reactions (reaction-badges.ts) and read markers (read-markers.ts). */
const READER_PLACE_SCHEMA = [
  // The seq a register's reaction arrived with while it is unread for the message's author.
  "ALTER TABLE reactions ADD COLUMN unread_seq INTEGER",
  // One row per (author, message) with unread reactions: how many, and the first still unread.
  `CREATE TABLE reaction_badges (
     author TEXT NOT NULL, id BLOB NOT NULL, ts INTEGER NOT NULL,
     first_seq INTEGER NOT NULL, n INTEGER NOT NULL,
     PRIMARY KEY (author, id)
   ) WITHOUT ROWID`,
  "CREATE INDEX reaction_badges_first ON reaction_badges (author, first_seq)",
  "CREATE INDEX reaction_badges_key ON reaction_badges (author, ts, id)",
  // Per user: the seq at their first connection, and how many badge rows they have.
  `CREATE TABLE reaction_readers (
     user TEXT PRIMARY KEY, since INTEGER NOT NULL, unread INTEGER NOT NULL
   ) WITHOUT ROWID`,
  "CREATE TABLE read_markers (user TEXT PRIMARY KEY, ts INTEGER NOT NULL, id BLOB NOT NULL) WITHOUT ROWID",
];

/** Small named settings (the schema version, the simulator's state). */
export class Meta {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
    this.#sql.run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  get(key: string): string | undefined {
    return this.#sql.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  set(key: string, value: string): void {
    this.#sql.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}

/** Brings the database to {@link SCHEMA_VERSION}, all or nothing. */
export function migrate(sql: Sql, meta: Meta, transaction: (fn: () => void) => void): void {
  const version = Number(meta.get("schema") ?? 0);
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) throw new Error(`schema ${version} is newer than this code`);
  transaction(() => {
    if (version === 0) for (const statement of SCHEMA) sql.run(statement);
    if (version === 1) migrateBucketRows(sql);
    if (version < 3) for (const statement of CHANGES_SCHEMA) sql.run(statement);
    if (version < 4) for (const statement of READER_PLACE_SCHEMA) sql.run(statement);
    // Pages a schema-1 migration just wrote are format 2 already (schema 1 had no deletes).
    if (version >= 2 && version < 5) migrateBoundMarks(sql);
    if (version < 6) for (const statement of RELAYS_SCHEMA) sql.run(statement);
    meta.set("schema", String(SCHEMA_VERSION));
  });
}
