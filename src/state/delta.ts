import { StateError } from "../errors/index.js";
import { canonicalJson, sha256Hex, type PendingWrite, type StateFile, type StateResource } from "../model/index.js";
import { compareAddress } from "./helpers.js";
import { compactResourceJson, isSealed, schemaProblems } from "./codec.js";

/**
 * A state journal: a version of the state stored as its difference from the version before, one JSON line
 * per version. Apply persists a growing state tens of times; with a journal each persist writes only what
 * changed since the last one (its journal entries and outcomes), instead of the whole state again.
 *
 * A line is canonical JSON (keys sorted, no spaces) of
 *   {checksum, lineage, serial, resources, removed, pending, settled}
 * where `resources` are resources added or replaced (whole), `removed` the addresses of resources forgotten,
 * `pending` journal entries added or replaced (whole; a replaced one keeps its place), `settled` the ids of
 * journal entries removed, and `checksum` is
 * `sha256:` + sha256 of the same line without its checksum member. `serial` is the version the line
 * makes: the one before plus one. The header of a state (environment, CVR, …) is never in a line: a
 * state whose header changes is stored whole.
 */
export interface StateDelta {
  lineage: string;
  serial: number;
  resources: StateResource[];
  removed: string[];
  pending: PendingWrite[];
  settled: string[];
}

const HEADER_KEYS = ["format_version", "lineage", "environment", "cvr", "admin_top_uuid", "tool_version"] as const;

/**
 * `next` as a change of `prev`, or undefined when it cannot be one (another lineage, a serial that is not
 * the next, a changed header). Unchanged resources and entries are recognised by identity: a sealed
 * (frozen) object that is in both states is the same content; anything else in `next` is written again.
 */
export function diffStates(prev: StateFile, next: StateFile): StateDelta | undefined {
  if (next.serial !== prev.serial + 1) return undefined;
  for (const k of HEADER_KEYS) if (prev[k] !== next[k]) return undefined;
  const resources: StateResource[] = [];
  const removed: string[] = [];
  const a = prev.resources;
  const b = next.resources;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : compareAddress(a[i]!.address, b[j]!.address);
    if (c < 0) removed.push(a[i++]!.address);
    else if (c > 0) resources.push(b[j++]!);
    else {
      const before = a[i++]!;
      const after = b[j++]!;
      if (before !== after || !isSealed(after)) resources.push(after);
    }
  }
  const before = new Map(prev.pending.map((p) => [p.id, p]));
  const pending: PendingWrite[] = [];
  for (const p of next.pending) {
    const old = before.get(p.id);
    before.delete(p.id);
    if (old !== p || !isSealed(p)) pending.push(p);
  }
  const settled = [...before.keys()];
  return { lineage: next.lineage, serial: next.serial, resources, removed, pending, settled };
}

/**
 * For a backend that keeps a journal: `next` as a difference from `last` (the state the handle last read
 * or wrote) when the caller allows it (`interim`) and `last` is the version the write expects.
 */
export function interimDelta(last: StateFile | undefined, next: StateFile, expected: { lineage: string | null; serial: number | null }, interim: boolean): StateDelta | undefined {
  if (!interim || last === undefined || last.lineage !== expected.lineage || last.serial !== expected.serial) return undefined;
  return diffStates(last, next);
}

/** A copy of the state's lists (not of their elements), so that a caller changing its arrays cannot change it. */
export function ownCopy(state: StateFile): StateFile {
  return { ...state, resources: [...state.resources], pending: [...state.pending] };
}

/** `base` with `delta` applied; the result's serial is the delta's. */
export function applyDelta(base: StateFile, delta: StateDelta): StateFile {
  const gone = new Set(delta.removed);
  const put = [...new Map(delta.resources.map((r) => [r.address, r])).values()].sort((x, y) => compareAddress(x.address, y.address));
  // Both lists are in address order: merge them (a put replaces the resource at its address).
  const resources: StateResource[] = [];
  let j = 0;
  for (const r of base.resources) {
    while (j < put.length && compareAddress(put[j]!.address, r.address) < 0) resources.push(put[j++]!);
    if (j < put.length && put[j]!.address === r.address) resources.push(put[j++]!);
    else if (!gone.has(r.address)) resources.push(r);
  }
  resources.push(...put.slice(j));
  const settled = new Set(delta.settled);
  const written = new Map(delta.pending.map((p) => [p.id, p]));
  const pending: PendingWrite[] = [];
  for (const p of base.pending) {
    if (settled.has(p.id)) continue;
    const again = written.get(p.id);
    written.delete(p.id);
    pending.push(again ?? p);
  }
  pending.push(...written.values());
  return { ...base, serial: delta.serial, resources, pending };
}

