/**
 * The channel's Durable Object: the runtime's entry points only (RPC from the
 * worker, the WebSocket upgrade and frames, the alarm). Each guards, makes
 * sure the room is open, and delegates: frames to dispatch.ts, writes to
 * writer.ts, pushes to delivery.ts, storage to store.ts, ticks to simulator.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { budgetOf, countVar, type Env, positiveVar } from "../env.ts";
import type { Scope } from "../protocol/access.ts";
import { ProtocolError, toErrorInfo } from "../protocol/errors.ts";
import type {
  Change,
  ChangesReply,
  ClientFrame,
  InsertReply,
  NewMessage,
  PageBody,
  PageRequest,
  ServerFrame,
  SimulatorState,
  SimulatorUpdate,
  Stats,
  Timeline,
} from "../protocol/schemas.ts";
import { BenchMeter, type BenchStats } from "./bench-meter.ts";
import type { Outcome } from "./contract.ts";
import { deliver } from "./delivery.ts";
import { draftOf, receive } from "./dispatch.ts";
import { PushQueue } from "./push-queue.ts";
import {
  type Placement,
  type RelayAnswer,
  type RelayReport,
  type RelayRequest,
  relayName,
} from "./relay-contract.ts";
import { type RelayRoom, run, serveRelay } from "./relay-ops.ts";
import { Relays } from "./relays.ts";
import { Simulator } from "./simulator.ts";
import { Sockets } from "./sockets.ts";
import { Sql } from "./sql.ts";
import { ChannelStore } from "./store.ts";
import { upgrade } from "./upgrade.ts";
import { changing, inserting, Writer } from "./writer.ts";

export type { Outcome } from "./contract.ts";

/** Answered by the runtime itself, without waking a hibernated object. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

interface Open extends RelayRoom {
  readonly simulator: Simulator;
}

/** Sockets a channel object serves itself before new ones go to relays (measured: README). */
const DEFAULT_RELAY_SOCKETS = 500;
/** Most sockets one relay takes before the next is opened. */
const DEFAULT_RELAY_CAPACITY = 1_000;

