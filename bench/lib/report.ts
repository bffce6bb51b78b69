import { formatSpread, spread, type Spread } from "./stats.js";

/** One measured step of one run. */
export interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
  exitCode: number | null;
  moRequests: number;
  moObjects: number;
  syncRequests: number;
  syncWrites: number;
  syncObjectReads: number;
  /** CPU time the sandbox OS2sync process spent during the step (Linux /proc; absent elsewhere). */
  syncCpuMs?: number;
  /** The same for the sandbox OS2mo process. */
  moCpuMs?: number;
  /** Changes in the plan (steps that save one). */
  changes?: number;
}

export interface StepSummary {
  label: string;
  runs: number;
  wallS: Spread;
  cpuS: Spread;
  /** CPU time as a share of wall time, per run. */
  cpuShare: Spread;
  rssMb: Spread;
  moRequests: Spread;
  moObjects: Spread;
  /** Objects read per OS2mo request (0 requests: objects). */
  objectsPerMoRequest: Spread;
  syncRequests: Spread;
  syncWrites: Spread;
  syncObjectReads: Spread;
  /** The sandbox OS2sync process's CPU time as a share of the step's wall time (1 = one core busy throughout). */
  syncCpuShare: Spread;
  moCpuShare: Spread;
  changes: Spread;
  exitCodes: (number | null)[];
}

export function summarize(label: string, samples: Sample[]): StepSummary {
  const pick = (f: (s: Sample) => number) => spread(samples.map(f));
  return {
    label,
    runs: samples.length,
    wallS: pick((s) => s.wallMs / 1000),
    cpuS: pick((s) => s.cpuMs / 1000),
    cpuShare: pick((s) => s.cpuMs / s.wallMs),
    rssMb: pick((s) => s.rssMb),
    moRequests: pick((s) => s.moRequests),
    moObjects: pick((s) => s.moObjects),
    objectsPerMoRequest: pick((s) => (s.moRequests === 0 ? s.moObjects : s.moObjects / s.moRequests)),
    syncRequests: pick((s) => s.syncRequests),
    syncWrites: pick((s) => s.syncWrites),
    syncObjectReads: pick((s) => s.syncObjectReads),
    syncCpuShare: spread(samples.filter((s) => s.syncCpuMs !== undefined).map((s) => s.syncCpuMs! / s.wallMs)),
    moCpuShare: spread(samples.filter((s) => s.moCpuMs !== undefined).map((s) => s.moCpuMs! / s.wallMs)),
    changes: spread(samples.filter((s) => s.changes !== undefined).map((s) => s.changes!)),
    exitCodes: samples.map((s) => s.exitCode),
  };
}

export function markdownTable(steps: StepSummary[]): string {
  const head = [
    "step",
    "wall s",
    "CPU s",
    "CPU/wall",
    "peak RSS MB",
    "OS2mo req",
    "objects/OS2mo req",
    "OS2sync req",
    "of which writes",
    "plan changes",
    "sandbox CPU/wall: OS2mo, OS2sync",
  ];
  const pct = (x: Spread) => (Number.isNaN(x.median) ? "–" : `${(x.median * 100).toFixed(0)} %`);
  const rows = steps.map((s) => [
    s.label,
    formatSpread(s.wallS, 2),
    formatSpread(s.cpuS, 2),
    formatSpread({ ...s.cpuShare, median: s.cpuShare.median * 100, min: s.cpuShare.min * 100, max: s.cpuShare.max * 100 }, 0) + " %",
    formatSpread(s.rssMb, 0),
    formatSpread(s.moRequests, 0),
    formatSpread(s.objectsPerMoRequest, 0),
    formatSpread(s.syncRequests, 0),
    formatSpread(s.syncWrites, 0),
    formatSpread(s.changes, 0),
    `${pct(s.moCpuShare)}, ${pct(s.syncCpuShare)}`,
  ]);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export interface Ratio {
  label: string;
  /** stsorg / baseline (or whatever stsorg is compared with), per run. */
  ratio: Spread;
  stsorg: Spread;
  baseline: Spread;
}

/**
 * Per-run ratios: both sides of a run share the machine's load at that moment. Runs without a baseline
 * measurement of their own are divided by the baseline's median.
 */
export function ratio(label: string, ours: number[], theirs: number[]): Ratio {
  const base = spread(theirs);
  return { label, ratio: spread(ours.map((v, i) => v / (theirs[i] ?? base.median))), stsorg: spread(ours), baseline: base };
}

export function ratioTable(title: string, ratios: Ratio[], other = "baseline"): string {
  const fmt = (s: Spread) => {
    const d = Math.abs(s.median) >= 100 || s.median === 0 ? 0 : Math.abs(s.median) >= 1 ? 2 : 4;
    return formatSpread(s, d);
  };
  const rows = ratios.map((r) => `| ${r.label} | ${fmt(r.stsorg)} | ${fmt(r.baseline)} | ${fmt(r.ratio)} |`);
  return [`| ${title} | stsorg | ${other} | stsorg/${other} |`, "| --- | --- | --- | --- |", ...rows].join("\n");
}
