import { ensureBuilt } from "./e2e/cli.js";

/**
 * Runs once in vitest's main process before any test file: end-to-end tests run the real launcher
 * (bin/stsorg → dist/), so dist/ is rebuilt here when src/ is newer — once, instead of racing builds
 * from parallel test workers.
 */
export default function setup(): void {
  ensureBuilt();
}
