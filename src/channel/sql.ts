/**
 * The object's SQLite, with every row read counted: the Server-Timing header
 * and the asymptotic tests read the count, never the clock.
 */
import { decodeId, encodeId } from "../core/key.ts";

export type Row = Record<string, SqlStorageValue>;

export class Sql {
  readonly #sql: SqlStorage;
  #rowsRead = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Every row of a query. */
  all<T extends Row>(query: string, ...args: SqlStorageValue[]): T[] {
    const cursor = this.#sql.exec<T>(query, ...args);
    const rows = cursor.toArray();
    this.#rowsRead += cursor.rowsRead;
    return rows;
  }

  /** The first row of a query, if any. */
  one<T extends Row>(query: string, ...args: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...args)[0];
  }

  /** A statement whose rows nobody reads (schema, writes). */
  run(query: string, ...args: SqlStorageValue[]): void {
    this.all(query, ...args);
  }

  /**
   * Rows read since this object woke: a running count, so each caller
   * measures its own work by difference and nothing carries over to the next.
   */
  get rowsRead(): number {
    return this.#rowsRead;
  }
}

/** An id as the store keeps it: UTF-16BE bytes, whose memcmp order is code-unit order. */
export const blob = (id: string): ArrayBuffer => encodeId(id).buffer;

/** The id a {@link blob} holds. */
export const fromBlob = (bytes: ArrayBuffer): string => decodeId(new Uint8Array(bytes));
