/**
 * The client library's chaos test against a real `wrangler dev` (issue 11,
 * item 4): tabs of several users hold windows at the bottom, middle and top
 * while random on-time, late and late-chunk batches land over HTTP and
 * sockets, sockets drop (some long enough that a resume is incomplete) and
 * the server restarts on its state. At every quiet point each window equals a
 * fresh page and the model, and each badge the user's `lateUnread`. The
 * scenario is test/support/chaos-engine.ts; CHAOS_SEED and CHAOS_STEPS
 * override the defaults. Object evictions (hibernation) cannot be made on
 * demand under `wrangler dev`: test/worker/chaos.test.ts runs the same
 * scenario in workerd with `evictDurableObject`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { removeStateDir, type Server, startServer } from "../../scripts/lib/server.ts";
import { runChaos, summary } from "../support/chaos-engine.ts";
import { httpOver } from "../support/chaos-link.ts";

const SEED = Number(process.env.CHAOS_SEED ?? 20_261_111);
const STEPS = Number(process.env.CHAOS_STEPS ?? 30);

let server: Server | undefined;
let stateDir: string | undefined;

afterAll(async () => {
  await server?.stop();
  if (stateDir) await removeStateDir(stateDir);
});

describe("chaos: the client library against wrangler dev", () => {
  it("keeps every window and badge exact through drops, offline spells and restarts", async () => {
    server = await startServer();
    stateDir = server.persistTo;
    const { url, port } = server;
    const report = await runChaos(
      {
        label: "e2e",
        url,
        http: httpOver((request) => fetch(request), url),
        WebSocket: globalThis.WebSocket,
        faults: [
          {
            name: "server restart on the same state and port",
            async run() {
              await server?.stop();
              server = undefined;
              server = await startServer({ persistTo: stateDir as string, port });
            },
          },
        ],
      },
      {
        seed: SEED,
        channel: "chaos-e2e",
        history: 3_000,
        steps: STEPS,
        faultEvery: Math.max(1, Math.floor(STEPS / 2)),
        walkEvery: 5,
        quietTimeoutMs: 120_000,
        log: (line) => console.log(line),
      },
    );
    console.log(summary("e2e", report));
    expect(report.faults).toBeGreaterThan(0);
    expect(report.resyncs.complete).toBeGreaterThan(0);
  }, 300_000);
});
