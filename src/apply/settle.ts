import {
  type Attributes,
  type FieldName,
  type PendingWrite,
  type ResourceAddress,
  type StateFile,
  type StateResource,
  parseAddress,
} from "../model/index.js";
import { attributesSha256, compareAddress, type StateBackend } from "../state/index.js";
import { attributesMatch, displayName } from "./compare.js";
import { errorMessage, type FkReader } from "./writer.js";

/**
 * What became of one journal entry left by an interrupted run:
 * - `applied`: FK holds the attributes that were being written; recorded in state (unconfirmed).
 * - `deleted`: the object that was being deleted is gone; removed from state.
 * - `not-applied`: FK does not show the write; the entry is dropped and the state entry left as it
 *   was, so the next plan computes the change again.
 * - `unreadable`: the read-back failed; the entry stays, and nothing may be planned until it is settled.
 */
export interface SettleOutcome {
  address: ResourceAddress;
  action: PendingWrite["action"];
  outcome: "applied" | "deleted" | "not-applied" | "unreadable";
  detail?: string;
}

export interface SettleReport {
  /** The settled state: serial raised by one when anything changed. */
  state: StateFile;
  outcomes: SettleOutcome[];
  /** True when every entry was settled (none `unreadable`). */
  complete: boolean;
}

export interface SettleOptions {
  now?: () => Date;
  unmanagedFields?: readonly FieldName[];
  cprHashKey?: string;
  /** Read-backs in flight at most (default 8). */
  parallelism?: number;
}

/** Reads back every object with a pending write and settles the entry (see SettleOutcome). */
export async function settlePending(state: StateFile, reader: FkReader, opts: SettleOptions = {}): Promise<SettleReport> {
  if (state.pending.length === 0) return { state, outcomes: [], complete: true };
  const now = opts.now ?? (() => new Date());
  const resources = new Map(state.resources.map((r) => [r.address, r]));
  const keep: PendingWrite[] = [];
  const outcomes: SettleOutcome[] = new Array(state.pending.length);

  const settleOne = async (p: PendingWrite, index: number): Promise<void> => {
    const parsed = parseAddress(p.address);
    if (!parsed) {
      outcomes[index] = { address: p.address, action: p.action, outcome: "not-applied", detail: "unknown address; entry dropped" };
      return;
    }
    let current: Attributes | undefined;
    try {
      current = parsed.kind === "orgunit" ? await reader.getOrgUnit(parsed.uuid) : await reader.getUser(parsed.uuid);
    } catch (e) {
      keep.push(p);
      outcomes[index] = { address: p.address, action: p.action, outcome: "unreadable", detail: errorMessage(e) };
      return;
    }
    if (p.action === "delete") {
      if (current === undefined) {
        resources.delete(p.address);
        outcomes[index] = { address: p.address, action: p.action, outcome: "deleted" };
      } else {
        outcomes[index] = { address: p.address, action: p.action, outcome: "not-applied", detail: "the object is still in FK" };
      }
      return;
    }
    if (p.attributes && current !== undefined && attributesMatch(parsed.kind, p.attributes, current, opts)) {
      const existing = resources.get(p.address);
      const r: StateResource = {
        address: p.address,
        kind: parsed.kind,
        uuid: parsed.uuid,
        name: displayName(parsed.kind, p.attributes),
        attributes: p.attributes,
        attributes_sha256: attributesSha256(p.attributes),
        applied_at: now().toISOString(),
        confirmed: false,
        origin: existing?.origin ?? (p.action === "create" ? "created" : "updated"),
      };
      resources.set(p.address, r);
      outcomes[index] = { address: p.address, action: p.action, outcome: "applied" };
    } else {
      outcomes[index] = {
        address: p.address,
        action: p.action,
        outcome: "not-applied",
        detail: current === undefined ? "the object is not in FK" : "FK holds other content",
      };
    }
  };

  const parallelism = Math.max(1, opts.parallelism ?? 8);
  let next = 0;
  const worker = async () => {
    while (next < state.pending.length) {
      const i = next++;
      await settleOne(state.pending[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, state.pending.length) }, worker));

  const pendingOrder = new Map(state.pending.map((p, i) => [p.id, i]));
  keep.sort((a, b) => pendingOrder.get(a.id)! - pendingOrder.get(b.id)!);
  const settled: StateFile = {
    ...state,
    serial: state.serial + 1,
    resources: [...resources.values()].sort((a, b) => compareAddress(a.address, b.address)),
    pending: keep,
  };
  return { state: settled, outcomes, complete: keep.length === 0 };
}

/** Reads the state, settles its journal and writes the result (compare-and-swap). Null when nothing was pending. */
export async function settleBackend(
  backend: StateBackend,
  reader: FkReader,
  opts: SettleOptions & { lockId?: string } = {},
): Promise<SettleReport | null> {
  return (await readSettled(backend, reader, opts)).report;
}

/**
 * The state with any interrupted run's writes settled first (see settleBackend), read once: a large
 * state takes a second or more to read and check, so a plan does not read it twice when nothing was
 * pending. After a settle the state is read back as stored.
 */
export async function readSettled(
  backend: StateBackend,
  reader: FkReader,
  opts: SettleOptions & { lockId?: string } = {},
): Promise<{ state: StateFile | null; report: SettleReport | null }> {
  const state = await backend.read();
  if (state === null || state.pending.length === 0) return { state, report: null };
  const report = await settlePending(state, reader, opts);
  const expected = { lineage: state.lineage, serial: state.serial, ...(opts.lockId !== undefined ? { lockId: opts.lockId } : {}) };
  await backend.write(report.state, expected);
  return { state: await backend.read(), report };
}

/** `Settled 3 writes left by an interrupted run: 2 applied, 1 not applied.` */
export function formatSettleReport(report: SettleReport): string {
  const count = (o: SettleOutcome["outcome"]) => report.outcomes.filter((x) => x.outcome === o).length;
  const parts = [
    ["applied", count("applied")],
    ["deleted", count("deleted")],
    ["not applied", count("not-applied")],
    ["could not be read back", count("unreadable")],
  ]
    .filter(([, n]) => (n as number) > 0)
    .map(([label, n]) => `${n} ${label}`);
  const lines = [`Settled ${report.outcomes.length} write(s) left by an interrupted run: ${parts.join(", ")}.`];
  for (const o of report.outcomes) if (o.outcome === "unreadable") lines.push(`  ${o.address}: ${o.detail ?? ""}`);
  return lines.join("\n");
}
