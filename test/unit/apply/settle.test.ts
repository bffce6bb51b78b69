import { describe, expect, it } from "vitest";
import { applyPlan, formatSettleReport, settleBackend, settlePending } from "../../../src/apply/index.js";
import type { PendingWrite, StateFile } from "../../../src/model/index.js";
import { attributesSha256, MemoryStateBackend, memoryStore, newState, putResource } from "../../../src/state/index.js";
import { create, ENV, FakeFk, ids, makePlan, TOP, unit, user } from "./fake-fk.js";

const LINEAGE = "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c";

function stateWith(pending: PendingWrite[], managed: ReturnType<typeof unit>[] = []): StateFile {
  let s = newState({ lineage: LINEAGE, environment: ENV.name, cvr: ENV.cvr, admin_top_uuid: TOP, tool_version: "0.1.0" });
  for (const u of managed) {
    s = putResource(s, {
      address: `orgunit/${u.Uuid}`, kind: "orgunit", uuid: u.Uuid, name: u.Name, attributes: u, attributes_sha256: attributesSha256(u),
      applied_at: "2025-02-01T00:00:00.000Z", confirmed: true, origin: "created",
    });
  }
  return { ...s, pending };
}

function pendingWrite(action: PendingWrite["action"], reg: ReturnType<typeof unit>, id = `p-${reg.Uuid}`): PendingWrite {
  const p: PendingWrite = { id, address: `orgunit/${reg.Uuid}`, action, started_at: "2025-03-01T09:00:00.000Z", plan_id: "plan-1" };
  if (action !== "delete") {
    p.attributes = reg;
    p.attributes_sha256 = attributesSha256(reg);
  }
  return p;
}

const now = () => new Date("2025-03-01T10:00:00.000Z");

describe("settlePending", () => {
  it("records a pending create that reached FK as applied but unconfirmed", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    fk.units.set(a.Uuid, a);
    const report = await settlePending(stateWith([pendingWrite("create", a)]), fk, { now });
    expect(report.outcomes).toEqual([{ address: `orgunit/${a.Uuid}`, action: "create", outcome: "applied" }]);
    expect(report.state.pending).toEqual([]);
    expect(report.state.resources).toEqual([expect.objectContaining({ uuid: a.Uuid, attributes: a, confirmed: false, origin: "created", name: a.Name })]);
    expect(report.state.serial).toBe(1);
    expect(report.complete).toBe(true);
  });

  it("drops a pending create that never reached FK, leaving nothing in state", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const report = await settlePending(stateWith([pendingWrite("create", a)]), fk, { now });
    expect(report.outcomes[0]).toMatchObject({ outcome: "not-applied", detail: "the object is not in FK" });
    expect(report.state.resources).toEqual([]);
    expect(report.state.pending).toEqual([]);
  });

  it("leaves the previous state entry of a pending update FK does not show, so the next plan redoes it", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const renamed = { ...a, Name: "Renamed" };
    fk.units.set(a.Uuid, a);
    const state = stateWith([pendingWrite("update", renamed)], [a]);
    const report = await settlePending(state, fk, { now });
    expect(report.outcomes[0]).toMatchObject({ outcome: "not-applied", detail: "FK holds other content" });
    expect(report.state.resources).toEqual(state.resources);
  });

  it("removes an object whose pending delete was carried out, and keeps one whose delete was not", async () => {
    const fk = new FakeFk();
    const gone = unit(1, TOP);
    const still = unit(2, TOP);
    fk.units.set(still.Uuid, still);
    const report = await settlePending(stateWith([pendingWrite("delete", gone), pendingWrite("delete", still)], [gone, still]), fk, { now });
    expect(report.outcomes.map((o) => o.outcome)).toEqual(["deleted", "not-applied"]);
    expect(report.state.resources.map((r) => r.uuid)).toEqual([still.Uuid]);
    expect(formatSettleReport(report)).toBe("Settled 2 write(s) left by an interrupted run: 1 deleted, 1 not applied.");
  });

  it("keeps an entry it cannot read back and says the state is not settled", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    fk.getOrgUnit = async () => {
      throw new Error("connection reset");
    };
    const report = await settlePending(stateWith([pendingWrite("create", a)]), fk, { now });
    expect(report.complete).toBe(false);
    expect(report.state.pending).toHaveLength(1);
    expect(formatSettleReport(report)).toContain("connection reset");
  });

  it("compares users without a CPR in the read-back (OS2sync does not return it)", async () => {
    const fk = new FakeFk();
    const u = user(1, [], "hmac-sha256:" + "a".repeat(64));
    fk.users.set(u.Uuid, { ...u, Person: { Name: u.Person.Name, Cpr: "0101011234" } });
    const p: PendingWrite = { id: "x", address: `user/${u.Uuid}`, action: "create", attributes: u, attributes_sha256: attributesSha256(u), started_at: "2025-03-01T09:00:00.000Z", plan_id: "p" };
    const report = await settlePending(stateWith([p]), fk, { now });
    expect(report.outcomes[0]!.outcome).toBe("applied");
  });

  it("settles a crash at each point of an apply so that state tells the truth and nothing is written twice", async () => {
    const units = [unit(1, TOP), unit(2, TOP), unit(3, TOP), unit(4, TOP)];
    for (let crashAt = 1; crashAt <= units.length; crashAt++) {
      for (const phase of ["before", "after"] as const) {
        const store = memoryStore();
        const backend = new MemoryStateBackend({ store });
        const fk = new FakeFk();
        let crashed: { state: string; fk: Map<string, unknown>; uuid: string } | undefined;
        let n = 0;
        const real = fk.upsertOrgUnit.bind(fk);
        fk.upsertOrgUnit = async (reg) => {
          const mine = ++n;
          if (mine === crashAt && phase === "before") crashed ??= { state: store.state!, fk: new Map(fk.units), uuid: reg.Uuid };
          await real(reg);
          if (mine === crashAt && phase === "after") crashed ??= { state: store.state!, fk: new Map(fk.units), uuid: reg.Uuid };
        };
        await applyPlan(makePlan(units.map(create), { lineage: null, serial: 0 }), { backend, writer: fk, newId: ids(), now, parallelism: 2, journalBatchSize: 2 });

        // What a process killed at that moment leaves: the persisted state, and FK as it was.
        if (!crashed) throw new Error(`no crash at ${crashAt} ${phase}: ${n} writes`);
        const after = new MemoryStateBackend({ store: { ...memoryStore(), state: crashed!.state, version: JSON.parse(crashed!.state) } });
        const fkAtCrash = new FakeFk();
        for (const [k, v] of crashed!.fk) fkAtCrash.units.set(k, v as ReturnType<typeof unit>);
        const report = await settleBackend(after, fkAtCrash, { now });
        const settled = (await after.read())!;
        expect(settled.pending).toEqual([]);
        // State records exactly what FK holds.
        expect(settled.resources.map((r) => r.uuid).sort()).toEqual([...fkAtCrash.units.keys()].sort());
        // The write under way at the crash was journaled; its read-back decides.
        expect(report!.outcomes.find((o) => o.address === `orgunit/${crashed!.uuid}`)!.outcome).toBe(phase === "after" ? "applied" : "not-applied");
        // Settling only reads.
        expect(fkAtCrash.calls.every((c) => c.op.startsWith("get"))).toBe(true);
      }
    }
  });
});
