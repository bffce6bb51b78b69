import {
  hashCpr,
  isHashedCpr,
  normaliseCpr,
  type Attributes,
  type FieldName,
  type StateFile,
  type StateResource,
  type UserRegistration,
} from "../model/index.js";
import { attributesSha256, compareAddress, realSleep, type StateBackend } from "../state/index.js";
import { differingFields, displayName } from "./compare.js";
import type { AppliedWrite } from "./result.js";
import { errorMessage, type FkReader } from "./writer.js";

export interface ConfirmOptions {
  timeoutMs: number;
  /** Wait between rounds of read-backs (default 2 s). */
  pollMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  unmanagedFields?: readonly FieldName[];
  cprHashKey?: string;
  /** Read-backs in flight at most (default 8). */
  parallelism?: number;
}

export interface ConfirmResult {
  confirmed: AppliedWrite[];
  /**
   * Writes FK did not show in time, with what the last read-back saw: `current` is FK's content, null when
   * the object is not in FK, absent when it could not be read.
   */
  unconfirmed: { write: AppliedWrite; reason: string; current?: Attributes | null }[];
}

/**
 * `apply --wait`: reads the written objects back until each shows the written content (a delete: the
 * object is gone) or the time is up. OS2sync accepts writes into a queue and can drop or reject them
 * later without telling anyone; this is how such a write is found.
 */
export async function confirmWrites(writes: readonly AppliedWrite[], reader: FkReader, opts: ConfirmOptions): Promise<ConfirmResult> {
  const now = opts.now ?? (() => new Date());
  const sleep = opts.sleep ?? realSleep;
  const pollMs = opts.pollMs ?? 2_000;
  const deadline = now().getTime() + opts.timeoutMs;
  const confirmed: AppliedWrite[] = [];
  let outstanding = writes.filter((w) => {
    if (w.confirmed) confirmed.push(w);
    return !w.confirmed;
  });
  const reasons = new Map<AppliedWrite, string>();
  const seen = new Map<AppliedWrite, Attributes | null>();

  const check = async (w: AppliedWrite): Promise<boolean> => {
    try {
      const current = w.kind === "orgunit" ? await reader.getOrgUnit(w.uuid) : await reader.getUser(w.uuid);
      seen.set(w, current ?? null);
      if (w.action === "delete") {
        if (current === undefined) return true;
        reasons.set(w, "still present in FK");
        return false;
      }
      if (current === undefined) {
        reasons.set(w, "not found in FK");
        return false;
      }
      const diffs = differingFields(w.kind, w.attributes!, current, opts);
      if (diffs.length === 0) return true;
      reasons.set(w, `FK differs in ${diffs.join(", ")}`);
      return false;
    } catch (e) {
      reasons.set(w, `read-back failed: ${errorMessage(e)}`);
      seen.delete(w);
      return false;
    }
  };

  for (;;) {
    const results = await mapBounded(outstanding, Math.max(1, opts.parallelism ?? 8), check);
    const still: AppliedWrite[] = [];
    outstanding.forEach((w, i) => (results[i] ? confirmed.push(w) : still.push(w)));
    outstanding = still;
    const left = deadline - now().getTime();
    if (outstanding.length === 0 || left <= 0) break;
    await sleep(Math.min(pollMs, left));
  }
  return {
    confirmed,
    unconfirmed: outstanding.map((w) => ({ write: w, reason: reasons.get(w) ?? "not confirmed", ...(seen.has(w) ? { current: seen.get(w) } : {}) })),
  };
}

/**
 * Records what FK holds for writes it did not take (OS2sync's queue refused them, or has not got to them):
 * an object FK does not have leaves the state, one it has is recorded with FK's content. The state then
 * tells the truth, so the next plan proposes those writes again instead of reporting drift, and a refused
 * delete stays managed (and planned) rather than forgotten. Serial + 1 when anything changed.
 */
export function recordUnconfirmed(state: StateFile, unconfirmed: ConfirmResult["unconfirmed"], opts: { now: Date; cprHashKey?: string }): StateFile {
  const resources = new Map(state.resources.map((r) => [r.address, r]));
  let changed = false;
  for (const u of unconfirmed) {
    if (u.current === undefined) continue;
    const w = u.write;
    const existing = resources.get(w.address);
    if (u.current === null) {
      changed = resources.delete(w.address) || changed;
      continue;
    }
    const attributes = storedForm(w.kind, u.current, opts.cprHashKey);
    const r: StateResource = {
      address: w.address,
      kind: w.kind,
      uuid: w.uuid,
      name: displayName(w.kind, attributes),
      attributes,
      attributes_sha256: attributesSha256(attributes),
      applied_at: existing?.applied_at ?? opts.now.toISOString(),
      confirmed: true,
      origin: existing?.origin ?? "updated",
    };
    resources.set(w.address, r);
    changed = true;
  }
  if (!changed) return state;
  return { ...state, serial: state.serial + 1, resources: [...resources.values()].sort((a, b) => compareAddress(a.address, b.address)) };
}

/** FK's content as state keeps it: a CPR only as its keyed hash, or not at all without a key. */
function storedForm(kind: AppliedWrite["kind"], current: Attributes, key: string | undefined): Attributes {
  if (kind === "orgunit") return current;
  const user = current as UserRegistration;
  const cpr = user.Person?.Cpr;
  if (cpr === undefined || isHashedCpr(cpr)) return current;
  const person = { ...user.Person };
  const clear = normaliseCpr(cpr);
  if (key !== undefined && clear !== undefined) person.Cpr = hashCpr(clear, key);
  else delete person.Cpr;
  return { ...user, Person: person };
}

/** Marks the resources a read-back confirmed; serial + 1 when anything changed. */
export function markConfirmed(state: StateFile, addresses: Iterable<string>): StateFile {
  const set = new Set(addresses);
  let changed = false;
  const resources = state.resources.map((r) => {
    if (!set.has(r.address) || r.confirmed) return r;
    changed = true;
    return { ...r, confirmed: true };
  });
  return changed ? { ...state, serial: state.serial + 1, resources } : state;
}

/** Confirms the writes and records the confirmations in the stored state. */
export async function confirmAndRecord(
  backend: StateBackend,
  writes: readonly AppliedWrite[],
  reader: FkReader,
  opts: ConfirmOptions & { lockId?: string },
): Promise<ConfirmResult> {
  const result = await confirmWrites(writes, reader, opts);
  const state = await backend.read();
  if (state !== null) {
    const marked = markConfirmed(
      state,
      result.confirmed.filter((w) => w.action !== "delete").map((w) => w.address),
    );
    const recorded = recordUnconfirmed(marked, result.unconfirmed, {
      now: (opts.now ?? (() => new Date()))(),
      ...(opts.cprHashKey !== undefined ? { cprHashKey: opts.cprHashKey } : {}),
    });
    // One state write for both: serial + 1 over what was read.
    const next = recorded === marked ? marked : { ...recorded, serial: state.serial + 1 };
    if (next !== state) {
      await backend.write(next, { lineage: state.lineage, serial: state.serial, ...(opts.lockId !== undefined ? { lockId: opts.lockId } : {}) });
    }
  }
  return result;
}

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