export class Channel extends DurableObject<Env> {
  #open: Open | undefined;
  /** Bench-only counters of the object's own push work (BENCH_STATS=1). */
  readonly #meter: BenchMeter | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#meter = env.BENCH_STATS === "1" ? new BenchMeter() : undefined;
    // Stays light: the store is opened on first use, not on every wake.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** The channel's name: the worker addresses every object by name (`idFromName`). */
  get #channel(): string {
    return this.ctx.id.name ?? "";
  }

  get #room(): Open {
    if (this.#open) return this.#open;
    const store = new ChannelStore(this.ctx.storage);
    const sockets = new Sockets(this.ctx, budgetOf(this.env));
    const pushes = new PushQueue(store, sockets, {
      coalesce: this.env.PUSH_COALESCE !== "0",
      later: (fn) => setTimeout(fn, 0),
      deliver: (deliveries) => {
        const push = () =>
          deliver(
            deliveries.map(({ effect, peers }) => ({ effect: effect.net(store), peers })),
            sockets,
            store,
            this.#log,
          );
        if (this.#meter) this.#meter.push(push);
        else push();
      },
      log: this.#log,
    });
    const relays = new Relays(new Sql(this.ctx.storage.sql), {
      threshold: countVar(this.env.RELAY_SOCKETS, DEFAULT_RELAY_SOCKETS),
      capacity: positiveVar(this.env.RELAY_CAPACITY, DEFAULT_RELAY_CAPACITY),
    });
    const writer = new Writer(
      store,
      (effects) => {
        if (effects.length > 0) this.#meter?.group();
        pushes.stored(effects);
        this.#pokeRelays(relays, store.seq);
      },
      () => this.ctx.storage.sync(),
      this.#log,
    );
    const simulator = new Simulator(store, this.ctx.storage, (write) => writer.write(write));
    this.#open = {
      store,
      sockets,
      pushes,
      relays,
      simulator,
      channel: this.#channel,
      write: (write) => writer.write(write),
    };
    return this.#open;
  }

  /** Each relay behind gets one nudge to catch up (it asks for what it is owed). */
  #pokeRelays(relays: Relays, seq: number): void {
    const behind = relays.toPoke(seq);
    this.#meter?.poked(behind.length);
    for (const relay of behind) {
      const stub = this.env.RELAY.get(this.env.RELAY.idFromName(relayName(this.#channel, relay)));
      stub.poke().catch((err: unknown) => {
        relays.unpoke(relay);
        this.#log(`relay ${relay} was not reached`, err);
      });
    }
  }

  readonly #log = (what: string, err: unknown): void => {
    console.error(`[channel ${this.#channel}] ${what}`, err);
  };

  /** Runs an RPC: its value or its error, and the rows it read (by difference: nothing carries over). */
  async #call<T>(fn: (room: Open) => T | Promise<T>): Promise<Outcome<T>> {
    const started = this.#open?.store.rowsRead ?? 0;
    const rowsRead = () => (this.#open?.store.rowsRead ?? 0) - started;
    try {
      const value = await fn(this.#room);
      return { ok: true, value, rowsRead: rowsRead() };
    } catch (err) {
      if (!(err instanceof ProtocolError)) this.#log("call failed", err);
      return { ok: false, error: toErrorInfo(err), rowsRead: rowsRead() };
    }
  }

  // ── RPC from the worker (inputs already validated there) ────────────────

  async stats(): Promise<Outcome<Stats>> {
    return this.#call(({ store, sockets, relays }) => {
      const relayed = relays.stats();
      return {
        channel: this.#channel,
        total: store.total,
        lateTotal: store.lateTotal,
        oldest: store.oldest(),
        newest: store.newest,
        seq: store.seq,
        sockets: sockets.count() + relayed.sockets,
        relays: relayed.relays,
      };
    });
  }

  // ── Relays (issue 18): where sockets go, and the relays' own calls ───────

  /** Where a new socket of `user` goes: this object, or a relay. */
  async place(user: string): Promise<Outcome<Placement>> {
    return this.#call(({ relays, sockets }) =>
      relays.place(user, { count: sockets.count(), has: (u) => sockets.hasUser(u) }),
    );
  }

  /** A relay's operation (relay-contract.ts); a failure reaches the relay, which retries with its report. */
  async relayOp(relay: number, report: RelayReport, request: RelayRequest): Promise<RelayAnswer> {
    const serve = () => serveRelay(this.#room, relay, report, request);
    return this.#meter ? this.#meter.relayOp(serve) : serve();
  }

  /** A write (`send`, `change`) from a socket of a relay: its replies, once stored. */
  async relayWrite(
    _relay: number,
    user: string,
    scope: Scope,
    frame: ClientFrame,
  ): Promise<ServerFrame[]> {
    return (await run(this.#room, user, scope, frame)).replies;
  }

  /** A page; `user` is whose read marker `first_unread` means (a token's subject, or `?user=`). */
  async page(request: PageRequest, user?: string): Promise<Outcome<PageBody>> {
    const reader = user === undefined ? undefined : { user, socket: false };
    return this.#call(({ store }) =>
      store.page(request.anchor, request.before, request.after, reader),
    );
  }

  /** OFFSET / count(*) pages, for the benchmark's comparison (enabled by BENCH_NAIVE). */
  async naivePage(position: number, before: number, after: number): Promise<Outcome<PageBody>> {
    return this.#call(({ store }) => store.naivePage(position, before, after));
  }

  /** The object's own push work so far (bench-meter.ts); only with BENCH_STATS=1. */
  async benchStats(): Promise<Outcome<BenchStats>> {
    return this.#call(() => {
      if (!this.#meter) throw new ProtocolError("not_found", "bench stats are off");
      return this.#meter.stats();
    });
  }

  /** `exact` false: points at bucket starts near the even positions (an extension; see store.timeline). */
  async timeline(points: number, exact = true): Promise<Outcome<Timeline>> {
    return this.#call(({ store }) => store.timeline(points, exact));
  }

  /** Stores a batch from HTTP; `author` fills in messages that have none. */
  async insert(messages: NewMessage[], author: string): Promise<Outcome<InsertReply>> {
    return this.#call(async (room) => {
      const now = Date.now();
      const result = await room.write(inserting(messages.map((m) => draftOf(m, author, now))));
      // A message that arrived already deleted (a change held for it) is an arrival too.
      const inserted = result.results.filter((r) => !r.duplicate).length;
      return { inserted, duplicates: messages.length - inserted, total: result.total };
    });
  }

  /** Protocol 1.2: changes from HTTP by `user` (the token's subject, or the body's on an open worker). */
  async change(
    user: string,
    moderator: boolean,
    changes: Change[],
  ): Promise<Outcome<ChangesReply>> {
    return this.#call(async (room) => {
      const result = await room.write(changing({ user, moderator }, changes));
      return { results: result.results, total: result.total, seq: room.store.seq };
    });
  }

  async simulator(): Promise<Outcome<SimulatorState>> {
    return this.#call(({ simulator }) => simulator.state());
  }

  async startSimulator(update: SimulatorUpdate): Promise<Outcome<SimulatorState>> {
    return this.#call(({ simulator }) => simulator.start(update, Date.now()));
  }

  async stopSimulator(): Promise<Outcome<SimulatorState>> {
    return this.#call(({ simulator }) => simulator.stop());
  }

  /** The simulator's tick: at-least-once, so the simulator makes it idempotent. */
  override async alarm(): Promise<void> {
    await this.#room.simulator.tick(Date.now());
  }

  // ── WebSockets ───────────────────────────────────────────────────────────

  /** A WebSocket upgrade the worker has validated (user, scope, expiry in headers). */
  override async fetch(request: Request): Promise<Response> {
    return upgrade(this.#room, this.#channel, request);
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    await receive(this.#room, ws, raw, this.#log);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005/1006 are reserved and may not be sent back.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed: nothing to answer.
    } finally {
      this.#open?.sockets.forget(ws);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.warn(`[channel ${this.#channel}] socket error`, error);
    this.#open?.sockets.forget(ws);
  }
}
