import { defineConfig } from "vitest/config";

// Every test file runs in its own forked process: namespace switches (setns) act on the
// calling thread, and a fork keeps one test file's switches away from another's.
export default defineConfig({
  test: {
    pool: "forks",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
