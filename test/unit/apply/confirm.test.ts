import { describe, expect, it } from "vitest";
import { applyPlan, confirmAndRecord, confirmWrites, markConfirmed } from "../../../src/apply/index.js";
import { MemoryStateBackend } from "../../../src/state/index.js";
import { create, del, FakeFk, ids, makePlan, TOP, unit, user } from "./fake-fk.js";

function clock() {
  let t = Date.parse("2025-03-01T10:00:00.000Z");
  return { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) };
}

describe("confirmWrites", () => {
  it("finds a write OS2sync accepted but FK never got, and confirms the rest", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const b = unit(2, TOP);
    const u = user(1, [a.Uuid]);
    fk.fault(b.Uuid, "drop");
    const result = await applyPlan(makePlan([a, b, u].map(create), { lineage: null, serial: 0 }), { backend, writer: fk, newId: ids() });
    expect(result.added).toBe(3);
    const c = clock();
    const confirmation = await confirmAndRecord(backend, result.writes, fk, { timeoutMs: 10_000, pollMs: 2_000, ...c });
    expect(confirmation.confirmed.map((w) => w.uuid).sort()).toEqual([a.Uuid, u.Uuid].sort());
    expect(confirmation.unconfirmed).toEqual([{ write: expect.objectContaining({ uuid: b.Uuid }), reason: "not found in FK", current: null }]);
    // It kept trying until the time was up.
    expect(c.now().toISOString()).toBe("2025-03-01T10:00:10.000Z");
    // The state no longer claims the unit FK never got, so the next plan creates it again.
    const state = (await backend.read())!;
    expect(Object.fromEntries(state.resources.map((r) => [r.uuid, r.confirmed]))).toEqual({ [a.Uuid]: true, [u.Uuid]: true });
  });

  it("records FK's content for an update or a delete FK did not take, so they stay managed and planned", async () => {
    const backend = new MemoryStateBackend();
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const b = unit(2, TOP);
    await applyPlan(makePlan([a, b].map(create), { lineage: null, serial: 0 }), { backend, writer: fk, newId: ids() });
    const before = (await backend.read())!;
    const renamed = { ...a, Name: "Renamed" };
    const rename = { address: `orgunit/${a.Uuid}` as const, kind: "orgunit" as const, uuid: a.Uuid, name: "Renamed", action: "update" as const, attributes: renamed, confirmed: false };
    const remove = { address: `orgunit/${b.Uuid}` as const, kind: "orgunit" as const, uuid: b.Uuid, name: b.Name, action: "delete" as const, confirmed: false };
    // As apply leaves the state when OS2sync accepted both writes and FK then refused them.
    await backend.write(
      { ...before, serial: before.serial + 1, resources: before.resources.filter((r) => r.uuid !== b.Uuid).map((r) => (r.uuid === a.Uuid ? { ...r, name: "Renamed", attributes: renamed } : r)) },
      { lineage: before.lineage, serial: before.serial },
    );
    const result = await confirmAndRecord(backend, [rename, remove], fk, { timeoutMs: 0, ...clock() });
    expect(result.unconfirmed.map((u) => [u.write.action, u.reason])).toEqual([
      ["update", "FK differs in Name"],
      ["delete", "still present in FK"],
    ]);
    const state = (await backend.read())!;
    expect(state.serial).toBe(before.serial + 2);
    expect(state.resources.map((r) => [r.uuid, r.name, r.confirmed])).toEqual([
      [a.Uuid, a.Name, true],
      [b.Uuid, b.Name, true],
    ]);
  });

  it("waits for writes that show up late, and names the fields that still differ", async () => {
    const fk = new FakeFk();
    const a = unit(1, TOP);
    const b = unit(2, TOP);
    fk.units.set(b.Uuid, { ...b, Name: "Old name" });
    const c = clock();
    let polls = 0;
    const reader = {
      getOrgUnit: async (id: string) => {
        if (id === a.Uuid && ++polls >= 3) fk.units.set(a.Uuid, a);
        return fk.getOrgUnit(id);
      },
      getUser: (id: string) => fk.getUser(id),
    };
    const writes = [a, b].map((r) => ({ address: `orgunit/${r.Uuid}` as const, kind: "orgunit" as const, uuid: r.Uuid, name: r.Name, action: "create" as const, attributes: r, confirmed: false }));
    const result = await confirmWrites(writes, reader, { timeoutMs: 60_000, pollMs: 5_000, ...c });
    expect(result.confirmed.map((w) => w.uuid)).toEqual([a.Uuid]);
    expect(result.unconfirmed[0]!.reason).toBe("FK differs in Name");
  });

  it("confirms a delete once the object is gone, and ignores unmanaged fields", async () => {
    const fk = new FakeFk();
    const gone = unit(1, TOP);
    const kept = unit(2, TOP);
    fk.units.set(kept.Uuid, { ...kept, ShortKey: "set-by-someone-else" });
    const writes = [
      { address: `orgunit/${gone.Uuid}` as const, kind: "orgunit" as const, uuid: gone.Uuid, name: gone.Name, action: "delete" as const, confirmed: false },
      { address: `orgunit/${kept.Uuid}` as const, kind: "orgunit" as const, uuid: kept.Uuid, name: kept.Name, action: "update" as const, attributes: kept, confirmed: false },
    ];
    const result = await confirmWrites(writes, fk, { timeoutMs: 0, unmanagedFields: ["ShortKey"], ...clock() });
    expect(result.unconfirmed).toEqual([]);
    const strict = await confirmWrites(writes, fk, { timeoutMs: 0, ...clock() });
    expect(strict.unconfirmed.map((u) => u.reason)).toEqual(["FK differs in ShortKey"]);
    void del;
  });

  it("markConfirmed raises the serial only when something changed", () => {
    const s = { format_version: 1 as const, lineage: "l", serial: 3, environment: "t", cvr: "1", admin_top_uuid: TOP, tool_version: "x", resources: [], pending: [] };
    expect(markConfirmed(s, ["orgunit/x"])).toBe(s);
  });
});
