/**
 * The channel's relays (issue 18), as the channel object keeps them: where
 * each new socket goes, which relay each user's sockets live on, how many
 * sockets each relay holds, and how far each has pushed its sockets.
 *
 * Placement: the channel serves sockets itself until it holds `threshold`
 * of them; past that, new ones go to relays of at most `capacity` sockets
 * each. All of a user's sockets share one home (this object or one relay):
 * a group's status counts what every socket of the user was pushed, and a
 * badge across tabs is one home's business. A user's relay, once given, is
 * kept (sockets of theirs here stay here).
 */
import type { Placement, RelayReport } from "./relay-contract.ts";
import type { Sql } from "./sql.ts";

export interface RelaySettings {
  /** Sockets this object serves itself before new ones go to relays (0: all relayed). */
  readonly threshold: number;
  /** Most sockets a relay takes before the next relay is opened. */
  readonly capacity: number;
}

interface RelayRow {
  /** The seq up to which the relay has pushed its sockets (what it last reported). */
  cursor: number;
  sockets: number;
  /** The seq its last answer brought it to (in memory: it reports it next). */
  answered?: number;
}

export class Relays {
  readonly #sql: Sql;
  readonly #settings: RelaySettings;
  #relays: Map<number, RelayRow> | undefined;
  /** Relays told to catch up, that have not asked yet. */
  readonly #poked = new Set<number>();

  constructor(sql: Sql, settings: RelaySettings) {
    this.#sql = sql;
    this.#settings = settings;
  }

  /** Where a new socket of `user` goes; `local`: this object's own sockets now. */
  place(user: string, local: { readonly count: number; has(user: string): boolean }): Placement {
    const home = this.home(user);
    if (home !== null) return { relay: home };
    if (local.has(user) || local.count < this.#settings.threshold) return { relay: null };
    let relay = 0;
    let least = Number.POSITIVE_INFINITY;
    const relays = this.#all();
    for (const [k, row] of relays) {
      if (row.sockets < this.#settings.capacity && row.sockets < least) {
        relay = k;
        least = row.sockets;
      }
    }
    if (least === Number.POSITIVE_INFINITY)
      relay = relays.size === 0 ? 0 : Math.max(...relays.keys()) + 1;
    if (!relays.has(relay)) this.#save(relay, { cursor: 0, sockets: 0 });
    this.#sql.run(
      "INSERT INTO relay_users (user, relay, sockets) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
      user,
      relay,
    );
    return { relay };
  }

  /** The relay a user's sockets live on, if any. */
  home(user: string): number | null {
    return (
      this.#sql.one<{ relay: number }>("SELECT relay FROM relay_users WHERE user = ?", user)
        ?.relay ?? null
    );
  }

  /** Users with sockets on a relay now. */
  usersOf(relay: number): string[] {
    return this.#sql
      .all<{ user: string }>("SELECT user FROM relay_users WHERE relay = ? AND sockets > 0", relay)
      .map((r) => r.user);
  }

  /** Those of `users` with sockets on `relay` now (a row each: as many as they are, not the relay's). */
  on(relay: number, users: readonly string[]): string[] {
    return users.filter((user) => {
      const row = this.#sql.one<{ relay: number; sockets: number }>(
        "SELECT relay, sockets FROM relay_users WHERE user = ?",
        user,
      );
      return row?.relay === relay && row.sockets > 0;
    });
  }

  /** Takes a relay's report of its sockets; answers its cursor (its own, or the one last reported). */
  report(relay: number, report: RelayReport): number {
    this.#poked.delete(relay);
    const row = this.#all().get(relay) ?? { cursor: 0, sockets: 0 };
    const next = { ...row, cursor: report.applied ?? row.cursor, sockets: report.sockets };
    for (const { user, sockets } of report.users) {
      this.#sql.run("UPDATE relay_users SET sockets = ? WHERE user = ?", sockets, user);
    }
    if (next.cursor !== row.cursor || next.sockets !== row.sockets) this.#save(relay, next);
    return next.cursor;
  }

  /** An answer brought the relay up to `seq` (it reports so next time). */
  answered(relay: number, seq: number): void {
    const row = this.#all().get(relay);
    if (row) row.answered = seq;
  }

  /** Relays with sockets behind `seq` and not yet told: each gets one nudge until it asks. */
  toPoke(seq: number): number[] {
    const out: number[] = [];
    for (const [relay, row] of this.#all()) {
      const reached = Math.max(row.cursor, row.answered ?? 0);
      if (row.sockets > 0 && reached < seq && !this.#poked.has(relay)) {
        this.#poked.add(relay);
        out.push(relay);
      }
    }
    return out;
  }

  /** A nudge that did not arrive: the next group nudges again. */
  unpoke(relay: number): void {
    this.#poked.delete(relay);
  }

  /** Sockets on relays, and relays holding any. */
  stats(): { sockets: number; relays: number } {
    let sockets = 0;
    let relays = 0;
    for (const row of this.#all().values()) {
      sockets += row.sockets;
      if (row.sockets > 0) relays++;
    }
    return { sockets, relays };
  }

  #all(): Map<number, RelayRow> {
    this.#relays ??= new Map(
      this.#sql
        .all<{ relay: number; cursor: number; sockets: number }>(
          "SELECT relay, cursor, sockets FROM relays",
        )
        .map((r) => [r.relay, { cursor: r.cursor, sockets: r.sockets }]),
    );
    return this.#relays;
  }

  #save(relay: number, row: RelayRow): void {
    this.#sql.run(
      `INSERT INTO relays (relay, cursor, sockets) VALUES (?, ?, ?)
       ON CONFLICT (relay) DO UPDATE SET cursor = excluded.cursor, sockets = excluded.sockets`,
      relay,
      row.cursor,
      row.sockets,
    );
    this.#all().set(relay, { ...row });
  }
}
