/**
 * Starts and stops a real `wrangler dev` on loopback, for the bench and the
 * end-to-end tests: a free port, its own state directory, its own process
 * group (so stopping it stops workerd too).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DevServer {
  readonly url: string;
  readonly port: number;
  readonly persistDir: string;
  /** Everything wrangler printed, for diagnosing a failed start. */
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** State directory; a fresh temporary one by default. Reuse one to restart with persisted state. */
  readonly persistDir?: string;
  readonly port?: number;
  /** Extra `--var NAME:value` bindings. */
  readonly vars?: Record<string, string>;
  /** Where wrangler lives (default: node_modules/.bin of the working directory). */
  readonly wrangler?: string;
  readonly timeoutMs?: number;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "scrollback-"));
  const bin = join(process.cwd(), "node_modules", ".bin");
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child: ChildProcess = spawn(
    options.wrangler ?? join(bin, "wrangler"),
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistDir, "--log-level", "warn", ...vars],
        {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      // node_modules/.bin first: wrangler needs the Node 22 installed there, not the machine's.
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false" },
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
    const killed = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5_000);
    await exited;
    clearTimeout(killed);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(url);
      if (res.ok) return { url, port, persistDir, output: () => output, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url}:\n${output}`);
}