/** One journal line (with its trailing newline) as UTF-8; resources reuse the encodings sealed resources keep. */
export function encodeDelta(delta: StateDelta): Buffer {
  const parts: (string | Buffer)[] = [
    `{"lineage":${JSON.stringify(delta.lineage)},"pending":${canonicalJson(delta.pending)},"removed":${canonicalJson(delta.removed)},"resources":[`,
  ];
  delta.resources.forEach((r, i) => {
    if (i > 0) parts.push(",");
    parts.push(compactResourceJson(r));
  });
  parts.push(`],"serial":${delta.serial},"settled":${canonicalJson(delta.settled)}}`);
  const body = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
  const checksum = "sha256:" + sha256Hex(body);
  return Buffer.concat([Buffer.from(`{"checksum":${JSON.stringify(checksum)},`), body.subarray(1), Buffer.from("\n")]);
}

export interface Replayed {
  state: StateFile;
  /** Lines applied to the base. */
  applied: number;
  /** Bytes of the journal that are whole lines; a torn last line (a write cut short by a crash) is after them. */
  validBytes: number;
}

/**
 * Applies the journal's lines to `base`. Lines of another lineage or with a serial the base already has
 * are left over from before the base was written whole and are skipped; the others must follow each other
 * serial by serial. A last line without its newline was never completely written (the write it belongs to
 * was never acknowledged, so nothing was sent on its strength) and is ignored. Any other damage is refused:
 * the state would be incomplete without it. The state the lines make is checked against the state schema.
 */
export function replayJournal(base: StateFile, journal: Buffer, source: string | JournalSource): Replayed {
  const src: JournalSource = typeof source === "string" ? { name: source, line: (n) => `${source}:${n}`, hint: FILE_HINT } : source;
  let state = base;
  let applied = 0;
  let at = 0;
  let lineNo = 0;
  for (;;) {
    const end = journal.indexOf(0x0a, at);
    if (end < 0) break;
    lineNo++;
    const delta = parseLine(journal.subarray(at, end), src.line(lineNo), src.hint);
    at = end + 1;
    if (delta.lineage !== base.lineage || delta.serial <= base.serial) continue;
    if (delta.serial !== state.serial + 1) {
      throw damaged(src.line(lineNo), `it makes serial ${delta.serial}, but the state before it has serial ${state.serial}`, src.hint);
    }
    state = applyDelta(state, delta);
    applied++;
  }
  const invalid = applied > 0 ? schemaProblems(state) : undefined;
  if (invalid !== undefined) {
    throw new StateError(`State journal ${src.name} makes a state that does not match the state schema: ${invalid}; the state was not used.`, { hint: src.hint });
  }
  return { state, applied, validBytes: at };
}

function parseLine(line: Buffer, where: string, hint: string): StateDelta {
  let doc: unknown;
  try {
    doc = JSON.parse(line.toString("utf8"));
  } catch (e) {
    throw damaged(where, `it is not valid JSON (${(e as Error).message})`, hint);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw damaged(where, "it is not a JSON object", hint);
  const { checksum, ...body } = doc as Record<string, unknown>;
  if (typeof checksum !== "string" || checksum !== "sha256:" + sha256Hex(canonicalJson(body))) {
    throw damaged(where, "it does not match its checksum", hint);
  }
  const d = body as Partial<Record<keyof StateDelta, unknown>>;
  if (
    typeof d.lineage !== "string" ||
    typeof d.serial !== "number" ||
    !Number.isInteger(d.serial) ||
    !Array.isArray(d.resources) ||
    !Array.isArray(d.removed) ||
    !Array.isArray(d.pending) ||
    !Array.isArray(d.settled)
  ) {
    throw damaged(where, "it lacks one of lineage, serial, resources, removed, pending, settled", hint);
  }
  // The parts' content is checked against the state schema once the journal is applied (replayJournal).
  return d as unknown as StateDelta;
}

const FILE_HINT =
  "The journal holds what an apply recorded since the state file was last written whole. Keep copies of both files. To go on without the journal, move it away: the state then lacks those records, and `stsorg plan --refresh full` shows what FK holds.";

/** How messages name a journal and its lines, and what they advise. */
export interface JournalSource {
  name: string;
  line(n: number): string;
  hint: string;
}

function damaged(where: string, why: string, hint: string): StateError {
  return new StateError(`State journal ${where} is damaged: ${why}; the state was not used.`, { hint });
}
