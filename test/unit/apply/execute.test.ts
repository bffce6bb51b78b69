import { describe, expect, it } from "vitest";
import { applyExitCode, applyPlan, FkWriteError, type ApplyDeps } from "../../../src/apply/index.js";
import { AuthError, LockError, PlanRefusedError, StateError } from "../../../src/errors/index.js";
import type { Change, StateFile } from "../../../src/model/index.js";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeState, LocalStateBackend, MemoryStateBackend, memoryStore, newState, type StateBackend } from "../../../src/state/index.js";
import { adopt, create, cprHash, CPR_KEY, del, ENV, FakeFk, ids, makePlan, TOP, unit, update, user, uuid } from "./fake-fk.js";

const LINEAGE = "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c";

async function seeded(backend: StateBackend, fill?: (s: StateFile) => StateFile): Promise<StateFile> {
  let s = newState({ lineage: LINEAGE, environment: ENV.name, cvr: ENV.cvr, admin_top_uuid: TOP, tool_version: "0.1.0" });
  if (fill) s = fill(s);
  await backend.write(s, { lineage: null, serial: null });
  return s;
}

function deps(backend: StateBackend, fk: FakeFk, over: Partial<ApplyDeps> = {}): ApplyDeps {
  const slept: number[] = [];
  return {
    backend,
    writer: fk,
    newId: ids(),
    now: () => new Date("2025-03-01T10:00:00.000Z"),
    sleep: async (ms) => void slept.push(ms),
    ...over,
  };
}

/** An `fk.onWrite` that lists each write whose journal entry (with its attributes) `observer` cannot read yet. */
function unjournaledWrites(observer: StateBackend, missing: string[]): (op: string, id: string) => Promise<void> {
  return async (op, id) => {
    const stored = (await observer.read())!;
    const entry = stored.pending.find((p) => p.address.endsWith(id));
    if (!entry) missing.push(`${op} ${id}`);
    else if (op.startsWith("upsert") && entry.attributes?.Uuid !== id) missing.push(`${op} ${id}: attributes`);
  };
}

/** A tree of units: 3 children per unit, `depth` levels under the top; users in every leaf. */
function tree(depth: number): { units: ReturnType<typeof unit>[]; users: ReturnType<typeof user>[] } {
  const units: ReturnType<typeof unit>[] = [];
  let level = [TOP];
  let n = 1;
  for (let d = 0; d < depth; d++) {
    const next: string[] = [];
    for (const parent of level) for (let k = 0; k < 3; k++) {
      const u = unit(n++, parent);
      units.push(u);
      next.push(u.Uuid);
    }
    level = next;
  }
  const users = level.map((leaf, i) => user(i + 1, [leaf]));
  return { units, users };
}

