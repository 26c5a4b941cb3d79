/**
 * `npm start`: the demo in one command. Starts `wrangler dev` (state persisted
 * under .wrangler/), seeds the `demo` channel when it is empty, starts the
 * simulator on it (or stops it, with --no-simulator), and prints how to
 * connect. Ctrl-C (or SIGTERM) stops the simulator, then wrangler.
 *
 * The log is for people: wrangler's per-request lines only with --verbose,
 * no colour codes when stdout is not a terminal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { SimulatorState, Stats } from "../src/protocol/schemas.ts";
import { api } from "./lib/api.ts";
import { cli, intFlag } from "./lib/cli.ts";
import { ROOT, WRANGLER, wranglerDevArgs, wranglerEnv } from "./lib/server.ts";
import { SEED_DEFAULTS, seed } from "./seed.ts";

const { values, fail } = cli({
  usage: "npm start -- [--port 8787] [--channel demo] [--count 1000000] [--no-simulator]",
  summary:
    "Runs the demo: wrangler dev, a seeded channel (once), the simulator; Ctrl-C stops it all.",
  options: {
    port: { type: "string", default: "8787", hint: "the port to listen on (127.0.0.1)" },
    channel: { type: "string", default: "demo", hint: "the channel to seed and simulate" },
    count: { type: "string", default: String(SEED_DEFAULTS.count), hint: "messages to seed" },
    "no-simulator": { type: "boolean", default: false, hint: "leave the simulator off" },
    verbose: { type: "boolean", default: false, hint: "wrangler's log, every request included" },
  },
});
const port = intFlag(fail, "port", values.port, 1, 65_535);
const count = intFlag(fail, "count", values.count, 1, 100_000_000);
const url = `http://127.0.0.1:${port}`;
const { channel } = values;
const simulatorPath = `/v1/channels/${channel}/simulator`;
/** Colours and cursor codes only for a terminal; a log file gets plain text. */
const tty = process.stdout.isTTY === true;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes start with ESC.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

const OFFLINE_NOISE = ["Request.cf", "ENOTFOUND workers.cloudflare.com", "GetAddrInfoReqWrap"];

/** Starts wrangler dev in its own process group, so Ctrl-C can stop all of it. */
function startWrangler(): ChildProcess {
  const child = spawn(
    WRANGLER,
    wranglerDevArgs({
      port,
      persistTo: ".wrangler/state",
      // Requests are logged at "info": one line each, hundreds while seeding.
      logLevel: values.verbose ? "info" : "warn",
    }),
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: wranglerEnv(tty ? {} : { NO_COLOR: "1", FORCE_COLOR: "0" }),
    },
  );
  child.once("error", (err) => {
    console.error(`Could not start wrangler (${WRANGLER}): ${err.message}. Run npm install first.`);
    process.exit(1);
  });
  const relay = (stream: NodeJS.ReadableStream | null) =>
    stream?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        const text = tty ? line : line.replace(ANSI, "");
        // Offline, wrangler cannot fetch Request.cf data: harmless, and noisy on every start.
        if (!text.trim() || OFFLINE_NOISE.some((noise) => text.includes(noise))) continue;
        process.stdout.write(`[wrangler] ${text}\n`);
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
let up = false;
let stopping = false;

/** Stops the simulator (it must not outlive the run: alarms resume it on the next start), then wrangler. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (up) {
    try {
      await api({ url }, simulatorPath, { method: "DELETE", signal: AbortSignal.timeout(5_000) });
      console.log("Simulator stopped.");
    } catch (err) {
      console.error(`Could not stop the simulator: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {
      child.kill("SIGINT");
    }
  }
  setTimeout(() => process.exit(code), 5_000).unref();
  child.once("exit", () => process.exit(code));
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
child.once("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping.`);
    process.exit(code ?? 1);
  }
});

try {
  await waitUntilUp(child, 120_000);
  up = true;
  let stats = await api<Stats>({ url }, `/v1/channels/${channel}`);
  if (stats.total === 0) {
    console.log(`Seeding ${count} messages into "${channel}" (once; kept in .wrangler/state)…`);
    const result = await seed({ ...SEED_DEFAULTS, url, channel, count, progress: true });
    console.log(`Seeded in ${(result.ms / 1000).toFixed(1)} s: total ${result.total}.`);
    stats = await api<Stats>({ url }, `/v1/channels/${channel}`);
  } else {
    console.log(`"${channel}" already holds ${stats.total} messages (${stats.lateTotal} late).`);
  }
  if (values["no-simulator"]) {
    // A previous run may have left it running: off means off.
    await api({ url }, simulatorPath, { method: "DELETE" });
    console.log("Simulator off (--no-simulator).");
  } else {
    const sim = await api<SimulatorState>({ url }, simulatorPath, { method: "PUT", body: {} });
    const s = sim.settings;
    const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;
    console.log(
      `Simulator running: ${s.rate} msg/s, ${percent(s.lateRatio)} late, a chunk of ~${s.chunkSize} every ~${s.chunkEvery} s;\n` +
        `  of all arrivals ${percent(s.editRatio)} edits, ${percent(s.deleteRatio)} deletes, ${percent(s.reactRatio)} reactions.`,
    );
  }
  console.log(`
Scrollback is up on ${url}

  Demo page:   ${url}/?channel=${channel}
  API:         ${url}/docs   (OpenAPI: ${url}/v1/openapi.json)
  WebSocket:   ws://127.0.0.1:${port}/v1/channels/${channel}/ws?user=alice
  Newest page: curl '${url}/v1/channels/${channel}/messages?anchor=newest&before=25&after=0'
  Jump to 37%: curl '${url}/v1/channels/${channel}/messages?anchor=pos:${Math.round(stats.total * 0.37)}&before=25&after=25'
  Stats:       curl '${url}/v1/channels/${channel}'
  Simulator:   curl -X DELETE '${url}/v1/channels/${channel}/simulator'   (stop)

Ctrl-C stops the simulator, then the server.`);
} catch (err) {
  if (!stopping) {
    console.error(err instanceof Error ? err.message : err);
    await stop(1);
  }
}
