/**
 * Timing of the plan engine and the human view on a large first plan (not a test: run by hand).
 *   npx rolldown test/unit/plan/measure.ts -o /tmp/stsorg-measure.mjs -p node -e chalk,diff --log-level silent \
 *     && node /tmp/stsorg-measure.mjs [units] [users] [first|steady]
 * `first`: every object a create (empty FK). `steady`: FK and state already hold everything (no changes).
 * Prints the median of three runs of each.
 */
import { performance } from "node:perf_hooks";
import { computePlan } from "../../../src/plan/index.js";
import { renderHuman, renderMarkdown } from "../../../src/views/index.js";
import { actualOf, largeFirstPlan, resource, stateOf } from "./scenario.js";

const units = Number(process.argv[2] ?? 3000);
const users = Number(process.argv[3] ?? 30000);
const mode = process.argv[4] === "steady" ? "steady" : "first";
const first = largeFirstPlan(units, users);
const desiredUnits = [...first.desired.orgUnits.values()];
const desiredUsers = [...first.desired.users.values()];
const input =
  mode === "first"
    ? first
    : {
        ...first,
        actual: actualOf(desiredUnits, desiredUsers),
        state: stateOf([...desiredUnits.map((u) => resource("orgunit", u)), ...desiredUsers.map((u) => resource("user", u))]),
      };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = <T>(f: () => T): [number, T] => {
  const t0 = performance.now();
  const r = f();
  return [performance.now() - t0, r];
};

const planTimes: number[] = [];
const humanTimes: number[] = [];
const mdTimes: number[] = [];
let size = 0;
for (let i = 0; i < 3; i++) {
  const [tp, plan] = time(() => computePlan(input));
  const [th, text] = time(() => renderHuman(plan, { color: false }));
  const [tm] = time(() => renderMarkdown(plan, {}));
  planTimes.push(tp);
  humanTimes.push(th);
  mdTimes.push(tm);
  size = text.length;
}
console.log(`${units} units + ${users} users, ${mode === "first" ? `first plan (${units + users} creates)` : "steady state (no changes)"}`);
console.log(`computePlan    median ${median(planTimes).toFixed(0)} ms  (runs: ${planTimes.map((t) => t.toFixed(0)).join(", ")})`);
console.log(`renderHuman    median ${median(humanTimes).toFixed(0)} ms  (runs: ${humanTimes.map((t) => t.toFixed(0)).join(", ")}; ${(size / 1e6).toFixed(1)} MB of text)`);
console.log(`renderMarkdown median ${median(mdTimes).toFixed(0)} ms  (runs: ${mdTimes.map((t) => t.toFixed(0)).join(", ")})`);
