/**
 * The seq a relay's sockets were pushed up to, in its own storage: written
 * in the turn that pushes (the output gate sends nothing before it is
 * durable), so a relay that wakes knows what its sockets already have.
 */
export class AppliedSeq {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS relay_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    );
  }

  get(): number | null {
    const row = this.#sql
      .exec<{ value: number }>("SELECT value FROM relay_state WHERE key = 'applied'")
      .toArray()[0];
    return row?.value ?? null;
  }

  set(seq: number): void {
    this.#sql.exec(
      "INSERT INTO relay_state (key, value) VALUES ('applied', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      seq,
    );
  }
}
