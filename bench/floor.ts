/**
 * The transport floor of a first apply: the writes of a saved plan sent by a bare HTTP client — the
 * same transport and connection settings as stsorg's OS2sync client (its `exchange` on an undici Agent,
 * one connection per write in flight), the same requests (method, path, query, headers, body) and the same number in flight — and
 * nothing else: no state, no write-ahead journal, no checks, no progress, no retries.
 *
 * Measured by the benchmark as a process right next to the first apply, against the same sandbox and
 * latency, it shows how much of the first apply's CPU the HTTP exchange alone costs on this machine:
 * the part of the CLI's CPU per write that no change to the CLI's own work can remove.
 *
 * Run as a child process: configuration (with the api key) in $STSORG_BENCH_FLOOR as JSON; prints a JSON
 * summary on stdout.
 */
import { readFileSync } from "node:fs";
import { Agent } from "undici";
import { exchange, splitUrl } from "../src/targets/os2sync/exchange.js";

export interface FloorConfig {
  /** OS2sync's base URL including `/api`. */
  os2syncUrl: string;
  cvr: string;
  apiKey: string;
  /** A plan saved by `stsorg plan --out`. */
  planFile: string;
  parallelism: number;
}

export interface FloorSummary {
  writes: number;
  /** Answers other than 200. */
  refused: number;
}

interface PlannedChange {
  action: string;
  kind: "orgunit" | "user";
  uuid: string;
  after?: Record<string, unknown>;
}

interface Write {
  method: "POST" | "DELETE";
  path: string;
  body?: string;
}

/** The requests stsorg's apply sends for a plan's changes (users are written with bypassCache=true). */
function writesOf(changes: PlannedChange[]): Write[] {
  return changes.flatMap((c): Write[] => {
    const kind = c.kind === "orgunit" ? "orgUnit" : "user";
    if (c.action === "delete") return [{ method: "DELETE", path: `/${kind}/${c.uuid}` }];
    if (c.after === undefined) return [];
    return [{ method: "POST", path: c.kind === "user" ? "/user?bypassCache=true" : "/orgUnit", body: JSON.stringify(c.after) }];
  });
}

export async function runFloor(cfg: FloorConfig): Promise<FloorSummary> {
  const plan = JSON.parse(readFileSync(cfg.planFile, "utf8")) as { changes: PlannedChange[] };
  const writes = writesOf(plan.changes);
  const base = splitUrl(cfg.os2syncUrl.replace(/\/+$/, ""));
  const agent = new Agent({ connections: cfg.parallelism });
  const summary: FloorSummary = { writes: 0, refused: 0 };
  let next = 0;
  const worker = async () => {
    while (next < writes.length) {
      const w = writes[next++]!;
      const headers: Record<string, string> = { cvr: cfg.cvr, apiKey: cfg.apiKey };
      if (w.body !== undefined) headers["content-type"] = "application/json";
      const res = await exchange(agent, { origin: base.origin, path: base.path + w.path, method: w.method, headers, body: w.body, timeoutMs: 30_000 });
      summary.writes += 1;
      if (res.status !== 200) summary.refused += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.parallelism, writes.length) }, worker));
  await agent.close();
  return summary;
}

const raw = process.env.STSORG_BENCH_FLOOR;
if (raw) {
  const summary = await runFloor(JSON.parse(raw) as FloorConfig);
  process.stdout.write(JSON.stringify(summary) + "\n");
}
