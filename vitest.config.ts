import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // Over-the-wire tests start loopback servers; keep them from starving each other on 2 cores.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
