import { isCurrent, type MoFixture } from "../../src/sandbox/fixtures/index.js";

/** One OS2mo mutation through the sandbox's admin API, and the one that undoes it. */
export interface Mutation {
  op: string;
  args: unknown[];
  undo: { op: string; args: unknown[] };
}

/**
 * Renames `unitShare` of the units and `personShare` of the persons, chosen evenly by uuid among those
 * stsorg exports (current units under the top unit, persons with a current engagement in one), so every
 * change reaches FK. Shares are of the fixture's totals, e.g. 1 % of 3,000 units = 30 units.
 */
export function pickChanges(f: MoFixture, today: string, unitShare: number, personShare: number): { mutations: Mutation[]; units: number; persons: number } {
  const current = new Map(f.orgUnits.filter((u) => isCurrent(u.validity, today)).map((u) => [u.uuid, u]));
  const exported = new Set<string>();
  const underTop = (uuid: string): boolean => {
    const seen = new Set<string>();
    for (let u = current.get(uuid); u; u = u.parent ? current.get(u.parent) : undefined) {
      if (u.uuid === f.topUnitUuid) return true;
      if (seen.has(u.uuid)) return false;
      seen.add(u.uuid);
    }
    return false;
  };
  for (const uuid of current.keys()) if (underTop(uuid)) exported.add(uuid);

  const units = [...exported].filter((u) => u !== f.topUnitUuid).sort();
  const employed = new Set(f.engagements.filter((e) => isCurrent(e.validity, today) && exported.has(e.org_unit)).map((e) => e.person));
  const persons = f.persons.filter((p) => employed.has(p.uuid)).sort((a, b) => (a.uuid < b.uuid ? -1 : 1));

  const evenly = <T>(xs: T[], n: number): T[] => {
    const step = xs.length / Math.max(1, n);
    return Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor(i * step)]!);
  };
  const unitCount = Math.round(f.orgUnits.length * unitShare);
  const personCount = Math.round(f.persons.length * personShare);
  const mutations: Mutation[] = [];
  for (const uuid of evenly(units, unitCount)) {
    const name = current.get(uuid)!.name;
    mutations.push({ op: "renameUnit", args: [uuid, `${name} (ny)`], undo: { op: "renameUnit", args: [uuid, name] } });
  }
  for (const p of evenly(persons, personCount)) {
    mutations.push({ op: "renamePerson", args: [p.uuid, `${p.name} Testesen`], undo: { op: "renamePerson", args: [p.uuid, p.name] } });
  }
  return { mutations, units: Math.min(unitCount, units.length), persons: Math.min(personCount, persons.length) };
}
