/**
 * The object's sockets: each one's session (user, scope, view), kept in its
 * attachment so it survives hibernation and cached in memory so a fan-out
 * does not deserialize every attachment; and each one's frame budget.
 */
import { TokenBucket } from "../core/rate-limit.ts";
import type { View } from "../core/view.ts";
import type { ServerFrame } from "../protocol/schemas.ts";
import { type Session, sessionOf } from "./session.ts";

/** A socket with its session. */
export interface Peer {
  readonly ws: WebSocket;
  readonly session: Session;
}

/** The per-socket frame budget (docs/protocol.md: 200 frames a second, bursts of 400 by default). */
export interface Budget {
  readonly rate: number;
  readonly burst: number;
}

export class Sockets {
  readonly #ctx: Pick<DurableObjectState, "getWebSockets" | "acceptWebSocket">;
  readonly #budget: Budget;
  readonly #sessions = new WeakMap<WebSocket, Session>();
  /**
   * Kept in memory only: a socket that had hibernated was idle long enough
   * for its bucket to be full again.
   */
  readonly #buckets = new WeakMap<WebSocket, TokenBucket>();
  /** The last frame each socket has in flight: the next one runs after it. */
  readonly #tails = new WeakMap<WebSocket, Promise<void>>();

  constructor(ctx: Pick<DurableObjectState, "getWebSockets" | "acceptWebSocket">, budget: Budget) {
    this.#ctx = ctx;
    this.#budget = budget;
  }

  /** Takes a new socket into the object (hibernatable) with its session. */
  accept(ws: WebSocket, session: Session): void {
    this.#ctx.acceptWebSocket(ws);
    this.#save(ws, session);
  }

  /** The socket's session: from memory, or from its attachment after a wake. */
  session(ws: WebSocket): Session | undefined {
    let session = this.#sessions.get(ws);
    if (!session) {
      session = sessionOf(ws);
      if (session) this.#sessions.set(ws, session);
    }
    return session;
  }

  /** Keeps the session in the attachment, then in memory. */
  #save(ws: WebSocket, session: Session): void {
    ws.serializeAttachment(session);
    this.#sessions.set(ws, session);
  }

  /** Declares the socket's view. */
  setView(ws: WebSocket, session: Session, view: View): Session {
    const next = { ...session, view };
    this.#save(ws, next);
    return next;
  }

  /** Sockets held now. */
  count(): number {
    return this.#ctx.getWebSockets().length;
  }

  /** Whether one of the sockets is `user`'s. */
  hasUser(user: string): boolean {
    return this.peers().some((p) => p.session.user === user);
  }

  /** Whether the object has any socket at all. */
  any(): boolean {
    return this.#ctx.getWebSockets().length > 0;
  }

  /** Every socket with a session. */
  peers(): Peer[] {
    return this.#ctx.getWebSockets().flatMap((ws) => {
      const session = this.session(ws);
      return session ? [{ ws, session }] : [];
    });
  }

  /** Spends one frame of the socket's budget; false when it is spent. */
  admit(ws: WebSocket, now: number): boolean {
    let bucket = this.#buckets.get(ws);
    if (!bucket) {
      bucket = new TokenBucket(this.#budget.rate, this.#budget.burst, now);
      this.#buckets.set(ws, bucket);
    }
    return bucket.take(now);
  }

  /** Runs `task` after every earlier task of the same socket; a task that rejects is answered by `failed`. */
  inOrder(ws: WebSocket, task: () => Promise<void>, failed: (err: unknown) => void): Promise<void> {
    // A task that throws must not stall the socket: a rejected link would skip every later one.
    const next = (this.#tails.get(ws) ?? Promise.resolve()).then(task).catch(failed);
    this.#tails.set(ws, next);
    return next;
  }

  /** A closed socket's budget is dropped (its session goes with its attachment). */
  forget(ws: WebSocket): void {
    this.#buckets.delete(ws);
    this.#tails.delete(ws);
  }
}

export function send(ws: WebSocket, frame: ServerFrame): void {
  sendRaw(ws, JSON.stringify(frame));
}

/** `ws.send` calls made in this isolate (the bench's meter reads it across one object's turn). */
let sent = 0;
export const framesSent = (): number => sent;

export function sendRaw(ws: WebSocket, text: string): void {
  sent++;
  try {
    ws.send(text);
  } catch {
    // The socket is closing; its close handler cleans up.
  }
}
