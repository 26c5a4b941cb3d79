/**
 * A wake reads the bucket directory a page of buckets to a row, so its cost
 * grows ~256 times slower than the one-row-a-bucket table it replaced. A tiny
 * bucket size (4 messages) reaches 10,000 buckets with 40,000 messages; the
 * same code runs at the production size. Rows are counted, never timed.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/channel/schema.ts";
import { blob } from "../../src/channel/sql.ts";
import { ChannelStore, type ChannelStoreOptions } from "../../src/channel/store.ts";
import type { Bucket } from "../../src/core/position-index.ts";
import type { PageBody } from "../../src/protocol/schemas.ts";
import { HistoryModel } from "../support/history.ts";
import { generate, PAGE_ROW_BUDGET, pagesIn, type Storage, storeHistory, T0 } from "./helpers.ts";
import { api, channelStub, rowsOf } from "./net.ts";

const TINY = { bucketSize: 4 } as const;

/** A history and its model; a 1 % late chunk keeps middle buckets splitting too. */
function history(count: number) {
  const data = generate({ count, seed: count + 12, chunkSize: Math.ceil(count / 100) });
  return { data, model: new HistoryModel(data) };
}

const bucketsOf = (storage: Storage): Bucket[] => pagesIn(storage).flat();

/** How many buckets and pages are stored. */
function directory(storage: Storage): { buckets: number; pages: number } {
  const pages = pagesIn(storage);
  return { buckets: pages.reduce((n, p) => n + p.length, 0), pages: pages.length };
}

/** A wake: a fresh store on the same storage, and the rows it read to open. */
function wake(storage: Storage, options: ChannelStoreOptions = {}) {
  const store = new ChannelStore(storage, options);
  return { store, rows: store.rowsRead };
}

/** Positions (of ~500 keys spread over the list, ends included) and pages of a woken store: the model's. */
function expectExact(store: ChannelStore, model: HistoryModel): void {
  expect(store.total).toBe(model.total);
  const step = Math.max(1, Math.floor(model.total / 500));
  const positions = [];
  for (let p = 0; p < model.total; p += step) positions.push(p);
  positions.push(model.total - 1);
  const keys = positions.map((p) => {
    const n = model.at(p);
    return { ts: model.arrivals.ts(n), id: model.arrivals.id(n) };
  });
  expect(store.positionsOf(keys)).toEqual(positions);
  for (const position of [0, 1, model.total >> 1, model.total - 2, model.total - 1]) {
    const anchor = { position };
    expect(store.page(anchor, 3, 3)).toStrictEqual(model.page(anchor, 3, 3));
  }
}

/** Rows written by every statement since the last call, whatever the store counts. */
function countingWrites(storage: Storage): { storage: Storage; take(): number } {
  const cursors: { rowsWritten: number }[] = [];
  const sql = new Proxy(storage.sql, {
    get(target, prop) {
      if (prop !== "exec") return Reflect.get(target, prop);
      return (query: string, ...args: SqlStorageValue[]) => {
        const cursor = target.exec(query, ...args);
        cursors.push(cursor);
        return cursor;
      };
    },
  });
  return {
    storage: { sql, transactionSync: (fn) => storage.transactionSync(fn) },
    take: () => cursors.splice(0).reduce((n, c) => n + c.rowsWritten, 0),
  };
}

/**
 * Rows a wake reads besides the directory's pages: the tips of the messages,
 * tombstones and change log (seq, late ordinal, newest key), and the count of
 * deleted late ordinals.
 */
const WAKE_TIPS = 8;

