import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.js";
import type { StateResource } from "../../../src/model/index.js";
import { WorkingState } from "../../../src/apply/journal.js";
import { orgUnitResource } from "../state/conformance.js";
import { MemoryStateBackend, newState } from "../../../src/state/index.js";

const TOP = "aaaaaaaa-0000-4000-8000-000000000000";

function unit(n: number, name = `Enhed ${n}`): StateResource {
  return orgUnitResource(n, name, TOP);
}

function working(resources: StateResource[] = []): WorkingState {
  const base = newState({ lineage: "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c", environment: "test", cvr: "11111111", admin_top_uuid: TOP, tool_version: "0.1.0" });
  return new WorkingState({ ...base, resources }, false);
}

const addresses = (ws: WorkingState) => ws.snapshot().resources.map((r) => r.address);

describe("apply's working state", () => {
  it("keeps resources in address order across snapshots, whatever order they are recorded in", () => {
    const ws = working([unit(5), unit(2)]);
    expect(addresses(ws)).toEqual([unit(2).address, unit(5).address]);
    for (const n of [9, 1, 7, 3]) ws.put(unit(n));
    expect(addresses(ws)).toEqual([1, 2, 3, 5, 7, 9].map((n) => unit(n).address));
    ws.put(unit(0));
    ws.put(unit(8));
    expect(addresses(ws)).toEqual([0, 1, 2, 3, 5, 7, 8, 9].map((n) => unit(n).address));
  });

  it("drops removed resources, lists a re-added one once, and shows a replaced one's new content", () => {
    const ws = working([unit(1), unit(2), unit(3)]);
    ws.snapshot();
    ws.remove(unit(2).address);
    ws.put(unit(3, "Omdøbt"));
    expect(addresses(ws)).toEqual([unit(1).address, unit(3).address]);
    ws.put(unit(2, "Igen"));
    ws.remove(unit(1).address);
    ws.put(unit(1, "Også igen"));
    const snap = ws.snapshot();
    expect(snap.resources.map((r) => r.name)).toEqual(["Også igen", "Igen", "Omdøbt"]);
  });

  it("lists exactly the live resources in address order after any run of puts, removals and snapshots (seeded)", () => {
    const random = seededRandom(42);
    const ws = working([unit(3), unit(40)]);
    const live = new Map<string, string>([unit(3), unit(40)].map((r) => [r.address, r.name]));
    for (let step = 0; step < 3000; step++) {
      const n = Math.floor(random() * 60);
      const r = random();
      if (r < 0.55) {
        const u = unit(n, `Enhed ${n} v${step}`);
        ws.put(u);
        live.set(u.address, u.name);
      } else if (r < 0.75) {
        ws.remove(unit(n).address);
        live.delete(unit(n).address);
      } else if (r < 0.85) {
        const snap = ws.snapshot();
        const expected = [...live].sort(([a], [b]) => (a < b ? -1 : 1));
        expect(snap.resources.map((x) => [x.address, x.name])).toEqual(expected);
      }
    }
  });

  it("persists with serial + 1 each time and records no resource twice", async () => {
    const backend = new MemoryStateBackend();
    const ws = working();
    const serials: number[] = [];
    for (let n = 20; n > 0; n--) {
      ws.put(unit(n));
      if (n % 6 === 0) serials.push(await ws.persist(backend));
    }
    serials.push(await ws.persist(backend));
    expect(serials).toEqual([0, 1, 2, 3].map((k) => serials[0]! + k));
    const stored = await backend.read();
    expect(stored!.serial).toBe(serials[3]);
    expect(stored!.resources.map((r) => r.address)).toEqual(Array.from({ length: 20 }, (_, i) => unit(i + 1).address));
  });
});
