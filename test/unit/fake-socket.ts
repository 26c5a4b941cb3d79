/**
 * A WebSocket the test plays the server of, for the client tests: it records
 * what the client sends and pushes what the test answers; with the helpers
 * that make a client over it, connect it, and answer its last request.
 */
import { type ClientOptions, ScrollbackClient } from "../../src/client/index.ts";

type Listener = (event: { data?: unknown }) => void;

/** A WebSocket the test plays the server of: it sees what the client sends and answers it. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readonly sent: Record<string, unknown>[] = [];
  readonly #listeners = new Map<string, Listener[]>();
  throwOnSend = false;
  closed = false;
  readonly url: string;
  readonly protocols: string | string[] | undefined;
  constructor(url: string, protocols?: string | string[]) {
    this.url = url;
    this.protocols = protocols;
    FakeSocket.all.push(this);
  }
  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  /** When set, plays the server: answers each frame a client sends, after its send returns (as a socket would). */
  static serve: ((frame: Record<string, unknown>, socket: FakeSocket) => void) | undefined;
  send(data: string): void {
    if (this.throwOnSend) throw new Error("InvalidStateError");
    const frame = JSON.parse(data);
    this.sent.push(frame);
    const serve = FakeSocket.serve;
    if (serve) queueMicrotask(() => serve(frame, this));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.#listeners.get("close") ?? []) l({});
  }
  /** The server sends a frame. */
  push(frame: Record<string, unknown>): void {
    for (const l of this.#listeners.get("message") ?? []) l({ data: JSON.stringify(frame) });
  }
  /** The last frame the client sent. */
  last(): Record<string, unknown> {
    const frame = this.sent.at(-1);
    if (!frame) throw new Error("nothing sent");
    return frame;
  }
}

export const hello = (seq: number, newest: { ts: number; id: string } | null = null) => ({
  type: "hello",
  protocol: 1,
  minor: 2,
  channel: "c",
  user: "u",
  total: seq,
  lateUnread: 0,
  newest,
  seq,
});
/** Lets the client's promise chains run (real macrotask; only timeouts are faked). */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

export function makeClient(options: Partial<ClientOptions> = {}): ScrollbackClient {
  return new ScrollbackClient({
    url: "http://x",
    channel: "c",
    user: "u",
    timeoutMs: 60_000,
    backoff: { initialMs: 10, maxMs: 10 },
    WebSocket: FakeSocket as unknown as NonNullable<ClientOptions["WebSocket"]>,
    ...options,
  });
}

/** A connected client and its socket. */
export async function connected(seq = 5) {
  const client = makeClient();
  const opened = client.connect();
  const socket = FakeSocket.all.at(-1) as FakeSocket;
  socket.push(hello(seq, { ts: 50, id: "m5" }));
  await opened;
  return { client, socket };
}

/** Answers the client's last request with `frame` plus its rid. */
export async function answer(socket: FakeSocket, frame: Record<string, unknown>): Promise<void> {
  await flush();
  socket.push({ ...frame, rid: socket.last().rid });
  await flush();
}
