import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

// Projects: the pure core and protocol in plain Node, and the worker and
// its Durable Object inside the Workers runtime (workerd via miniflare).
/** Worker test files that also run with every socket on a relay (the `relay` project). */
const RELAYED = [
  "ws",
  "relay",
  "ws-push",
  "ws-late",
  "badge",
  "resume",
  "changes-push",
  "changes-resume",
  "reader-place",
  "reader-reactions",
  "reader-marker",
  "chaos",
  "ws-errors",
  "ws-concurrency",
  "ws-auth",
  "auth-http",
  "seq",
  "changes-errors",
  "changes-converge",
  "reader-errors",
  "group-commit",
  "faults",
  "faults-contained",
  "fuzz-ws",
  "simulator",
  "api-docs",
  "api-docs-1.2",
];

export default defineConfig({
  test: {
    // Vitest's default leaves a core idle on a 2-core machine (9.8 min here against 6 with both);
    // the tests count rows and checks, never time, so sharing the cores changes no outcome.
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Property tests count checks, not time: on 2 loaded cores 5 s (the default) is not enough.
          testTimeout: 120_000,
        },
      },
      {
        // Real `wrangler dev` servers on loopback, driven from Node: scripts, restarts, browser.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        // The same scenarios with every socket on a relay object (issue 18: RELAY_SOCKETS=0).
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { RELAY_SOCKETS: "0" } },
          }),
        ],
        test: {
          name: "relay",
          include: RELAYED.map((name) => `test/worker/${name}.test.ts`),
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Where sockets go (issue 18): a channel object that serves two itself, relays of two.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { RELAY_SOCKETS: "2", RELAY_CAPACITY: "2" } },
          }),
        ],
        test: {
          name: "relay-threshold",
          include: ["test/worker/relay-threshold.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // The relays' own tests need their projects' thresholds.
          exclude: [
            ...configDefaults.exclude,
            "test/worker/relay.test.ts",
            "test/worker/relay-threshold.test.ts",
          ],
          // The 1M-message suites seed in the runtime; they count rows, never time.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
