/**
 * The worker in Miniflare directly, for the write benchmarks: the same bundle
 * in the same runtime (workerd) that `wrangler dev` runs, without wrangler's
 * local proxy, which on this machine caps socket traffic at a few hundred
 * frames a second whatever the worker does (measured: ~450 replies a second
 * from 20 sockets to a worker that writes nothing).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { freePort, ROOT, removeStateDir, type Server, tempStateDir } from "./server.ts";

/** Starts the worker, its Channel and Relay objects on a free loopback port, on fresh state. */
export async function startDirect(vars: Readonly<Record<string, string>> = {}): Promise<Server> {
  // workerd reads the script relative to the working directory: keep it inside the repository.
  const dir = join(ROOT, ".wrangler", "bench");
  mkdirSync(dir, { recursive: true });
  const scriptPath = join(dir, "worker.js");
  buildSync({
    entryPoints: [join(ROOT, "src/worker.ts")],
    bundle: true,
    format: "esm",
    outfile: scriptPath,
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  const persistTo = await tempStateDir();
  const port = await freePort();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath,
      compatibilityDate: "2026-11-01",
      durableObjects: {
        CHANNEL: { className: "Channel", useSQLite: true },
        RELAY: { className: "Relay", useSQLite: true },
      },
      bindings: { ...vars },
      durableObjectsPersist: persistTo,
      host: "127.0.0.1",
      port,
    }),
  );
  await mf.ready;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    persistTo,
    output: () => "",
    stop: async () => {
      await mf.dispose();
      await removeStateDir(persistTo);
    },
  };
}
