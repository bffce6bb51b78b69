import { randomUUID } from "node:crypto";
import { AuthError, StateError } from "../errors/index.js";
import {
  hashCpr,
  isHashedCpr,
  normaliseCpr,
  type Attributes,
  type Change,
  type FieldName,
  type OrgUnitRegistration,
  type PendingWrite,
  type Plan,
  type StateResource,
  type UserRegistration,
} from "../model/index.js";
import { attributesSha256, newState, realSleep, type StateBackend } from "../state/index.js";
import { checkPlanState } from "./check.js";
import { attributesMatch } from "./compare.js";
import { checkAcyclic, dependencies } from "./graph.js";
import { WorkingState } from "./journal.js";
import { nullProgress, type ProgressSink, type ProgressSnapshot } from "./progress.js";
import { summaryLine, type AppliedWrite, type ApplyResult, type FailedChange, type SkippedChange } from "./result.js";
import { errorMessage, isPermanentFailure, type FkReader, type FkWriter } from "./writer.js";

export interface ApplyDeps {
  backend: StateBackend;
  writer: FkWriter;
  /** The lock this run holds: every state write is refused once it is lost. */
  lockId?: string;
  /** Writes in flight at most (default 8). */
  parallelism?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  newId?: () => string;
  /** SIGINT/SIGTERM: stop starting writes, let those in flight finish, persist, return `interrupted`. */
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** Re-reads a person's CPR from OS2mo (by FK user uuid) at apply time. */
  resolveCpr?: (userUuid: string) => Promise<string | undefined>;
  /** Key of the CPR hashes in the plan; the re-read CPR must hash to the plan's value. */
  cprHashKey?: string;
  /** Not compared when a retried write is read back. */
  unmanagedFields?: readonly FieldName[];
  /** Attempts per write, the first included (default 5). */
  maxAttempts?: number;
  /** First retry delay (default 1 s), doubling up to `retryMaxMs` (default 16 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Journal entries persisted per state write at most (default: 256, or 1/40 of the writes if more). */
  journalBatchSize?: number;
  toolVersion?: string;
}

type Status = "waiting" | "ready" | "journaled" | "running" | "done" | "failed" | "skipped" | "unsent";

type Outcome =
  /** `wrote` false: nothing was sent (an adoption whose read-back matched; a delete of an object FK no longer has). */
  | { kind: "ok"; confirmed: boolean; wrote?: boolean }
  /** Interrupted before anything was sent (e.g. while the CPR was being re-read). */
  | { kind: "unsent" }
  | { kind: "failed"; message: string; permanent: boolean; outcomeUnknown: boolean };

/**
 * Carries out a plan (already checked with `checkPlanApplicable`, under the state lock).
 *
 * Write-ahead journal: a change's `pending` entry is in the persisted state before its write is sent;
 * the outcome replaces it later. Entries are persisted in batches (a batch per state write, with the
 * outcomes recorded since the last one), so a large apply rewrites the state a few hundred times, not
 * twice per object. A journaled change that was never sent is harmless: its read-back on the next run
 * finds nothing and the entry is dropped.
 *
 * A failed write is retried only after a read-back that shows it did not land, so no write is sent
 * twice for one change without a read in between.
 */
