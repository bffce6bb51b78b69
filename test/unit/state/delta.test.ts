import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.js";
import type { PendingWrite, StateFile, StateResource } from "../../../src/model/index.js";
import { applyDelta, diffStates, encodeDelta, replayJournal, sealResource, sealValue } from "../../../src/state/index.js";
import { orgUnitResource, sampleState } from "./conformance.js";

function resource(n: number, name: string): StateResource {
  return sealResource(orgUnitResource(n, name));
}

function entry(n: number): PendingWrite {
  return sealValue({ id: `entry-${n}`, address: `orgunit/bbbbbbbb-0000-4000-8000-${String(n).padStart(12, "0")}`, action: "update", started_at: "2025-01-02T03:04:05.000Z", plan_id: "0".repeat(64) });
}

/** A run of versions as apply makes them: each changes a few resources and journal entries of the one before. */
function run(seed: number, steps: number): StateFile[] {
  const rnd = seededRandom(seed);
  const base = sampleState();
  let s: StateFile = { ...base, resources: Array.from({ length: 40 }, (_, i) => resource(i, `Unit ${i}`)) };
  const out = [s];
  for (let step = 1; step <= steps; step++) {
    const resources = new Map(s.resources.map((r) => [r.address, r]));
    const pending = new Map(s.pending.map((p) => [p.id, p]));
    for (let k = Math.floor(rnd() * 6); k > 0; k--) {
      const n = Math.floor(rnd() * 60);
      const what = rnd();
      if (what < 0.4) resources.set(resource(n, "x").address, resource(n, `Unit ${n} at ${step}`));
      else if (what < 0.55) resources.delete(resource(n, "x").address);
      else if (what < 0.8) pending.set(`entry-${n}`, entry(n));
      else pending.delete(`entry-${n}`);
    }
    s = {
      ...s,
      serial: s.serial + 1,
      resources: [...resources.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
      pending: [...pending.values()],
    };
    out.push(s);
  }
  return out;
}

describe("state journal deltas", () => {
  it("a version is its predecessor with the delta applied, through the journal's text too", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const all = run(seed, 30);
      let journal = Buffer.alloc(0);
      for (let i = 1; i < all.length; i++) {
        const delta = diffStates(all[i - 1]!, all[i]!)!;
        expect(applyDelta(all[i - 1]!, delta)).toEqual(all[i]);
        journal = Buffer.concat([journal, encodeDelta(delta)]);
      }
      const replayed = replayJournal(all[0]!, journal, "j");
      expect(replayed.state).toEqual(all[all.length - 1]);
      expect(replayed.applied).toBe(30);
      expect(replayed.validBytes).toBe(journal.length);
    }
  });

  it("holds only what changed: unchanged sealed resources and entries are left out", () => {
    const [a, b] = run(7, 1) as [StateFile, StateFile];
    const changed = { ...b, serial: b.serial + 1, resources: b.resources.map((r, i) => (i === 3 ? resource(3, "Renamed") : r)) };
    const delta = diffStates(b, changed)!;
    expect(delta.resources.map((r) => r.name)).toEqual(["Renamed"]);
    expect([delta.removed, delta.pending, delta.settled]).toEqual([[], [], []]);
    // An unsealed object may have been changed in place since: it is written again.
    const plain = { ...b, serial: b.serial + 1, resources: b.resources.map((r) => ({ ...r })) };
    expect(diffStates(b, plain)!.resources).toHaveLength(b.resources.length);
    expect(a.serial + 1).toBe(b.serial);
  });

  it("gives no delta for a version that is not the next, or that changes the header", () => {
    const [a, b] = run(8, 1) as [StateFile, StateFile];
    expect(diffStates(a, { ...b, serial: b.serial + 1 })).toBeUndefined();
    expect(diffStates(a, { ...b, tool_version: "9.9.9" })).toBeUndefined();
    expect(diffStates(a, { ...b, lineage: "11111111-1111-4111-8111-111111111111" })).toBeUndefined();
  });

  it("writes each line as canonical JSON whose checksum covers the rest of the line", () => {
    const [a, b] = run(9, 1) as [StateFile, StateFile];
    const line = encodeDelta(diffStates(a, b)!).toString("utf8");
    expect(line.endsWith("}\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const doc = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["checksum", "lineage", "pending", "removed", "resources", "serial", "settled"]);
    const edited = line.replace(/"serial":\d+/, `"serial":${b.serial + 5}`);
    expect(() => replayJournal(a, Buffer.from(edited), "state.json.journal")).toThrow("State journal state.json.journal:1 is damaged: it does not match its checksum");
  });
});
