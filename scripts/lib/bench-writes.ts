/**
 * Write benchmarks for `npm run bench`: closed-loop single-message sends
 * (each socket waits for its `sent` before the next send, as a chat client
 * does), and insert → push latency at many live sockets while writers send.
 * They measure group commit: concurrent writers should share commits.
 */
import type { Server } from "./server.ts";

/** A socket that hands every frame but `hello` to `onFrame`. */
export function openSocket(
  server: Server,
  channel: string,
  user: string,
  onFrame: (data: string) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `${server.url.replace("http", "ws")}/v1/channels/${channel}/ws?user=${user}`,
    );
    socket.addEventListener("message", (event) => {
      const data = String(event.data);
      if (data.startsWith('{"type":"hello"')) resolve(socket);
      else onFrame(data);
    });
    // Whichever comes first says why it did not open (either is a no-op once it has).
    socket.addEventListener("error", (event) =>
      reject(new Error(`socket failed: ${(event as ErrorEvent).message ?? "no reason given"}`)),
    );
    socket.addEventListener("close", (event) =>
      reject(new Error(`socket closed before its hello: ${event.code} ${event.reason}`)),
    );
  });
}

export interface SendRun {
  /** Messages stored a second, over all writers. */
  readonly perSecond: number;
  /** Each send's time to its `sent`, ms. */
  readonly latencies: number[];
}

/**
 * `writers` sockets each send one message, wait for its `sent`, and send the
 * next, for `seconds`. Ids carry `sentAt` so watchers can time pushes.
 */
export async function closedLoopSends(
  server: Server,
  channel: string,
  writers: number,
  seconds: number,
  /** Least time between one writer's sends, ms (0: as fast as replies come). */
  paceMs = 0,
): Promise<SendRun> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let stored = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    let resolveSent: () => void = () => {};
    const socket = await openSocket(server, channel, `writer${w}`, (data) => {
      if (data.startsWith('{"type":"sent"')) resolveSent();
    });
    return async () => {
      for (let n = 0; performance.now() < deadline; n++) {
        const started = performance.now();
        const sent = new Promise<void>((resolve) => {
          resolveSent = resolve;
        });
        const id = `w${w}-${n}-${started.toFixed(3)}`;
        socket.send(JSON.stringify({ type: "send", messages: [{ id, text: "hi" }] }));
        await sent;
        latencies.push(performance.now() - started);
        stored++;
        const rest = started + paceMs - performance.now();
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
      socket.close();
    };
  });
  const runs = await Promise.all(loops);
  const started = performance.now();
  await Promise.all(runs.map((run) => run()));
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: Math.round(stored / elapsed), latencies };
}

/** A channel under load: live sockets watching while writers send. */
export interface LoadPlan {
  readonly watchers: number;
  readonly writers: number;
  readonly seconds: number;
  /** Least time between one writer's sends, ms. */
  readonly paceMs: number;
  /** Called once every watcher is open, just before the writers start. */
  readonly ready?: () => Promise<void>;
}

/**
 * insert → push latency at `watchers` live sockets while `writers` each send
 * a message every `paceMs`. A sample of the watchers parses its inserts: each
 * message's id carries the moment it was sent (client and server share this
 * machine's clock).
 */
export async function fanoutUnderLoad(
  server: Server,
  channel: string,
  plan: LoadPlan,
): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies: number[] = [];
  const SAMPLED = 25;
  const sockets = [];
  for (let i = 0; i < plan.watchers; i++) {
    const sampled = i % Math.ceil(plan.watchers / SAMPLED) === 0;
    sockets.push(
      await openSocket(server, channel, `watcher${i}`, (data) => {
        if (!sampled || !data.startsWith('{"type":"insert"')) return;
        const now = performance.now();
        const { messages } = JSON.parse(data) as { messages: { id: string }[] };
        for (const m of messages) latencies.push(now - Number(m.id.split("-")[2]));
      }),
    );
  }
  await plan.ready?.();
  const run = await closedLoopSends(server, channel, plan.writers, plan.seconds, plan.paceMs);
  for (const socket of sockets) socket.close();
  return { latencies, perSecond: run.perSecond };
}