describe("applyPlan", () => {
  it("writes parents before children and units before users, with bounded parallelism", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk({ seed: 7, maxLatencyMs: 4 });
    const { units, users } = tree(3);
    const plan = makePlan([...units.map(create), ...users.map(create)], { lineage: null, serial: 0 });
    const result = await applyPlan(plan, deps(backend, fk, { parallelism: 4 }));

    const done = new Map(fk.calls.map((c) => [c.uuid, c]));
    for (const u of units) {
      const parent = done.get(u.ParentOrgUnitUuid!);
      if (u.ParentOrgUnitUuid !== TOP) expect(parent!.end!).toBeLessThan(done.get(u.Uuid)!.start);
    }
    for (const u of users) expect(done.get(u.Positions[0]!.OrgUnitUuid)!.end!).toBeLessThan(done.get(u.Uuid)!.start);
    expect(fk.maxInFlight).toBeLessThanOrEqual(4);
    expect(fk.maxInFlight).toBeGreaterThan(1);
    expect(result.added).toBe(units.length + users.length);
    expect(result.summaryLine()).toBe(`Apply complete! Resources: ${units.length + users.length} added, 0 changed, 0 destroyed.`);
    expect(applyExitCode(result)).toBe(0);

    const state = (await backend.read())!;
    expect(state.pending).toEqual([]);
    expect(state.resources.map((r) => r.address)).toEqual([...units.map(create), ...users.map(create)].map((c) => c.address).sort());
    expect(state.resources.find((r) => r.uuid === units[0]!.Uuid)).toMatchObject({ origin: "created", confirmed: false, attributes: units[0] });
    expect(fk.units.size).toBe(units.length);
  });

  it("deletes users before their units and child units before parents", async () => {
    const { units, users } = tree(2);
    const backend = new MemoryStateBackend();
    const fk = new FakeFk({ seed: 3, maxLatencyMs: 4 });
    for (const u of units) fk.units.set(u.Uuid, u);
    for (const u of users) fk.users.set(u.Uuid, u);
    // The plan lists them in apply order; the executor must keep to it under parallelism.
    const changes = [...users.map(del), ...[...units].reverse().map(del)];
    const result = await applyPlan(makePlan(changes, { lineage: null, serial: 0 }), deps(backend, fk, { parallelism: 8 }));
    expect(result.destroyed).toBe(units.length + users.length);
    const done = new Map(fk.calls.map((c) => [c.uuid, c]));
    for (const u of units) {
      for (const child of units.filter((c) => c.ParentOrgUnitUuid === u.Uuid)) expect(done.get(child.Uuid)!.end!).toBeLessThan(done.get(u.Uuid)!.start);
      for (const member of users.filter((m) => m.Positions.some((p) => p.OrgUnitUuid === u.Uuid))) {
        expect(done.get(member.Uuid)!.end!).toBeLessThan(done.get(u.Uuid)!.start);
      }
    }
    expect(fk.units.size + fk.users.size).toBe(0);
  });

  it("reads a delete back first and sends no DELETE for an object FK no longer has", async () => {
    const gone = unit(1, TOP);
    const present = unit(2, TOP);
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    fk.units.set(present.Uuid, present);
    const result = await applyPlan(makePlan([del(gone), del(present)], { lineage: null, serial: 0 }), deps(backend, fk));
    expect(result.destroyed).toBe(2);
    expect(fk.writesTo(gone.Uuid)).toEqual([]);
    expect(fk.writesTo(present.Uuid).map((c) => c.op)).toEqual(["deleteOrgUnit"]);
    // Only the real DELETE is a write for --wait to confirm.
    expect(result.writes.map((w) => w.uuid)).toEqual([present.Uuid]);
  });

  it("persists each write's journal entry before sending it, and clears it afterwards", async () => {
    const store = memoryStore();
    const backend = new MemoryStateBackend({ store });
    await seeded(backend);
    const fk = new FakeFk({ seed: 5, maxLatencyMs: 2 });
    const observer = new MemoryStateBackend({ store });
    const missing: string[] = [];
    fk.onWrite = unjournaledWrites(observer, missing);
    const { units, users } = tree(2);
    const plan = makePlan([...units.map(create), ...users.map(create)], { lineage: LINEAGE, serial: 0 });
    const result = await applyPlan(plan, deps(backend, fk, { parallelism: 3, journalBatchSize: 4 }));
    expect(fk.calls.filter((c) => c.op.startsWith("upsert"))).toHaveLength(units.length + users.length);
    expect(missing).toEqual([]);
    const final = (await backend.read())!;
    expect(final.pending).toEqual([]);
    expect(final.serial).toBe(result.serial);
    expect(final.lineage).toBe(LINEAGE);
  });

  it("with a state file: each write's journal entry can be read by another process before the write is sent; the file is whole afterwards", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stsorg-apply-"));
    try {
      const path = join(dir, "test.json");
      const backend = new LocalStateBackend({ path });
      await seeded(backend);
      const observer = new LocalStateBackend({ path });
      const fk = new FakeFk({ seed: 5, maxLatencyMs: 2 });
      const missing: string[] = [];
      const check = unjournaledWrites(observer, missing);
      let journaled = 0;
      fk.onWrite = async (op, id) => {
        if ((await readdir(dir)).includes("test.json.journal")) journaled++;
        await check(op, id);
      };
      const { units, users } = tree(2);
      const plan = makePlan([...units.map(create), ...users.map(create)], { lineage: LINEAGE, serial: 0 });
      const result = await applyPlan(plan, deps(backend, fk, { parallelism: 3, journalBatchSize: 4 }));
      expect(missing).toEqual([]);
      // The batches went to the journal, not into rewrites of the file.
      expect(journaled).toBeGreaterThan(0);
      expect((await readdir(dir)).sort()).toEqual(["test.json", "test.json.backup"]);
      const final = (await observer.read())!;
      expect(final.serial).toBe(result.serial);
      expect(final.pending).toEqual([]);
      expect(final.resources).toHaveLength(units.length + users.length);
      expect(await readFile(path, "utf8")).toBe(encodeState(final));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("batches journal writes: thousands of writes cost a handful of state writes", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const units = [unit(1, TOP)];
    const users = Array.from({ length: 2000 }, (_, i) => user(i + 1, [units[0]!.Uuid]));
    const plan = makePlan([...units.map(create), ...users.map(create)], { lineage: null, serial: 0 });
    const result = await applyPlan(plan, deps(backend, fk, { parallelism: 8, journalBatchSize: 256 }));
    expect(result.added).toBe(2001);
    // One batch for the unit, then ceil(2000 / 256) batches, then the final outcomes.
    expect(result.stateWrites).toBeLessThanOrEqual(12);
    expect(backend.store.writes).toBe(result.stateWrites);
  });

  it("records a permanent failure, goes on with independent objects and skips dependents", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const b = unit(2, TOP);
    const bChild = unit(3, b.Uuid);
    const inB = user(1, [bChild.Uuid]);
    const inA = user(2, [a.Uuid]);
    fk.fault(b.Uuid, "permanent");
    const plan = makePlan([a, b, bChild, inA, inB].map(create), { lineage: null, serial: 0 });
    const result = await applyPlan(plan, deps(backend, fk));
    expect(result.failures).toEqual([
      expect.objectContaining({ address: `orgunit/${b.Uuid}`, permanent: true, outcomeUnknown: false, message: expect.stringContaining("400") }),
    ]);
    expect(result.skipped.map((s) => [s.address, s.blockedBy]).sort()).toEqual(
      [
        [`orgunit/${bChild.Uuid}`, `orgunit/${b.Uuid}`],
        [`user/${inB.Uuid}`, `orgunit/${b.Uuid}`],
      ].sort(),
    );
    expect(result.added).toBe(2);
    expect(applyExitCode(result)).toBe(1);
    expect(result.summaryLine()).toBe("Apply failed! Resources: 2 added, 0 changed, 0 destroyed; 1 failed, 2 skipped.");
    expect(fk.writesTo(bChild.Uuid)).toEqual([]);
    expect([...fk.units.keys()]).toEqual([a.Uuid]);
    const state = (await backend.read())!;
    expect(state.resources.map((r) => r.uuid).sort()).toEqual([a.Uuid, inA.Uuid].sort());
    expect(state.pending).toEqual([]);
  });

  it("retries a transient failure with backoff, reading back before every resend", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    fk.fault(a.Uuid, "transient", "transient");
    const slept: number[] = [];
    const result = await applyPlan(makePlan([create(a)], { lineage: null, serial: 0 }), deps(backend, fk, { sleep: async (ms) => void slept.push(ms) }));
    expect(fk.calls.map((c) => c.op)).toEqual(["upsertOrgUnit", "getOrgUnit", "upsertOrgUnit", "getOrgUnit", "upsertOrgUnit"]);
    expect(slept).toEqual([1000, 2000]);
    expect(result.added).toBe(1);
    expect(fk.units.get(a.Uuid)).toEqual(a);
  });

  it("does not resend a write that landed although the call failed", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    fk.fault(a.Uuid, "transient-after-apply");
    const result = await applyPlan(makePlan([create(a)], { lineage: null, serial: 0 }), deps(backend, fk));
    expect(fk.calls.map((c) => c.op)).toEqual(["upsertOrgUnit", "getOrgUnit"]);
    expect(result.added).toBe(1);
    expect((await backend.read())!.resources[0]!.confirmed).toBe(true);
  });

  it("gives up after the last attempt and keeps the journal entry, since the outcome is unknown", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const child = unit(2, a.Uuid);
    fk.fault(a.Uuid, "transient", "transient", "transient");
    const result = await applyPlan(makePlan([create(a), create(child)], { lineage: null, serial: 0 }), deps(backend, fk, { maxAttempts: 3 }));
    expect(result.failures).toEqual([expect.objectContaining({ address: `orgunit/${a.Uuid}`, permanent: false, outcomeUnknown: true })]);
    expect(result.failures[0]!.message).toMatch(/gave up after 3 attempts: .*503/);
    expect(result.skipped.map((s) => s.address)).toEqual([`orgunit/${child.Uuid}`]);
    const state = (await backend.read())!;
    expect(state.pending.map((p) => p.address)).toEqual([`orgunit/${a.Uuid}`]);
    expect(state.resources).toEqual([]);
  });

  it("on abort starts no new writes, finishes those in flight, persists and reports what was not started", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk({ maxLatencyMs: 3, seed: 11 });
    const users = Array.from({ length: 40 }, (_, i) => user(i + 1, []));
    const controller = new AbortController();
    let startedAfterAbort = 0;
    let writes = 0;
    fk.onWrite = () => {
      if (controller.signal.aborted) startedAfterAbort++;
      if (++writes === 5) controller.abort();
    };
    const result = await applyPlan(makePlan(users.map(create), { lineage: null, serial: 0 }), deps(backend, fk, { parallelism: 3, signal: controller.signal, journalBatchSize: 10 }));
    expect(startedAfterAbort).toBe(0);
    expect(result.interrupted).toBe(true);
    expect(applyExitCode(result)).toBe(130);
    expect(result.added).toBe(5);
    expect(result.notStarted).toHaveLength(35);
    expect(result.summaryLine()).toBe("Apply interrupted! Resources: 5 added, 0 changed, 0 destroyed; 35 not started.");
    const state = (await backend.read())!;
    expect(state.resources).toHaveLength(5);
    expect(state.pending).toEqual([]);
    expect(new Set(state.resources.map((r) => r.uuid))).toEqual(new Set(fk.users.keys()));
  });

  it("stops at OS2sync's first 401: no new writes, the state saved, the error once", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk({ maxLatencyMs: 2, seed: 5 });
    fk.refuseCredentialsAfter = 10;
    const users = Array.from({ length: 200 }, (_, i) => user(i + 1, []));
    const err = await applyPlan(makePlan(users.map(create), { lineage: null, serial: 0 }), deps(backend, fk, { parallelism: 4 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toContain("401 Unauthorized");
    // The calls in flight when the first 401 came may still be refused; nothing is started after.
    expect(fk.calls.length).toBeLessThanOrEqual(10 + 4);
    const state = (await backend.read())!;
    expect(state.resources.map((r) => r.uuid).sort()).toEqual([...fk.users.keys()].sort());
    expect(state.resources.length).toBeGreaterThan(0);
    expect(state.pending).toEqual([]);
  });

  it("adopts objects into state without writing to FK", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const b = unit(2, a.Uuid);
    const result = await applyPlan(makePlan([adopt(a), create(b)], { lineage: null, serial: 0 }), deps(backend, fk));
    expect(fk.calls.map((c) => [c.op, c.uuid])).toEqual([["upsertOrgUnit", b.Uuid]]);
    expect(result.summaryLine()).toBe("Apply complete! Resources: 1 added, 0 changed, 0 destroyed, 1 adopted.");
    const state = (await backend.read())!;
    expect(state.resources.find((r) => r.uuid === a.Uuid)).toMatchObject({ origin: "adopted", confirmed: true });
  });

  it("reads back an adoption with fields the refresh did not read, and writes it only when FK differs", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const same = { ...unit(1, TOP), Email: "a@example.dk" };
    const bare = { ...unit(2, TOP), Email: "b@example.dk" };
    fk.units.set(same.Uuid, same);
    fk.units.set(bare.Uuid, { Uuid: bare.Uuid, Name: bare.Name, ParentOrgUnitUuid: TOP });
    const partly = (c: Change): Change => ({ ...c, unobserved: ["Email"] });
    const result = await applyPlan(makePlan([partly(adopt(same)), partly(adopt(bare))], { lineage: null, serial: 0 }), deps(backend, fk));
    expect(fk.calls.filter((c) => !c.op.startsWith("get")).map((c) => [c.op, c.uuid])).toEqual([["upsertOrgUnit", bare.Uuid]]);
    expect(fk.units.get(bare.Uuid)).toMatchObject({ Email: "b@example.dk" });
    expect(result.summaryLine()).toBe("Apply complete! Resources: 0 added, 1 changed, 0 destroyed, 1 adopted.");
    expect(result.writes.map((w) => [w.action, w.uuid])).toEqual([["update", bare.Uuid]]);
    const state = (await backend.read())!;
    expect(state.resources.find((r) => r.uuid === same.Uuid)).toMatchObject({ origin: "adopted", confirmed: true });
    expect(state.resources.find((r) => r.uuid === bare.Uuid)).toMatchObject({ origin: "adopted", attributes: bare });
    expect(state.pending).toEqual([]);
  });

  it("records updates, keeping the origin of objects it created", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    await applyPlan(makePlan([create(a)], { lineage: null, serial: 0 }), deps(backend, fk));
    const before = (await backend.read())!;
    const renamed = { ...a, Name: "Renamed" };
    const result = await applyPlan(makePlan([update(a, renamed)], { lineage: before.lineage, serial: before.serial }), deps(backend, fk));
    expect(result.changed).toBe(1);
    const after = (await backend.read())!;
    expect(after.resources[0]).toMatchObject({ origin: "created", name: "Renamed", attributes: renamed });
    expect(after.serial).toBeGreaterThan(before.serial);
  });

  it("writes an adoption whose CPR FK does not show, instead of recording a CPR FK never got", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const withCpr = user(1, [], cprHash("0101011234"));
    const withoutCpr = user(2, []);
    // FK holds both users as OS2mo has them, but no CPR (as after the exporter this replaces, with CPR off).
    for (const u of [withCpr, withoutCpr]) fk.users.set(u.Uuid, { ...u, Person: { Name: u.Person.Name } });
    const unread = (c: Change): Change => ({ ...c, unobserved: ["Person.Cpr"] });
    const result = await applyPlan(
      makePlan([unread(adopt(withCpr)), unread(adopt(withoutCpr))], { lineage: null, serial: 0 }),
      deps(backend, fk, { resolveCpr: async () => "010101-1234", cprHashKey: CPR_KEY }),
    );
    expect(fk.writesTo(withCpr.Uuid).map((c) => c.cpr)).toEqual(["0101011234"]);
    expect(fk.writesTo(withoutCpr.Uuid)).toEqual([]);
    expect(result.summaryLine()).toBe("Apply complete! Resources: 0 added, 1 changed, 0 destroyed, 1 adopted.");
  });

  it("re-reads the CPR at apply time, sends it in clear, stores only the hash, and refuses a changed one", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const same = user(1, [], cprHash("0101011234"));
    const changed = user(2, [], cprHash("0202025678"));
    const mo: Record<string, string> = { [same.Uuid]: "010101-1234", [changed.Uuid]: "0303039999" };
    const result = await applyPlan(
      makePlan([create(same), create(changed)], { lineage: null, serial: 0 }),
      deps(backend, fk, { resolveCpr: async (id) => mo[id], cprHashKey: CPR_KEY }),
    );
    expect(fk.writesTo(same.Uuid).map((c) => c.cpr)).toEqual(["0101011234"]);
    expect(fk.writesTo(changed.Uuid)).toEqual([]);
    expect(result.failures).toEqual([expect.objectContaining({ address: `user/${changed.Uuid}`, permanent: true, message: expect.stringContaining("CPR number in OS2mo changed") })]);
    const text = backend.store.state!;
    expect(text).not.toContain("0101011234");
    expect((await backend.read())!.resources[0]!.attributes).toMatchObject({ Person: { Cpr: cprHash("0101011234") } });
  });

  it("sends nothing for a change interrupted while its CPR was being re-read", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const u = user(1, [], cprHash("0101011234"));
    const controller = new AbortController();
    const result = await applyPlan(
      makePlan([create(u)], { lineage: null, serial: 0 }),
      deps(backend, fk, {
        cprHashKey: CPR_KEY,
        resolveCpr: async () => {
          controller.abort();
          return "0101011234";
        },
        signal: controller.signal,
      }),
    );
    expect(fk.calls).toEqual([]);
    expect(result.interrupted).toBe(true);
    expect(result.notStarted.map((n) => n.address)).toEqual([`user/${u.Uuid}`]);
    expect((await backend.read())!.pending).toEqual([]);
  });

  it("refuses to write a hashed CPR when it cannot re-read the CPR", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const u = user(1, [], cprHash("0101011234"));
    const result = await applyPlan(makePlan([create(u)], { lineage: null, serial: 0 }), deps(backend, fk));
    expect(fk.calls).toEqual([]);
    expect(result.failures[0]!.message).toMatch(/cannot be re-read/);
  });

  it("refuses a plan whose state changed, and a state with unsettled journal entries", async () => {
    const backend = new MemoryStateBackend();
    const s = await seeded(backend);
    const fk = new FakeFk();
    const plan = makePlan([create(unit(1, TOP))], { lineage: LINEAGE, serial: s.serial + 1 });
    await expect(applyPlan(plan, deps(backend, fk))).rejects.toThrow(/Saved plan is stale/);
    const other = makePlan([create(unit(1, TOP))], { lineage: "11111111-1111-4111-8111-111111111111", serial: s.serial });
    await expect(applyPlan(other, deps(backend, fk))).rejects.toBeInstanceOf(PlanRefusedError);
    const withPending = { ...s, serial: 1, pending: [{ id: "x", address: `orgunit/${uuid(9)}` as const, action: "delete" as const, started_at: "2025-03-01T09:00:00.000Z", plan_id: "p" }] };
    await backend.write(withPending, { lineage: LINEAGE, serial: 0 });
    await expect(applyPlan(makePlan([], { lineage: LINEAGE, serial: 1 }), deps(backend, fk))).rejects.toBeInstanceOf(StateError);
    expect(fk.calls).toEqual([]);
  });

  it("stops when the state lock is lost: no write is sent whose journal entry could not be persisted", async () => {
    const store = memoryStore();
    const backend = new MemoryStateBackend({ store });
    const lock = await backend.lock({ operation: "apply", who: "a@h", ttlMs: 60_000 });
    const fk = new FakeFk();
    const users = Array.from({ length: 10 }, (_, i) => user(i + 1, []));
    let sent = 0;
    fk.onWrite = async () => {
      if (++sent === 2) await new MemoryStateBackend({ store }).unlock(lock.ID);
    };
    const err = await applyPlan(makePlan(users.map(create), { lineage: null, serial: 0 }), deps(backend, fk, { lockId: lock.ID, parallelism: 2, journalBatchSize: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockError);
    expect(sent).toBeLessThan(users.length);
    // Every write that was sent is journaled in the stored state, so the next run settles it.
    const stored = (await backend.read())!;
    const journaled = new Set(stored.pending.map((p) => p.address));
    for (const c of fk.calls) expect(journaled.has(`user/${c.uuid}`)).toBe(true);
    expect(fk.calls).toHaveLength(sent);
  });

  it("refuses a plan whose changes wait for each other in a cycle", async () => {
    const a = unit(1, uuid(2));
    const b = unit(2, uuid(1));
    await expect(applyPlan(makePlan([create(a), create(b)] as Change[], { lineage: null, serial: 0 }), deps(new MemoryStateBackend(), new FakeFk()))).rejects.toThrow(/cycle/);
  });

  it("treats FkWriteError's permanent flag as authoritative", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    fk.upsertOrgUnit = async () => {
      throw new FkWriteError("queue full", false, 503);
    };
    const result = await applyPlan(makePlan([create(a)], { lineage: null, serial: 0 }), deps(new MemoryStateBackend(), fk, { maxAttempts: 2 }));
    expect(result.failures[0]).toMatchObject({ permanent: false, outcomeUnknown: true });
  });
});
