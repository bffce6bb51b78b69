import { PlanRefusedError } from "../errors/index.js";
import type { Change, OrgUnitRegistration, UserRegistration } from "../model/index.js";

/**
 * Which changes must finish before which: a unit after the write of the parent it names; a user after
 * the writes of the units its positions name; a unit's delete after every change that moves or deletes
 * what referred to it (child units, users with a position in it). Adoptions are state-only and take part
 * in no ordering. Returns, per change index, the indices it waits for.
 */
export function dependencies(changes: readonly Change[]): number[][] {
  const writeOf = new Map<string, number>();
  const refsTo = new Map<string, number[]>();
  const addRef = (unit: string | undefined, i: number) => {
    if (!unit) return;
    const list = refsTo.get(unit);
    if (list) list.push(i);
    else refsTo.set(unit, [i]);
  };
  changes.forEach((c, i) => {
    if (c.action === "create" || c.action === "update") writeOf.set(c.address, i);
    if ((c.action === "update" || c.action === "delete") && c.before) {
      for (const unit of referencedUnits(c, c.before as OrgUnitRegistration | UserRegistration)) addRef(unit, i);
    }
  });
  return changes.map((c, i) => {
    const deps = new Set<number>();
    if (c.action === "create" || c.action === "update") {
      for (const unit of referencedUnits(c, c.after as OrgUnitRegistration | UserRegistration | undefined)) {
        const d = writeOf.get(`orgunit/${unit}`);
        if (d !== undefined && d !== i) deps.add(d);
      }
    } else if (c.action === "delete" && c.kind === "orgunit") {
      for (const d of refsTo.get(c.uuid) ?? []) if (d !== i) deps.add(d);
    }
    return [...deps].sort((a, b) => a - b);
  });
}

function referencedUnits(c: Change, attrs: OrgUnitRegistration | UserRegistration | undefined): string[] {
  if (!attrs) return [];
  if (c.kind === "orgunit") {
    const parent = (attrs as OrgUnitRegistration).ParentOrgUnitUuid;
    return parent ? [parent.toLowerCase()] : [];
  }
  return [...new Set(((attrs as UserRegistration).Positions ?? []).map((p) => p.OrgUnitUuid.toLowerCase()))];
}

/** Refuses a plan whose changes wait for each other in a circle (it could never finish). */
export function checkAcyclic(changes: readonly Change[], deps: readonly number[][]): void {
  const remaining = deps.map((d) => d.length);
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)));
  const queue = remaining.flatMap((n, i) => (n === 0 ? [i] : []));
  let seen = 0;
  while (queue.length > 0) {
    const i = queue.pop()!;
    seen++;
    for (const j of dependents[i]!) if (--remaining[j]! === 0) queue.push(j);
  }
  if (seen < changes.length) {
    const stuck = remaining.flatMap((n, i) => (n > 0 ? [changes[i]!.address] : [])).slice(0, 5);
    throw new PlanRefusedError(`The plan's changes depend on each other in a cycle and cannot be ordered: ${stuck.join(", ")}.`, {
      hint: "Check the unit hierarchy in OS2mo for a loop, then run plan again.",
    });
  }
}
