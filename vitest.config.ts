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
