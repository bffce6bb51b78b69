import { normaliseCpr, type ConsistencyIssue, type MoObjectRef, type MoOrgUnit, type OrgUnitRegistration } from "../model/index.js";
import { describe, personRef, unitRef } from "./issues.js";
import type { MappedUser } from "./users.js";

/**
 * Checks on the desired FK state as a whole: the things OS2sync or FK would reject or that would leave
 * FK's tree broken. Each finding names the OS2mo objects behind the FK objects involved.
 */
export function checkConsistency(
  orgUnits: Map<string, OrgUnitRegistration>,
  unitSource: Map<string, MoOrgUnit>,
  users: Map<string, MappedUser>,
  adminTopUuid: string,
  topUnit: MoOrgUnit | undefined,
): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  const ref = (fk: string): MoObjectRef => {
    const u = unitSource.get(fk);
    return u ? unitRef(u) : { kind: "orgunit", uuid: fk };
  };

  if (!orgUnits.has(adminTopUuid)) {
    issues.push({
      severity: "error",
      code: "no-root",
      message: `The top unit${topUnit ? ` "${topUnit.name}"` : ""} is not in the OS2mo data read, so FK's root ${adminTopUuid} has nothing to hold it.`,
      objects: topUnit ? [unitRef(topUnit)] : [],
      fk: [{ kind: "orgunit", uuid: adminTopUuid }],
      hint: "Check spec.sync.topUnitUuid: it must name a current unit in OS2mo.",
    });
  }

  for (const [uuid, reg] of orgUnits) {
    if (reg.Name === "") {
      const r = ref(uuid);
      issues.push({
        severity: "error",
        code: "unit-without-name",
        message: `Unit ${r.uuid} has no name in OS2mo; OS2sync requires a name, so FK unit ${uuid} cannot be written.`,
        objects: [r],
        fk: [{ kind: "orgunit", uuid }],
        hint: "Give the unit a name in OS2mo.",
      });
    }
    const parent = reg.ParentOrgUnitUuid;
    if (parent === undefined) {
      if (uuid !== adminTopUuid) {
        issues.push({
          severity: "error",
          code: "multiple-roots",
          message: `Unit ${describe(ref(uuid))} would be a second root in FK next to the top unit ${adminTopUuid}.`,
          objects: [ref(uuid)],
          fk: [{ kind: "orgunit", uuid }],
          hint: "Place the unit under the top unit in OS2mo.",
        });
      }
    } else if (!orgUnits.has(parent)) {
      issues.push({
        severity: "error",
        code: "missing-parent",
        message: `Unit ${describe(ref(uuid))} would be placed under FK unit ${parent}, which is not part of the desired state.`,
        objects: [ref(uuid)],
        fk: [{ kind: "orgunit", uuid }],
        hint: "Check the unit's parent in OS2mo and any uuid override (uuidFromItSystems) of the parent.",
      });
    }
  }

  for (const loop of findCycles(orgUnits)) {
    const refs = loop.map(ref);
    issues.push({
      severity: "error",
      code: "cycle",
      message: `FK units would form a cycle: ${refs.map(describe).join(", ")}.`,
      objects: refs,
      fk: loop.map((uuid) => ({ kind: "orgunit" as const, uuid })),
      hint: "Check the uuid overrides (uuidFromItSystems accounts) of these units in OS2mo: two units seem to share an FK uuid.",
    });
  }

  const byUserId = new Map<string, MappedUser[]>();
  // CPR digits → the OS2mo persons whose FK users carry it (one person's several users share theirs).
  const byCpr = new Map<string, Map<string, MappedUser>>();
  for (const m of users.values()) {
    const cpr = normaliseCpr(m.user.Person.Cpr);
    if (cpr) {
      const persons = byCpr.get(cpr) ?? new Map<string, MappedUser>();
      if (!persons.has(m.person.uuid)) persons.set(m.person.uuid, m);
      byCpr.set(cpr, persons);
    }
    for (const pos of m.user.Positions) {
      if (orgUnits.has(pos.OrgUnitUuid)) continue;
      issues.push({
        severity: "error",
        code: "position-unit-missing",
        message: `"${m.person.name}" (${m.person.uuid}) would hold position "${pos.Name}" in FK unit ${pos.OrgUnitUuid}, which is not part of the desired state.`,
        objects: [personRef(m.person), ...m.engagements.map((e) => ({ kind: "engagement" as const, uuid: e.uuid }))],
        fk: [{ kind: "user", uuid: m.user.Uuid }],
        hint: "Check the engagement's unit in OS2mo.",
      });
    }
    const key = m.user.UserId.toLowerCase();
    const list = byUserId.get(key);
    if (list) list.push(m);
    else byUserId.set(key, [m]);
  }
  for (const persons of byCpr.values()) {
    if (persons.size < 2) continue;
    const list = [...persons.values()].sort((a, b) => (a.person.uuid < b.person.uuid ? -1 : 1));
    // The number itself is never shown: the persons are named instead.
    issues.push({
      severity: "warning",
      code: "cpr-shared",
      message: `${list.length} persons in OS2mo have the same CPR number: ${list.map((m) => describe(personRef(m.person))).join(", ")}.`,
      objects: list.map((m) => personRef(m.person)),
      fk: list.map((m) => ({ kind: "user" as const, uuid: m.user.Uuid })),
      hint: "A CPR number belongs to one person: correct it in OS2mo, or merge the persons.",
    });
  }
  for (const [userId, list] of byUserId) {
    if (list.length < 2) continue;
    issues.push({
      severity: "error",
      code: "duplicate-user-id",
      message: `${list.length} FK users would share the UserId "${userId}": ${list.map((m) => `${describe(personRef(m.person))} as user ${m.user.Uuid}`).join(", ")}.`,
      objects: list.map((m) => personRef(m.person)),
      fk: list.map((m) => ({ kind: "user" as const, uuid: m.user.Uuid })),
      hint: "Give each person's account in OS2mo (userKeyItSystemNames) a distinct user_key.",
    });
  }
  return issues;
}

/** Every cycle of parent links among the units, each as its member uuids sorted. */
function findCycles(orgUnits: Map<string, OrgUnitRegistration>): string[][] {
  const done = new Set<string>();
  const cycles: string[][] = [];
  for (const start of orgUnits.keys()) {
    if (done.has(start)) continue;
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let cur: string | undefined = start;
    while (cur !== undefined && orgUnits.has(cur) && !done.has(cur)) {
      const at = onPath.get(cur);
      if (at !== undefined) {
        cycles.push(path.slice(at).sort());
        break;
      }
      onPath.set(cur, path.length);
      path.push(cur);
      cur = orgUnits.get(cur)!.ParentOrgUnitUuid;
    }
    for (const u of path) done.add(u);
  }
  return cycles;
}
