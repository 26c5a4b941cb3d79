/**
 * The chaos scenario's network: each tab's sockets go through a Link, which
 * the test can cut (what is in flight is lost) or keep down (every new
 * socket fails at once), with the last frames kept for a failure's message.
 */

export type SocketCtor = new (url: string) => WebSocket;

/**
 * One tab's network: its sockets go through it, and the test can cut the
 * current one (what is in flight to it is lost) or keep it down (every new
 * socket fails at once, so the client backs off and retries).
 */
export class Link {
  online = true;
  /** The last frames each way, for a failure's message. */
  readonly trace: string[] = [];
  note(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 60) this.trace.shift();
  }
  current: ChaosSocket | undefined;
  readonly Real: SocketCtor;
  readonly ctor: SocketCtor;
  constructor(Real: SocketCtor) {
    this.Real = Real;
    const link = this;
    this.ctor = class extends ChaosSocket {
      constructor(url: string) {
        super(url, link);
      }
    } as unknown as SocketCtor;
  }
  /** Cuts the current socket; false when there was none open. */
  drop(): boolean {
    const socket = this.current;
    if (!socket || socket.dead) return false;
    socket.kill();
    return true;
  }
}

/** A socket that forwards its real one's frames until it is cut, then says `close`. */
export class ChaosSocket extends EventTarget {
  dead = false;
  readonly #real: WebSocket | undefined;
  readonly #link: Link;
  constructor(url: string, link: Link) {
    super();
    link.current = this;
    this.#link = link;
    if (!link.online) {
      link.note("× offline");
      this.#real = undefined;
      queueMicrotask(() => this.kill());
      return;
    }
    const real = new link.Real(url);
    this.#real = real;
    real.addEventListener("message", (event) => {
      if (!this.dead) this.#link.note(`← ${brief(event.data)}`);
      if (!this.dead) this.dispatchEvent(Object.assign(new Event("message"), { data: event.data }));
    });
    real.addEventListener("close", () => this.kill());
    real.addEventListener("error", () => this.kill());
  }
  send(data: string): void {
    if (this.dead || !this.#real) throw new Error("the socket was cut");
    this.#link.note(`→ ${brief(data)}`);
    this.#real.send(data);
  }
  close(): void {
    this.kill();
  }
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.#link.note("× closed");
    try {
      this.#real?.close();
    } catch {
      // Still connecting: it is dropped all the same.
    }
    this.dispatchEvent(new Event("close"));
  }
}

/** A frame in a line: its fields, message lists as ids. */
function brief(data: unknown): string {
  if (typeof data !== "string") return String(data);
  const frame = JSON.parse(data) as Record<string, unknown>;
  return JSON.stringify(frame, (key, value) =>
    key === "messages" && Array.isArray(value)
      ? `${value.length}: ${value
          .slice(0, 3)
          .map((m: { id: string; position?: number }) => `${m.id}@${m.position ?? "?"}`)
          .join(",")}${value.length > 3 ? ",…" : ""}`
      : value,
  );
}

/** The chaos target's HTTP call (status and JSON body) over any fetch, e.g. the real one or a worker's. */
export function httpOver(fetcher: (request: Request) => Promise<Response>, base: string) {
  return async (
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> => {
    const res = await fetcher(
      new Request(`${base}${path}`, {
        method: init.method ?? "GET",
        ...(init.body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(init.body) }),
      }),
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
