import { normaliseOrgUnit, type MoClassRef, type MoOrgUnit, type OrgUnitRegistration } from "../model/index.js";
import { unitAddressFields } from "./addresses.js";
import type { SnapshotIndex } from "./indexes.js";
import { cmpStr, type PreparedPolicy } from "./prepared.js";
import type { UnitPlacement } from "./units.js";
import { personFkUuid } from "./users.js";

// OS2mo's KLE import names the aspects in Danish and gives them these scopes; either identifies one.
const TASK_ASPECT = { name: "Udførende", scope: "UDFOERENDE" };
const CONTACT_ASPECT = { name: "Ansvarlig", scope: "ANSVARLIG" };

function hasAspect(aspects: MoClassRef[], wanted: { name: string; scope: string }): boolean {
  return aspects.some((a) => a.name === wanted.name || a.user_key === wanted.name || a.scope === wanted.scope);
}

/** One written unit as an OS2sync OrgUnitRegistration (normalised). */
export function mapOrgUnit(u: MoOrgUnit, idx: SnapshotIndex, placement: UnitPlacement, p: PreparedPolicy): OrgUnitRegistration {
  const raw: Record<string, unknown> = {
    Uuid: placement.fkUuid.get(u.uuid),
    Name: u.name,
    Type: p.policy.unitType,
  };
  const parent = placement.writtenParent.get(u.uuid);
  if (parent !== undefined) raw.ParentOrgUnitUuid = placement.fkUuid.get(parent);

  const itSystems: string[] = [];
  for (const it of idx.unitItUsers.get(u.uuid) ?? []) {
    if (!p.uuidSystemRank.has(it.itsystem.name.trim())) itSystems.push(it.itsystem.uuid);
  }
  raw.ItSystems = itSystems;

  if (p.policy.enableKle) {
    const tasks: string[] = [];
    const contact: string[] = [];
    for (const k of idx.klesByUnit.get(u.uuid) ?? []) {
      if (!p.policy.useContactForTasks) {
        tasks.push(k.kle_number.uuid);
        continue;
      }
      // A KLE with several aspects counts for each of them.
      if (hasAspect(k.kle_aspects, TASK_ASPECT)) tasks.push(k.kle_number.uuid);
      if (hasAspect(k.kle_aspects, CONTACT_ASPECT)) contact.push(k.kle_number.uuid);
    }
    raw.Tasks = tasks;
    raw.ContactForTasks = contact;
  }

  if (p.policy.syncManagers) {
    let first: string | undefined;
    let firstManager = "";
    for (const m of idx.managersByUnit.get(u.uuid) ?? []) {
      if (m.person === null) continue;
      if (first === undefined || cmpStr(m.uuid, firstManager) < 0) {
        first = m.person;
        firstManager = m.uuid;
      }
    }
    if (first !== undefined) raw.ManagerUuid = personFkUuid(first, idx, p);
  }

  Object.assign(raw, unitAddressFields(idx.unitAddresses.get(u.uuid) ?? [], p));
  return normaliseOrgUnit(raw, { truncateLength: p.policy.truncateLength });
}
