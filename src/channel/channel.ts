/**
 * The channel's Durable Object: the runtime's entry points only (RPC from the
 * worker, the WebSocket upgrade and frames, the alarm). Each guards, makes
 * sure the room is open, and delegates: frames to dispatch.ts, writes to
 * writer.ts, pushes to delivery.ts, storage to store.ts, ticks to simulator.ts.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { ProtocolError, toErrorInfo } from "../protocol/errors.ts";
import type {
  Change,
  ChangesReply,
  InsertReply,
  NewMessage,
  PageBody,
  PageRequest,
  SimulatorState,
  SimulatorUpdate,
  Stats,
  Timeline,
} from "../protocol/schemas.ts";
import type { Outcome } from "./contract.ts";
import { deliver } from "./delivery.ts";
import { draftOf, type Room, receive } from "./dispatch.ts";
import { PushQueue } from "./push-queue.ts";
import { Simulator } from "./simulator.ts";
import { Sockets } from "./sockets.ts";
import { ChannelStore } from "./store.ts";
import { upgrade } from "./upgrade.ts";
import { changing, inserting, Writer } from "./writer.ts";

export type { Outcome } from "./contract.ts";

/** Answered by the runtime itself, without waking a hibernated object. */
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

interface Open extends Room {
  readonly simulator: Simulator;
}

export class Channel extends DurableObject<Env> {
  #open: Open | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
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
    const sockets = new Sockets(this.ctx, {
      rate: positive(this.env.WS_RATE, 200),
      burst: positive(this.env.WS_BURST, 400),
    });
    const pushes = new PushQueue(store, sockets, {
      coalesce: this.env.PUSH_COALESCE !== "0",
      later: (fn) => setTimeout(fn, 0),
      deliver: (deliveries) =>
        deliver(
          deliveries.map(({ effect, peers }) => ({ effect: effect.net(store), peers })),
          sockets,
          store,
          this.#log,
        ),
      log: this.#log,
    });
    const writer = new Writer(
      store,
      (effects) => pushes.stored(effects),
      () => this.ctx.storage.sync(),
      this.#log,
    );
    const simulator = new Simulator(store, this.ctx.storage, (write) => writer.write(write));
    this.#open = { store, sockets, pushes, simulator, write: (write) => writer.write(write) };
    return this.#open;
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
    return this.#call(({ store }) => ({
      channel: this.#channel,
      total: store.total,
      lateTotal: store.lateTotal,
      oldest: store.oldest(),
      newest: store.newest,
      seq: store.seq,
    }));
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

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
