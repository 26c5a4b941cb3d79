/**
 * Each user's read marker (protocol 1.2) in SQLite, one row a user, and in
 * memory each loaded user's `readCount` (messages at or before the marker;
 * see core/read-marker.ts), kept exact after every stored write without a
 * row read. Loading a user cold costs one row and a rank in the position
 * index.
 */
import type { Key } from "../core/key.ts";
import { justAfter, readCountAfter } from "../core/read-marker.ts";
import { blob, fromBlob, type Sql } from "./sql.ts";

/** Users whose marker stays in memory; one forgotten costs a rank (a bucket's rows) when next asked. */
const MAX_CACHED = 4_096;

export interface Marker {
  /** The key of the newest message read; null: none. */
  readonly key: Key | null;
  /** Messages whose key is at or before `key`. */
  readonly readCount: number;
}

export class ReadMarkers {
  readonly #sql: Sql;
  /** How many messages sort before a key (the position index's rank). */
  readonly #rank: (key: Key) => number;
  readonly #cache = new Map<string, Marker>();

  constructor(sql: Sql, rank: (key: Key) => number) {
    this.#sql = sql;
    this.#rank = rank;
  }

  get(user: string): Marker {
    let marker = this.#cache.get(user);
    if (marker) {
      // Most recently used last: the cache forgets the longest unused first.
      this.#cache.delete(user);
    } else {
      const row = this.#sql.one<{ ts: number; id: ArrayBuffer }>(
        "SELECT ts, id FROM read_markers WHERE user = ?",
        user,
      );
      marker = row ? this.#at({ ts: row.ts, id: fromBlob(row.id) }) : { key: null, readCount: 0 };
    }
    this.set(user, marker);
    return marker;
  }

  /** Inside the caller's transaction: stores the user's marker at `key`; answers the marker to cache once stored. */
  write(user: string, key: Key): Marker {
    this.#sql.run(
      `INSERT INTO read_markers (user, ts, id) VALUES (?, ?, ?)
       ON CONFLICT (user) DO UPDATE SET ts = excluded.ts, id = excluded.id`,
      user,
      key.ts,
      blob(key.id),
    );
    return this.#at(key);
  }

  /** After the write that stored it. */
  set(user: string, marker: Marker): void {
    this.#cache.delete(user);
    this.#cache.set(user, marker);
    // Every write walks the cache (afterWrite): it holds the users in use, not every user ever.
    if (this.#cache.size > MAX_CACHED) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  /** After a stored write: every loaded marker's count follows what it inserted and deleted. */
  afterWrite(inserted: readonly Key[], removed: readonly Key[]): void {
    if (inserted.length + removed.length === 0) return;
    for (const [user, marker] of this.#cache) {
      if (marker.key === null) continue;
      const readCount = readCountAfter(marker.readCount, marker.key, inserted, removed);
      if (readCount !== marker.readCount) this.#cache.set(user, { key: marker.key, readCount });
    }
  }

  /** Drops the cache: after a rolled-back transaction, storage is the truth. */
  forget(): void {
    this.#cache.clear();
  }

  #at(key: Key): Marker {
    return { key, readCount: this.#rank(justAfter(key)) };
  }
}
