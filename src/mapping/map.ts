import type {
  ConsistencyIssue,
  DesiredState,
  MoOrgUnit,
  MoPerson,
  MoSnapshot,
  OrgUnitRegistration,
  SyncPolicy,
  UserRegistration,
} from "../model/index.js";
import { checkConsistency } from "./consistency.js";
import { indexSnapshot } from "./indexes.js";
import { describe, personRef, sortIssues, unitRef } from "./issues.js";
import { mapOrgUnit } from "./orgunits.js";
import { cmpStr, preparePolicy } from "./prepared.js";
import { placeUnits } from "./units.js";
import { mapPersonUsers, type MappedUser } from "./users.js";

function byUuid<T extends { uuid: string }>(list: readonly T[]): readonly T[] {
  for (let i = 1; i < list.length; i++) {
    if (list[i - 1]!.uuid > list[i]!.uuid) return [...list].sort((a, b) => cmpStr(a.uuid, b.uuid));
  }
  return list;
}

/**
 * The FK state OS2mo asks for under `policy` (stsorg's mapping rules). Pure: `snapshot.today` is "now".
 * Problems in OS2mo's data never abort the mapping: they are listed in `issues`, and every object that
 * can be computed is returned. An object with a problem of its own (no name) is kept, so that a plan
 * never deletes it from FK for that reason; where two objects would get one FK uuid the first (by
 * OS2mo uuid) is kept.
 */
export function computeDesiredState(snapshot: MoSnapshot, policy: SyncPolicy): DesiredState {
  const issues: ConsistencyIssue[] = [];
  const p = preparePolicy(policy);
  const idx = indexSnapshot(snapshot);
  const placement = placeUnits(snapshot, idx, p, issues);

  const orgUnits = new Map<string, OrgUnitRegistration>();
  const unitSource = new Map<string, MoOrgUnit>();
  for (const u of byUuid(snapshot.orgUnits)) {
    if (!placement.written.has(u.uuid)) continue;
    const reg = mapOrgUnit(u, idx, placement, p);
    const other = unitSource.get(reg.Uuid);
    if (other) {
      issues.push({
        severity: "error",
        code: "duplicate-unit-uuid",
        message: `Units ${describe(unitRef(other))} and ${describe(unitRef(u))} would both be FK unit ${reg.Uuid}; only the first is written.`,
        objects: [unitRef(other), unitRef(u)],
        fk: [{ kind: "orgunit", uuid: reg.Uuid }],
        hint: "Give each unit its own uuid account (uuidFromItSystems) in OS2mo, or none.",
      });
      continue;
    }
    orgUnits.set(reg.Uuid, reg);
    unitSource.set(reg.Uuid, u);
  }

  const mapped = new Map<string, MappedUser>();
  for (const person of byUuid(snapshot.persons)) {
    for (const m of mapPersonUsers(person, idx, placement, p, snapshot.today, issues)) {
      const other = mapped.get(m.user.Uuid);
      if (other) {
        issues.push(duplicateUserUuid(other.person, m.person, m.user.Uuid));
        continue;
      }
      mapped.set(m.user.Uuid, m);
    }
  }

  issues.push(...checkConsistency(orgUnits, unitSource, mapped, p.adminTopUuid, idx.units.get(p.topUnitUuid)));

  const users = new Map<string, UserRegistration>();
  for (const key of [...mapped.keys()].sort()) users.set(key, mapped.get(key)!.user);
  const units = new Map<string, OrgUnitRegistration>();
  for (const key of [...orgUnits.keys()].sort()) units.set(key, orgUnits.get(key)!);
  return { orgUnits: units, users, issues: sortIssues(issues) };
}

function duplicateUserUuid(first: MoPerson, second: MoPerson, uuid: string): ConsistencyIssue {
  const same = first.uuid === second.uuid;
  return {
    severity: "error",
    code: "duplicate-user-uuid",
    message: same
      ? `Two account groups of ${describe(personRef(first))} would both be FK user ${uuid}; only the first is written.`
      : `${describe(personRef(first))} and ${describe(personRef(second))} would both be FK user ${uuid}; only the first is written.`,
    objects: same ? [personRef(first)] : [personRef(first), personRef(second)],
    fk: [{ kind: "user", uuid }],
    hint: same
      ? "In OS2mo, tie each of the person's accounts to one engagement and give each engagement its own FK uuid account (uuidFromItSystems)."
      : "In OS2mo, give each person's FK uuid account (uuidFromItSystems) a distinct user_key.",
  };
}
