import type {
  MoAddress,
  MoEngagement,
  MoItUser,
  MoKle,
  MoManager,
  MoOrgUnit,
  MoSnapshot,
} from "../model/index.js";

/**
 * Lookups over one snapshot, built once so that every per-object step is a Map lookup: the mapping
 * must stay linear in the size of OS2mo (a large municipality has ~100k addresses).
 */
export interface SnapshotIndex {
  units: Map<string, MoOrgUnit>;
  engagements: Map<string, MoEngagement>;
  engagementsByPerson: Map<string, MoEngagement[]>;
  unitAddresses: Map<string, MoAddress[]>;
  personAddresses: Map<string, MoAddress[]>;
  unitItUsers: Map<string, MoItUser[]>;
  personItUsers: Map<string, MoItUser[]>;
  managersByUnit: Map<string, MoManager[]>;
  klesByUnit: Map<string, MoKle[]>;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function indexSnapshot(snapshot: MoSnapshot): SnapshotIndex {
  const idx: SnapshotIndex = {
    units: new Map(),
    engagements: new Map(),
    engagementsByPerson: new Map(),
    unitAddresses: new Map(),
    personAddresses: new Map(),
    unitItUsers: new Map(),
    personItUsers: new Map(),
    managersByUnit: new Map(),
    klesByUnit: new Map(),
  };
  for (const u of snapshot.orgUnits) idx.units.set(u.uuid, u);
  for (const e of snapshot.engagements) {
    idx.engagements.set(e.uuid, e);
    push(idx.engagementsByPerson, e.person, e);
  }
  for (const a of snapshot.addresses) {
    // An address belongs to a person or to a unit; a person's address may name a unit too (its engagement's).
    if (a.person !== null) push(idx.personAddresses, a.person, a);
    else if (a.org_unit !== null) push(idx.unitAddresses, a.org_unit, a);
  }
  for (const it of snapshot.itUsers) {
    if (it.person !== null) push(idx.personItUsers, it.person, it);
    else if (it.org_unit !== null) push(idx.unitItUsers, it.org_unit, it);
  }
  for (const m of snapshot.managers) push(idx.managersByUnit, m.org_unit, m);
  for (const k of snapshot.kles) push(idx.klesByUnit, k.org_unit, k);
  return idx;
}
