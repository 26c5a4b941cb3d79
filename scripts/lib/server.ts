/**
 * A real `wrangler dev` for the end-to-end tests and the benchmark: started on a free loopback
 * port in its own process group (wrangler runs workerd as a child), with its
 * state under a directory the caller may reuse for a restart, and stopped by
 * signalling the whole group and waiting until every process of it is gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: wrangler.toml lives there. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The project's wrangler, whether or not npm put node_modules/.bin on PATH. */
export const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

/** `wrangler dev` on loopback: its port, its state directory, how much it logs, worker vars. */
export function wranglerDevArgs(options: {
  port: number;
  persistTo: string;
  logLevel: "warn" | "info";
  vars?: Readonly<Record<string, string>>;
}): string[] {
  return [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--persist-to",
    options.persistTo,
    "--log-level",
    options.logLevel,
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
}

/** The environment wrangler runs in: no metrics, and its `#!/usr/bin/env node` finds this Node. */
export function wranglerEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    ...extra,
  };
}

/** How long a start may take on a busy 2-core machine. */
const START_TIMEOUT_MS = 120_000;
/** How long the group gets to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Output kept for error messages. */
const KEEP_OUTPUT_CHARS = 20_000;
/** Lines wrangler prints offline on every start: expected, not a failure. */
const OFFLINE_NOISE = ["Request.cf", "ENOTFOUND", "GetAddrInfoReqWrap", "getaddrinfo"];

export interface Server {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Where wrangler keeps the Durable Objects' state; pass to {@link startServer} to restart on it. */
  readonly persistTo: string;
  /** What wrangler printed so far, offline noise left out. */
  output(): string;
  /** Stops the server and every process it started; resolves once they are all gone. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** A state directory to reuse; a fresh temporary one when absent. */
  readonly persistTo?: string;
  /** Extra environment for wrangler (e.g. for a browser test's settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** Worker variables, passed as `--var NAME:value` (e.g. BENCH_NAIVE for the benchmark). */
  readonly vars?: Readonly<Record<string, string>>;
  /** A port to listen on (to restart where clients reconnect); a free one by default. */
  readonly port?: number;
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** A fresh temporary directory for a server's state. */
export function tempStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "scrollback-e2e-"));
}

/** Removes a state directory made by {@link tempStateDir}. */
export function removeStateDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Starts `wrangler dev` and resolves once `GET /` answers 200. */
export async function startServer(options: ServerOptions = {}): Promise<Server> {
  const persistTo = options.persistTo ?? (await tempStateDir());
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    WRANGLER,
    wranglerDevArgs({ port, persistTo, logLevel: "warn", vars: options.vars ?? {} }),
    {
      cwd: ROOT,
      detached: true, // its own process group: stop() signals wrangler and workerd together
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerEnv(options.env),
    },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    const lines = chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim() && !OFFLINE_NOISE.some((noise) => line.includes(noise)));
    if (lines.length > 0) output = `${output}${lines.join("\n")}\n`.slice(-KEEP_OUTPUT_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const server: Server = {
    url,
    port,
    persistTo,
    output: () => output,
    stop: () => stopGroup(child, exited),
  };
  try {
    await waitUntilUp(url, child, () => output);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `wrangler dev exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `wrangler dev did not answer on ${url} within ${START_TIMEOUT_MS} ms:\n${output()}`,
  );
}

/** True while any process of the group led by `pid` is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    exited,
    new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  // wrangler may exit before workerd does: wait for the whole group, then insist.
  while (groupAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (groupAlive(pid)) {
    signalGroup(pid, "SIGKILL");
    // Bounded: an orphan left as a zombie (no reaping init) would look alive forever.
    const killDeadline = Date.now() + STOP_GRACE_MS;
    while (groupAlive(pid) && Date.now() < killDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (child.exitCode === null && child.signalCode === null) await exited;
}
