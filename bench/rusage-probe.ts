/**
 * Preloaded with `node --import` where GNU time is missing: writes the process's own resource usage
 * (user/system CPU in µs, peak RSS in KiB) to $STSORG_BENCH_RUSAGE_FILE when it exits.
 */
import { writeFileSync } from "node:fs";

const file = process.env.STSORG_BENCH_RUSAGE_FILE;
if (file) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ userCPUTime: u.userCPUTime, systemCPUTime: u.systemCPUTime, maxRSS: u.maxRSS }));
  });
}
