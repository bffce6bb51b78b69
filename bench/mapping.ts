/**
 * Mapping benchmark: time and memory of computeDesiredState on a generated municipality.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/stsorg-bench && \
 *     node --expose-gc /tmp/stsorg-bench/bench/mapping.js [--size large] [--runs 3] [--snapshot FILE]
 *
 * `--snapshot FILE` keeps the generated snapshot as JSON between runs (it must match --size).
 *
 * Memory is the mapping step's own: the process's peak RSS while mapping (Linux VmHWM, reset just
 * before the run through /proc/self/clear_refs) minus the RSS before it, with the snapshot already in
 * memory; also the heap still held by the result. CPU time (user + system, all threads: it includes
 * the garbage collector's helpers) and the main thread's CPU time are printed next to wall time because a
 * shared machine skews the latter.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { computeDesiredState } from "../src/mapping/index.js";
import { SYNC_POLICY_DEFAULTS, type DesiredState, type MoClassRef, type MoSnapshot, type SyncPolicy } from "../src/model/index.js";
import { FIXTURE_KEYS, generateMunicipality, snapshotFromFixture, type MunicipalitySize } from "../src/sandbox/fixtures/index.js";

const TODAY = "2026-01-15";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function vmKb(field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** CPU time of the main thread alone (ms; Linux, 10 ms resolution): the mapping's own work, without GC and JIT helpers. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function resetPeak(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Not Linux or not permitted: the peak then includes earlier phases.
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write("Run node with --expose-gc for meaningful memory figures.\n");
}

const size = arg("size", "large") as MunicipalitySize;
const runs = Number(arg("runs", "3"));

let t = performance.now();
const cache = arg("snapshot", "");
// Through JSON, as the reader hands it over after parsing OS2mo's answers (flat strings, fresh objects).
let json: string;
if (cache !== "" && existsSync(cache)) {
  json = readFileSync(cache, "utf8");
} else {
  const fixture = generateMunicipality({ size, seed: 1, today: TODAY });
  json = JSON.stringify(snapshotFromFixture(fixture, { today: TODAY }));
  if (cache !== "") writeFileSync(cache, json);
}
const snapshot = JSON.parse(json) as MoSnapshot;
json = "";
const prepMs = performance.now() - t;

// Class uuids from the snapshot itself, so a cached snapshot needs no fixture in memory.
const classUuid = (userKey: string, classes: Iterable<MoClassRef | null>): string => {
  for (const c of classes) if (c?.user_key === userKey) return c.uuid;
  throw new Error(`the snapshot has no class ${userKey}`);
};
const addressType = (userKey: string) => classUuid(userKey, snapshot.addresses.map((a) => a.address_type));
// Every setting with work behind it switched on, so the figure is the expensive case.
const policy: SyncPolicy = {
  ...SYNC_POLICY_DEFAULTS,
  topUnitUuid: snapshot.topUnitUuid,
  adminTopUuid: "5e1f0000-0000-4000-8000-000000000001",
  uuidFromItSystems: [FIXTURE_KEYS.itSystems.fkUuid],
  syncManagers: true,
  useContactForTasks: true,
  emailScopeClasses: [addressType(FIXTURE_KEYS.employeeAddress.email)],
  phoneScopeClasses: [addressType(FIXTURE_KEYS.employeeAddress.phone)],
  landlineScopeClasses: [addressType(FIXTURE_KEYS.employeeAddress.landline)],
  ignoredUnitTypes: [classUuid("Team", snapshot.orgUnits.map((u) => u.unit_type))],
  employeeEngagementAddress: ["Postadresse"],
};

process.stdout.write(
  `size=${size}: ${snapshot.orgUnits.length} units, ${snapshot.persons.length} persons, ${snapshot.engagements.length} engagements, ` +
    `${snapshot.addresses.length} addresses, ${snapshot.itUsers.length} IT users (ready in ${prepMs.toFixed(0)} ms)\n`,
);

const results: { ms: number; cpuMs: number; mainMs: number; peakMb: number; heapMb: number }[] = [];
for (let i = 0; i < runs; i++) {
  gc?.();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  if (i === 0) process.stdout.write(`heap with the snapshot loaded: ${(heapBefore / 1024 / 1024).toFixed(0)} MB\n`);
  const rssBefore = vmKb("VmRSS");
  resetPeak();
  t = performance.now();
  const cpu = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  let desired: DesiredState | undefined = computeDesiredState(snapshot, policy);
  const used = process.cpuUsage(cpu);
  const mainMs = mainThreadCpuMs() - main0;
  const ms = performance.now() - t;
  const cpuMs = (used.user + used.system) / 1000;
  const peakMb = (vmKb("VmHWM") - rssBefore) / 1024;
  const peakTotalMb = vmKb("VmHWM") / 1024;
  const counts = `${desired.orgUnits.size} units, ${desired.users.size} users, ${desired.issues.length} issues`;
  gc?.();
  const withResult = process.memoryUsage().heapUsed;
  desired = undefined;
  gc?.();
  const heapMb = (withResult - process.memoryUsage().heapUsed) / 1024 / 1024;
  results.push({ ms, cpuMs, mainMs, peakMb, heapMb });
  process.stdout.write(
    `run ${i + 1}: ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${mainMs.toFixed(0)} ms main thread), RSS ${(rssBefore / 1024).toFixed(0)} MB before, ` +
      `peak ${peakTotalMb.toFixed(0)} MB (+${peakMb.toFixed(0)} MB), result heap ${heapMb.toFixed(0)} MB ` +
      `(${counts})\n`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `median of ${runs}: ${median(results.map((r) => r.ms)).toFixed(0)} ms wall, ${median(results.map((r) => r.cpuMs)).toFixed(0)} ms CPU (${median(results.map((r) => r.mainMs)).toFixed(0)} ms main thread), peak RSS +${median(results.map((r) => r.peakMb)).toFixed(0)} MB, ` +
    `result heap ${median(results.map((r) => r.heapMb)).toFixed(0)} MB\n`,
);