export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyResult> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? realSleep;
  const newId = deps.newId ?? randomUUID;
  const progress = deps.progress ?? nullProgress;
  const parallelism = Math.max(1, deps.parallelism ?? 8);
  const maxAttempts = Math.max(1, deps.maxAttempts ?? 5);
  const retryBaseMs = deps.retryBaseMs ?? 1_000;
  const retryMaxMs = deps.retryMaxMs ?? 16_000;
  const writeCount = plan.changes.filter((c) => c.action !== "adopt").length;
  // Each interim state write lists the whole state and compares it with the last: for large plans, larger
  // batches keep that to ~40 per apply.
  const batchSize = Math.max(1, deps.journalBatchSize ?? Math.max(256, Math.ceil(writeCount / 40)));
  // Journal the next batch while a few rounds of writes are still queued, so FK writes do not wait for it.
  const lowWater = parallelism * 4;
  const signal = deps.signal;
  const started = now().getTime();

  const stored = await deps.backend.read();
  checkPlanState(plan, stored);
  if (stored && stored.pending.length > 0) {
    throw new StateError(`The state has ${stored.pending.length} write(s) from an interrupted run that are not settled yet.`, {
      hint: "Run plan: it reads those objects back, settles them, and plans from the result.",
    });
  }
  const base =
    stored ??
    newState({
      lineage: newId(),
      environment: plan.environment.name,
      cvr: plan.environment.cvr,
      admin_top_uuid: plan.environment.admin_top_uuid,
      tool_version: deps.toolVersion ?? plan.tool_version,
    });
  const ws = new WorkingState(base, stored !== null, deps.toolVersion);

  const changes = plan.changes;
  const waitsFor = dependencies(changes);
  checkAcyclic(changes, waitsFor);
  const dependents: number[][] = changes.map(() => []);
  waitsFor.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)));
  const remaining = waitsFor.map((d) => d.length);
  const status: Status[] = changes.map(() => "waiting");
  const pendingId: (string | undefined)[] = changes.map(() => undefined);

  const result = { added: 0, changed: 0, destroyed: 0, adopted: 0 };
  const writes: AppliedWrite[] = [];
  const failures: FailedChange[] = [];
  const skipped: SkippedChange[] = [];
  const notStarted: ApplyResult["notStarted"] = [];
  let inFlight = 0;
  let fatal: unknown;
  // OS2sync refused the credentials: every other request would be refused too. No new write is started,
  // the state is saved, and the error is reported once, with its hint, instead of once per object.
  let refused: AuthError | undefined;
  const noteRefusal = (e: unknown) => {
    if (e instanceof AuthError) refused ??= e;
  };

  const snapshot = (): ProgressSnapshot => ({
    total: changes.length,
    done: result.adopted + writes.length + failures.length + skipped.length,
    failed: failures.length,
    skipped: skipped.length,
    inFlight,
    elapsedMs: now().getTime() - started,
  });

  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // The caller says why it stopped (a signal, a lost lock); here it only wakes the loop.
  const onAbort = () => notify();
  signal?.addEventListener("abort", onAbort, { once: true });
  const stopped = () => signal?.aborted === true || fatal !== undefined || refused !== undefined;

  // Adoptions the refresh saw whole are state-only: recorded in the first state write, before any FK
  // write. One with fields the refresh did not read is not known to match: it is read back like a
  // retried write and written only if FK differs, so the state never claims content FK does not hold.
  changes.forEach((c, i) => {
    if (c.action !== "adopt" || !c.after || (c.unobserved?.length ?? 0) > 0) return;
    ws.put(resourceOf(c, c.after, now(), true, "adopted"));
    status[i] = "done";
    result.adopted++;
  });

  const ready: number[] = [];
  let readyHead = 0;
  changes.forEach((c, i) => {
    if (status[i] === "waiting" && remaining[i] === 0) {
      status[i] = "ready";
      ready.push(i);
    }
  });
  const queue: number[] = [];
  let queueHead = 0;

  const skipDependents = (root: number) => {
    const stack = [...dependents[root]!];
    while (stack.length > 0) {
      const j = stack.pop()!;
      if (status[j] !== "waiting") continue;
      status[j] = "skipped";
      const c = changes[j]!;
      skipped.push({ address: c.address, name: c.name, action: c.action, blockedBy: changes[root]!.address });
      stack.push(...dependents[j]!);
    }
  };

  const complete = (i: number, outcome: Outcome) => {
    const c = changes[i]!;
    inFlight--;
    if (outcome.kind === "unsent") {
      ws.clearPending(pendingId[i]!);
      status[i] = "unsent";
    } else if (outcome.kind === "ok") {
      const adopted = c.action === "adopt" && outcome.wrote === false;
      if (c.action === "delete") {
        ws.remove(c.address);
        result.destroyed++;
      } else {
        const existing = ws.get(c.address);
        const origin = existing?.origin ?? (c.action === "create" ? "created" : c.action === "adopt" ? "adopted" : "updated");
        ws.put(resourceOf(c, c.after!, now(), outcome.confirmed, origin));
        if (c.action === "create") result.added++;
        else if (adopted) result.adopted++;
        else result.changed++;
      }
      ws.clearPending(pendingId[i]!);
      status[i] = "done";
      if (!adopted && outcome.wrote !== false) {
        const action = c.action === "adopt" ? "update" : c.action;
        const w: AppliedWrite = { address: c.address, kind: c.kind, uuid: c.uuid, name: c.name, action: action as AppliedWrite["action"], confirmed: outcome.confirmed };
        if (c.after && c.action !== "delete") w.attributes = c.after;
        writes.push(w);
      }
      for (const j of dependents[i]!) {
        if (--remaining[j]! === 0 && status[j] === "waiting") {
          status[j] = "ready";
          ready.push(j);
        }
      }
    } else {
      // An unknown outcome keeps its journal entry, so the next run reads the object back first.
      if (!outcome.outcomeUnknown) ws.clearPending(pendingId[i]!);
      status[i] = "failed";
      failures.push({
        address: c.address,
        name: c.name,
        action: c.action,
        message: outcome.message,
        permanent: outcome.permanent,
        outcomeUnknown: outcome.outcomeUnknown,
      });
      skipDependents(i);
    }
    progress.update(snapshot());
    pump();
    notify();
  };

  const readBack = (c: Change, reader: FkReader): Promise<Attributes | undefined> =>
    c.kind === "orgunit" ? reader.getOrgUnit(c.uuid) : reader.getUser(c.uuid);

  const landed = (c: Change, current: Attributes | undefined, cprRequired = false): boolean =>
    c.action === "delete"
      ? current === undefined
      : current !== undefined && attributesMatch(c.kind, c.after!, current, { unmanagedFields: deps.unmanagedFields, cprHashKey: deps.cprHashKey, cprRequired });

  const send = (c: Change, payload: Attributes | undefined): Promise<void> => {
    const w = deps.writer;
    if (c.action === "delete") return c.kind === "orgunit" ? w.deleteOrgUnit(c.uuid) : w.deleteUser(c.uuid);
    return c.kind === "orgunit" ? w.upsertOrgUnit(payload as OrgUnitRegistration) : w.upsertUser(payload as UserRegistration);
  };

  const pause = async (ms: number): Promise<boolean> => {
    if (signal?.aborted) return false;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
      void sleep(ms).then(done);
    });
    return signal?.aborted !== true;
  };

  const withClearCpr = async (c: Change): Promise<{ payload: Attributes } | { failure: Outcome }> => {
    const after = c.after as UserRegistration;
    const hashed = after.Person?.Cpr;
    if (c.kind !== "user" || hashed === undefined) return { payload: after };
    const fail = (message: string): { failure: Outcome } => ({ failure: { kind: "failed", message, permanent: true, outcomeUnknown: false } });
    if (!isHashedCpr(hashed)) return fail("the plan holds a CPR number that is not hashed; it was not written");
    if (!deps.resolveCpr || deps.cprHashKey === undefined) return fail("the CPR number cannot be re-read from OS2mo (no CPR source or hash key configured)");
    let clear: string | undefined;
    try {
      clear = normaliseCpr(await deps.resolveCpr(c.uuid));
    } catch (e) {
      return { failure: { kind: "failed", message: `could not re-read the CPR number from OS2mo: ${errorMessage(e)}`, permanent: false, outcomeUnknown: false } };
    }
    if (clear === undefined) return fail("OS2mo no longer has a CPR number for this person; run plan again");
    if (hashCpr(clear, deps.cprHashKey) !== hashed) return fail("the CPR number in OS2mo changed after the plan was made; run plan again");
    return { payload: { ...after, Person: { ...after.Person, Cpr: clear } } };
  };

  /** FK's content before a write that depends on it; a failed read fails the change, nothing sent. */
  const readBefore = async (c: Change, doing: string): Promise<{ current: Attributes | undefined } | { failure: Outcome }> => {
    try {
      return { current: await readBack(c, deps.writer) };
    } catch (e) {
      noteRefusal(e);
      return { failure: { kind: "failed", message: `read-back before ${doing} failed: ${errorMessage(e)}`, permanent: isPermanentFailure(e), outcomeUnknown: false } };
    }
  };

  const execute = async (i: number): Promise<Outcome> => {
    const c = changes[i]!;
    if (c.action === "adopt") {
      const read = await readBefore(c, "adopting");
      if ("failure" in read) return read.failure;
      // FK must show the CPR itself: state would otherwise record one that was never written.
      if (landed(c, read.current, true)) return { kind: "ok", confirmed: true, wrote: false };
      progress.note(`${c.address} (${c.name}): FK differs in fields the refresh did not read (${(c.unobserved ?? []).join(", ")}); writing it.`);
    }
    if (c.action === "delete") {
      // A delete is read back first: an object FK no longer has (deleted outside stsorg) is only let go of
      // in state, with no DELETE sent for it.
      const read = await readBefore(c, "deleting");
      if ("failure" in read) return read.failure;
      if (read.current === undefined) return { kind: "ok", confirmed: true, wrote: false };
    }
    let payload: Attributes | undefined;
    if (c.action !== "delete") {
      if (!c.after) return { kind: "failed", message: "the plan gives no attributes to write", permanent: true, outcomeUnknown: false };
      const prepared = await withClearCpr(c);
      if ("failure" in prepared) return prepared.failure;
      payload = prepared.payload;
    }
    if (signal?.aborted) return { kind: "unsent" };
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        const delay = Math.min(retryBaseMs * 2 ** (attempt - 2), retryMaxMs);
        progress.note(`Retrying ${c.address} (${c.name}) in ${Math.round(delay / 100) / 10}s after: ${errorMessage(lastError)}`);
        if (!(await pause(delay))) {
          return { kind: "failed", message: `interrupted while retrying after: ${errorMessage(lastError)}`, permanent: false, outcomeUnknown: true };
        }
        let current: Attributes | undefined;
        try {
          current = await readBack(c, deps.writer);
        } catch (e) {
          lastError = e;
          noteRefusal(e);
          if (isPermanentFailure(e)) return { kind: "failed", message: `read-back failed: ${errorMessage(e)}`, permanent: true, outcomeUnknown: true };
          continue;
        }
        if (landed(c, current)) return { kind: "ok", confirmed: true };
      }
      try {
        await send(c, payload);
        return { kind: "ok", confirmed: false };
      } catch (e) {
        lastError = e;
        noteRefusal(e);
        if (isPermanentFailure(e)) return { kind: "failed", message: errorMessage(e), permanent: true, outcomeUnknown: false };
      }
    }
    return { kind: "failed", message: `gave up after ${maxAttempts} attempts: ${errorMessage(lastError)}`, permanent: false, outcomeUnknown: true };
  };

  const start = (i: number) => {
    status[i] = "running";
    inFlight++;
    execute(i).then(
      (outcome) => complete(i, outcome),
      (e: unknown) => complete(i, { kind: "failed", message: errorMessage(e), permanent: false, outcomeUnknown: true }),
    );
  };

  function pump(): void {
    while (!stopped() && inFlight < parallelism && queueHead < queue.length) start(queue[queueHead++]!);
  }

  progress.update(snapshot());
  try {
    if (ws.dirty) await ws.persist(deps.backend, deps.lockId);
  } catch (e) {
    signal?.removeEventListener("abort", onAbort);
    throw e;
  }

  for (;;) {
    pump();
    if (!stopped() && readyHead < ready.length && queue.length - queueHead < lowWater) {
      const batch = ready.slice(readyHead, readyHead + batchSize);
      readyHead += batch.length;
      const startedAt = now().toISOString();
      for (const i of batch) {
        const c = changes[i]!;
        const id = newId();
        pendingId[i] = id;
        status[i] = "journaled";
        // An adoption that turns out to need a write is an update.
        const action = c.action === "adopt" ? "update" : c.action;
        const entry: PendingWrite = { id, address: c.address, action, started_at: startedAt, plan_id: plan.plan_id };
        if (c.action !== "delete" && c.after) {
          entry.attributes = c.after;
          entry.attributes_sha256 = attributesHash(c.after);
        }
        ws.addPending(entry);
      }
      try {
        await ws.persist(deps.backend, deps.lockId, { interim: true });
      } catch (e) {
        fatal = e;
        for (const i of batch) {
          ws.clearPending(pendingId[i]!);
          status[i] = "unsent";
        }
        continue;
      }
      queue.push(...batch);
      continue;
    }
    if (inFlight === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  signal?.removeEventListener("abort", onAbort);

  // Journaled but never sent (interrupted): nothing to settle, so the entries go.
  for (let q = queueHead; q < queue.length; q++) {
    const i = queue[q]!;
    ws.clearPending(pendingId[i]!);
    status[i] = "unsent";
  }
  changes.forEach((c, i) => {
    if (status[i] === "unsent" || status[i] === "ready" || status[i] === "waiting") {
      notStarted.push({ address: c.address, name: c.name, action: c.action });
    }
  });
  // The last persist is whole (with the local backend: the file is rewritten and its journal removed).
  if ((ws.dirty || ws.wholeWriteDue) && fatal === undefined) {
    try {
      await ws.persist(deps.backend, deps.lockId);
    } catch (e) {
      fatal = e;
    }
  }
  progress.finish(snapshot());
  if (fatal !== undefined) throw fatal;
  if (refused !== undefined) throw refused;

  const interrupted = signal?.aborted === true;
  return {
    ...result,
    writes,
    failures,
    skipped,
    notStarted,
    interrupted,
    serial: ws.serial,
    stateWrites: ws.writes,
    summaryLine: () =>
      summaryLine(result, { interrupted, failed: failures.length, skipped: skipped.length, notStarted: notStarted.length }),
  };
}

/**
 * attributesSha256, remembered per attributes object: a change's `after` is hashed for its journal entry
 * and again for the resource it becomes, and these objects are not changed during an apply.
 */
const attributeHashes = new WeakMap<Attributes, string>();
function attributesHash(attributes: Attributes): string {
  let h = attributeHashes.get(attributes);
  if (h === undefined) {
    h = attributesSha256(attributes);
    attributeHashes.set(attributes, h);
  }
  return h;
}

function resourceOf(c: Change, attributes: Attributes, at: Date, confirmed: boolean, origin: StateResource["origin"]): StateResource {
  return {
    address: c.address,
    kind: c.kind,
    uuid: c.uuid,
    name: c.name,
    attributes,
    attributes_sha256: attributesHash(attributes),
    applied_at: at.toISOString(),
    confirmed,
    origin,
  };
}