describe("wake", () => {
  it("reads a row per page of buckets, not a row per bucket, as the channel grows", async () => {
    const seen: { count: number; buckets: number; pages: number; rows: number }[] = [];
    for (const count of [2_000, 40_000]) {
      const { data, model } = history(count);
      await runInDurableObject(channelStub(`wake-tiny-${count}`), (_instance, state) => {
        storeHistory(state.storage, data, TINY);
        const { store, rows } = wake(state.storage, TINY);
        seen.push({ count, ...directory(state.storage), rows });
        expectExact(store, model);
      });
    }
    console.log("wake, bucket size 4:", JSON.stringify(seen));
    const [small, large] = seen as [(typeof seen)[0], (typeof seen)[0]];
    // A bucket holds at most 4 messages: 10,000+ buckets, each a row read by a linear wake.
    expect(large.buckets).toBeGreaterThanOrEqual(40_000 / 4);
    expect(large.rows).toBeLessThan(large.buckets / 100);
    // 20× the buckets add a row per page of them (128–256 buckets), plus the same few lookups.
    expect(large.rows - small.rows).toBeLessThanOrEqual((large.buckets - small.buckets) / 100);
    expect(large.rows).toBeLessThanOrEqual(large.pages + WAKE_TIPS);
  });

  it("runs the same code at the production bucket size, writing no more rows an insert than a row a bucket did", async () => {
    const { data, model } = history(120_000);
    await runInDurableObject(channelStub("wake-production"), (_instance, state) => {
      storeHistory(state.storage, data, {});
      const counted = countingWrites(state.storage);
      const { store, rows } = wake(counted.storage);
      const stored = directory(state.storage);
      console.log("wake, bucket size 512:", JSON.stringify({ count: data.count, ...stored, rows }));
      expect(stored.buckets).toBeGreaterThanOrEqual(120_000 / 512);
      expect(stored.pages).toBeGreaterThanOrEqual(2);
      expect(rows).toBeLessThanOrEqual(stored.pages + WAKE_TIPS);
      expectExact(store, model);
      // Measured on schema 1 (a bucket row upserted per changed bucket): 4 rows
      // for an append (the message, its two indexes, the bucket), 6–7 for a late
      // one (two more indexes), one more whenever the insert splits a bucket.
      counted.take();
      const written = { append: [] as number[], late: [] as number[] };
      const last = model.arrivals.ts(model.at(model.total - 1));
      for (let i = 0; i < 20; i++) {
        store.insert([{ id: `append-${i}`, ts: last + 1 + i, author: "a", text: "t" }]);
        written.append.push(counted.take());
        store.insert([{ id: `late-${i}`, ts: T0 + 7 + i * 1_000_003, author: "a", text: "t" }]);
        written.late.push(counted.take());
      }
      console.log("rows written an insert:", JSON.stringify(written));
      for (const n of written.append) expect(n).toBeLessThanOrEqual(5);
      for (const n of written.late) expect(n).toBeLessThanOrEqual(7);
    });
  });

  it("migrates a schema-1 bucket table once, reading its rows once", async () => {
    const { data, model } = history(2_000);
    await runInDurableObject(channelStub("wake-migrate"), (_instance, state) => {
      const sql = state.storage.sql;
      storeHistory(state.storage, data, TINY);
      // Schema 1, rebuilt: the same buckets, one row each (its CREATE as schema 1 had it), no pages.
      const v1Buckets = bucketsOf(state.storage);
      expect(v1Buckets.length).toBeGreaterThanOrEqual(2_000 / 4);
      sql.exec(`CREATE TABLE buckets (
        lo_ts INTEGER NOT NULL, lo_id BLOB NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (lo_ts, lo_id)
      ) WITHOUT ROWID`);
      for (const b of v1Buckets) {
        sql.exec("INSERT INTO buckets VALUES (?, ?, ?)", b.lo.ts, blob(b.lo.id), b.size);
      }
      sql.exec("DROP TABLE bucket_pages");
      // Nor had it what schemas 3 and 4 add (protocol 1.2's changes and the reader's place).
      for (const table of [
        "tombstones",
        "changes",
        "reactions",
        "late_gone",
        "reaction_badges",
        "reaction_readers",
        "read_markers",
        "relay_users",
        "relays",
      ]) {
        sql.exec(`DROP TABLE ${table}`);
      }
      sql.exec("DROP INDEX seen_late_no");
      sql.exec("ALTER TABLE messages DROP COLUMN edited");
      sql.exec("ALTER TABLE messages DROP COLUMN reactions");
      sql.exec("UPDATE meta SET value = '1' WHERE key = 'schema'");

      const migrated = wake(state.storage, TINY);
      console.log(
        "migration from schema 1:",
        JSON.stringify({ buckets: v1Buckets.length, rows: migrated.rows }),
      );
      // Each bucket row once (twice would be over 1,000), a few reads of the new pages, and
      // the schema's own rows that later schemas' statements read (a constant, whatever the size).
      expect(migrated.rows).toBeGreaterThanOrEqual(v1Buckets.length);
      expect(migrated.rows).toBeLessThanOrEqual(v1Buckets.length + 130);
      expectExact(migrated.store, model);
      const tables = sql.exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table'",
      );
      expect([...tables].map((t) => t.name)).not.toContain("buckets");
      expect(migrated.store.meta.get("schema")).toBe(String(SCHEMA_VERSION));
      expect(bucketsOf(state.storage)).toEqual(v1Buckets);

      // Once: the next wake reads pages only.
      const next = wake(state.storage, TINY);
      expect(next.rows).toBeLessThanOrEqual(directory(state.storage).pages + WAKE_TIPS);
      expectExact(next.store, model);
    });
  });

  it("answers the first request after an eviction reading the directory's pages, not its buckets", async () => {
    const channel = "wake-evicted";
    const count = 40_000;
    const { data, model } = history(count);
    const stub = channelStub(channel);
    let stored = { buckets: 0, pages: 0 };
    await runInDurableObject(stub, (_instance, state) => {
      storeHistory(state.storage, data, TINY);
      stored = directory(state.storage);
    });
    await evictDurableObject(stub);
    const anchor = { position: count >> 1 };
    const res = await api(
      `/v1/channels/${channel}/messages?anchor=pos:${anchor.position}&before=25&after=25`,
    );
    expect((await res.json()) as PageBody).toStrictEqual(model.page(anchor, 25, 25));
    const rows = rowsOf(res) ?? Number.NaN;
    console.log("first page after eviction:", JSON.stringify({ count, ...stored, rows }));
    // A wake reading a row a bucket alone would exceed the page budget tenfold.
    expect(stored.buckets).toBeGreaterThanOrEqual(10 * PAGE_ROW_BUDGET);
    expect(rows).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
  });
});
