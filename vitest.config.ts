import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: the pure core and protocol in plain Node, and the worker and
// its Durable Object inside the Workers runtime (workerd via miniflare).
export default defineConfig({
  test: {
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
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // The 1M-message suites seed in the runtime; they count rows, never time.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
