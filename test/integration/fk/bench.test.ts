import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFkSandbox, type FkSandbox } from "../../../src/sandbox/fk/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { refreshFromFk } from "../../../src/targets/fk/index.js";
import { Os2syncClient, refreshActual } from "../../../src/targets/os2sync/index.js";
import { defaultPolicy, fkWithDesired, stateAfterApply } from "./equality.js";
import { clientFor, CVR } from "./helpers.js";

/**
 * Request counts and times of the three reading refresh modes on the medium municipality, median of
 * three runs each, against the sandboxes (loopback, no FK behind OS2sync: real times are far longer
 * for `full` and `hierarchy`). Opt-in, since it measures rather than checks:
 *   STSORG_FK_BENCH=1 npx vitest run test/integration/fk/bench.test.ts
 */
const enabled = process.env.STSORG_FK_BENCH === "1";
const RUNS = 3;
let fk: FkSandbox;
let os2sync: Os2syncSandbox;
let state: ReturnType<typeof stateAfterApply>;

beforeAll(async () => {
  if (!enabled) return;
  const seeded = fkWithDesired("medium", defaultPolicy);
  state = stateAfterApply(seeded.desired);
  fk = await startFkSandbox({ store: seeded.store, cvr: CVR });
  // OS2sync's hierarchy job takes as long as the default sandbox says (50 ms): loopback, not FK's minutes.
  os2sync = await startOs2syncSandbox({ store: seeded.store, cvr: CVR });
});
afterAll(async () => {
  if (enabled) await Promise.all([fk.stop(), os2sync.stop()]);
});

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

describe.skipIf(!enabled)("refresh modes on the medium municipality (STSORG_FK_BENCH=1)", () => {
  it("measures fk, hierarchy and full", async () => {
    const rows: string[] = [];
    const now = () => new Date();
    for (const mode of ["fk", "hierarchy", "full"] as const) {
      const times: number[] = [];
      const requests: number[] = [];
      let objects = 0;
      for (let i = 0; i < RUNS; i++) {
        const started = performance.now();
        if (mode === "fk") {
          const client = clientFor(fk);
          const a = await refreshFromFk({ client, now, syncCpr: false, state });
          times.push(performance.now() - started);
          requests.push(client.stats.requests + client.stats.tokenRequests);
          objects = a.orgUnits.size + a.users.size;
          client.close();
        } else {
          const client = new Os2syncClient({ url: os2sync.url, cvr: CVR, hierarchyPollInitialMs: 50, hierarchyPollMaxMs: 200 });
          const a = await refreshActual(mode, { client, state, now, concurrency: 8 });
          times.push(performance.now() - started);
          requests.push(client.stats.requests);
          objects = a.orgUnits.size + a.users.size;
          client.close();
        }
      }
      rows.push(`| ${mode.padEnd(9)} | ${String(objects).padStart(7)} | ${String(median(requests)).padStart(8)} | ${(median(times) / 1000).toFixed(2).padStart(8)} |`);
      expect(objects).toBeGreaterThan(0);
    }
    const table = ["| refresh   | objects | requests | median s |", "|-----------|---------|----------|----------|", ...rows].join("\n");
    process.stdout.write(`\n${table}\n`);
  }, 600_000);
});
