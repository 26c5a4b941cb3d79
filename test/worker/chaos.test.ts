/**
 * The client library's chaos test in workerd, with object evictions: the
 * scenario of test/support/chaos-engine.ts (tabs at the bottom, middle and
 * top; on-time, late and late-chunk batches over HTTP and sockets; socket
 * drops and offline spells), where the faults are `evictDurableObject` with
 * the sockets hibernated (the object restarts from storage under open
 * sockets) and with the sockets closed (every tab reconnects and resumes).
 * `ScrollbackClient` runs unchanged over a WebSocket shim on
 * `worker.fetch(… Upgrade: websocket)`. The host's environment does not
 * reach workerd, so the seeds are listed here (one channel each).
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runChaos, summary } from "../support/chaos-engine.ts";
import { httpOver } from "../support/chaos-link.ts";
import { worker } from "./net.ts";

const SEEDS = [20_261_112, 7, 8];
const STEPS = 18;

/** A browser-like WebSocket over the worker's upgrade: what `ScrollbackClient` needs of one. */
class WorkerSocket extends EventTarget {
  #ws: WebSocket | undefined;
  #gone = false;

  constructor(url: string) {
    super();
    const request = new Request(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
    worker.fetch(request).then(
      (res) => {
        const ws = res.webSocket;
        if (!ws) return this.#close();
        ws.accept();
        if (this.#gone) return ws.close(1000, "closed before open");
        this.#ws = ws;
        ws.addEventListener("message", (event) => {
          this.dispatchEvent(Object.assign(new Event("message"), { data: event.data }));
        });
        ws.addEventListener("close", () => this.#close());
        ws.addEventListener("error", () => this.#close());
      },
      () => this.#close(),
    );
  }

  send(data: string): void {
    if (!this.#ws || this.#gone) throw new Error("not open");
    this.#ws.send(data);
  }

  close(): void {
    try {
      this.#ws?.close(1000, "client closed");
    } catch {
      // Closed already.
    }
    this.#close();
  }

  #close(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.dispatchEvent(new Event("close"));
  }
}

describe("chaos: the client library in workerd, with evictions", () => {
  it.each(SEEDS)(
    "seed %i: every window and badge stays exact through drops, offline spells and evictions",
    async (seed) => {
      const channel = `chaos-worker-${seed}`;
      const stub = env.CHANNEL.get(env.CHANNEL.idFromName(channel));
      const report = await runChaos(
        {
          label: "worker",
          url: "http://x",
          http: httpOver((request) => worker.fetch(request), "http://x"),
          WebSocket: WorkerSocket as unknown as new (url: string) => WebSocket,
          faults: [
            {
              name: "eviction, sockets hibernated",
              run: () => evictDurableObject(stub, { webSockets: "hibernate" }),
            },
            {
              name: "eviction, sockets closed",
              run: () => evictDurableObject(stub, { webSockets: "close" }),
            },
          ],
        },
        {
          seed,
          channel,
          history: 3_000,
          steps: STEPS,
          faultEvery: 3,
          walkEvery: 6,
          quietTimeoutMs: 120_000,
          log: (line) => console.log(line),
        },
      );
      console.log(summary("worker", report));
      expect(report.faults).toBeGreaterThanOrEqual(2);
      expect(report.resyncs.complete).toBeGreaterThan(0);
    },
    300_000,
  );
});
