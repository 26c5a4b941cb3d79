/**
 * `npm start`: the demo in one command. Starts `wrangler dev` (state persisted
 * under .wrangler/), seeds the `demo` channel when it is empty, starts the
 * simulator on it, and prints how to connect. Ctrl-C stops everything.
 *
 *   npm start -- [--port 8787] [--channel demo] [--count 1000000] [--no-simulator]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { parseArgs } from "node:util";
import type { SimulatorState, Stats } from "../src/protocol/schemas.ts";
import { api } from "./lib/api.ts";
import { SEED_DEFAULTS, seed } from "./seed.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    channel: { type: "string", default: "demo" },
    count: { type: "string", default: String(SEED_DEFAULTS.count) },
    "no-simulator": { type: "boolean", default: false },
  },
});
const port = Number(values.port);
const url = `http://127.0.0.1:${port}`;
const { channel } = values;

const OFFLINE_NOISE = ["Request.cf", "ENOTFOUND workers.cloudflare.com", "GetAddrInfoReqWrap"];

/** Starts wrangler dev in its own process group, so Ctrl-C can stop all of it. */
function startWrangler(): ChildProcess {
  const child = spawn(
    "wrangler",
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", ".wrangler/state"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const relay = (stream: NodeJS.ReadableStream | null) =>
    stream?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        // Offline, wrangler cannot fetch Request.cf data: harmless, and noisy on every start.
        if (!line.trim() || OFFLINE_NOISE.some((noise) => line.includes(noise))) continue;
        process.stdout.write(`[wrangler] ${line}\n`);
      }
    });
  relay(child.stdout);
  relay(child.stderr);
  return child;
}

async function waitUntilUp(child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer on ${url} within ${timeoutMs / 1000} s`);
}

const child = startWrangler();
let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {
      child.kill("SIGINT");
    }
  }
  setTimeout(() => process.exit(code), 1500).unref();
  child.once("exit", () => process.exit(code));
};
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
child.once("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping.`);
    process.exit(code ?? 1);
  }
});

try {
  await waitUntilUp(child, 120_000);
  let stats = await api<Stats>({ url }, `/v1/channels/${channel}`);
  if (stats.total === 0) {
    console.log(
      `Seeding ${values.count} messages into "${channel}" (once; kept in .wrangler/state)…`,
    );
    const result = await seed({
      ...SEED_DEFAULTS,
      url,
      channel,
      count: Number(values.count),
      progress: process.stderr.isTTY === true,
    });
    console.log(`Seeded in ${(result.ms / 1000).toFixed(1)} s: total ${result.total}.`);
    stats = await api<Stats>({ url }, `/v1/channels/${channel}`);
  } else {
    console.log(`"${channel}" already holds ${stats.total} messages (${stats.lateTotal} late).`);
  }
  if (!values["no-simulator"]) {
    const sim = await api<SimulatorState>({ url }, `/v1/channels/${channel}/simulator`, {
      method: "PUT",
      body: {},
    });
    const s = sim.settings;
    console.log(
      `Simulator running: ${s.rate} msg/s, ${s.lateRatio * 100}% late, a chunk of ~${s.chunkSize} every ~${s.chunkEvery} s.`,
    );
  }
  console.log(`
Scrollback is up on ${url}

  Demo page:   ${url}/?channel=${channel}
  WebSocket:   ws://127.0.0.1:${port}/v1/channels/${channel}/ws?user=alice
  Newest page: curl '${url}/v1/channels/${channel}/messages?anchor=newest&before=25&after=0'
  Jump to 37%: curl '${url}/v1/channels/${channel}/messages?anchor=pos:${Math.round(stats.total * 0.37)}&before=25&after=25'
  Stats:       curl '${url}/v1/channels/${channel}'
  Simulator:   curl -X DELETE '${url}/v1/channels/${channel}/simulator'   (stop)

Ctrl-C stops it.`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  stop(1);
}
