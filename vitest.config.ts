import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // Over-the-wire tests start loopback servers; keep them from starving each other on 2 cores.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    env: {
      // The AWS SDK warns once per process that its releases after January 2027 need Node 22 (the
      // Lambdas' runtime). The lockfile pins releases that run on Node 20.19+, so in tests, where every
      // worker and spawned server is a new process, the notice is a dozen copies of nothing to act on.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  },
});
