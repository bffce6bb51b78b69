import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration and e2e tests start servers and child processes; two cores are the norm here.
    pool: "forks",
    maxWorkers: 2,
  },
});
