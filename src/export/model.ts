import type { ActualState, RefreshMode } from "../model/index.js";

/**
 * The actual FK state as an export: what a person compares against OS2mo (the seed guide's "export and
 * compare" verification). Only fields named here leave stsorg: a CPR number (or its keyed hash) is never
 * among them, whatever the refresh read.
 */

export const EXPORT_FORMAT_VERSION = 1;

/** Between the names of a unit path, root first. */
export const PATH_SEPARATOR = " / ";

export interface ExportedUnit {
  uuid: string;
  name: string;
  /** null for a unit whose parent FK does not name (the municipality's root unit). */
  parentUuid: string | null;
  /** Names from the highest unit FK holds down to this one, joined by PATH_SEPARATOR. */
  path: string;
}

export interface ExportedPosition {
  unitUuid: string;
  /** null when the unit is not among the exported units (a position pointing outside the tree). */
  unitPath: string | null;
  name: string;
}

export interface ExportedUser {
  uuid: string;
  userId: string;
  name: string;
  email: string | null;
  phoneNumber: string | null;
  positions: ExportedPosition[];
}

export interface FkExport {
  formatVersion: typeof EXPORT_FORMAT_VERSION;
  environment: { name: string; cvr: string; adminTopUuid: string };
  /** How FK was read; `observedAt` is null for `none` (the state file as stsorg last recorded it). */
  refresh: { mode: RefreshMode; observedAt: string | null };
  orgUnits: ExportedUnit[];
  users: ExportedUser[];
}

export interface ExportMeta {
  environment: { name: string; cvr: string; adminTopUuid: string };
}

/** Code-unit order: the same bytes on every machine, whatever its locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the export from a refreshed actual state. Units come in tree order (depth first, siblings by
 * name then uuid); users by user id then uuid; positions by unit path, name, unit uuid.
 */
export function buildExport(actual: ActualState, meta: ExportMeta): FkExport {
  const units = new Map<string, { name: string; parent: string | null }>();
  for (const [uuid, o] of actual.orgUnits) {
    units.set(uuid, { name: o.value.Name, parent: o.value.ParentOrgUnitUuid ?? null });
  }

  const paths = new Map<string, string[]>();
  const pathOf = (uuid: string): string[] => {
    const known = paths.get(uuid);
    if (known) return known;
    // Walk up iteratively; a cycle in FK's parents (which FK should not hold) ends the walk at the repeat.
    const chain: string[] = [];
    const seen = new Set<string>();
    let cur: string | null = uuid;
    while (cur !== null && units.has(cur) && !seen.has(cur) && !paths.has(cur)) {
      seen.add(cur);
      chain.push(cur);
      cur = units.get(cur)!.parent;
    }
    let prefix: string[] = cur !== null && paths.has(cur) ? paths.get(cur)! : [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const id = chain[i]!;
      prefix = [...prefix, units.get(id)!.name];
      paths.set(id, prefix);
    }
    return paths.get(uuid)!;
  };

  // Children by parent; a unit whose parent is absent from FK (or itself) is a root of the listing.
  const children = new Map<string | null, string[]>();
  for (const [uuid, u] of units) {
    const parent = u.parent !== null && units.has(u.parent) && u.parent !== uuid ? u.parent : null;
    const list = children.get(parent) ?? [];
    list.push(uuid);
    children.set(parent, list);
  }
  const bySibling = (a: string, b: string) => cmp(units.get(a)!.name, units.get(b)!.name) || cmp(a, b);
  const ordered: string[] = [];
  const visited = new Set<string>();
  const stack = [...(children.get(null) ?? [])].sort(bySibling).reverse();
  while (stack.length > 0) {
    const uuid = stack.pop()!;
    if (visited.has(uuid)) continue;
    visited.add(uuid);
    ordered.push(uuid);
    const kids = [...(children.get(uuid) ?? [])].sort(bySibling);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  // Units on a parent cycle are reachable from no root; list them after the tree, by path then uuid.
  // Where a walk around a cycle starts decides the paths, so start them in uuid order.
  const rest = [...units.keys()].filter((u) => !visited.has(u)).sort(cmp);
  for (const uuid of rest) pathOf(uuid);
  rest.sort((a, b) => cmp(pathOf(a).join(PATH_SEPARATOR), pathOf(b).join(PATH_SEPARATOR)) || cmp(a, b));
  ordered.push(...rest);

  const orgUnits: ExportedUnit[] = ordered.map((uuid) => {
    const u = units.get(uuid)!;
    return { uuid, name: u.name, parentUuid: u.parent, path: pathOf(uuid).join(PATH_SEPARATOR) };
  });

  const users: ExportedUser[] = [...actual.users.values()]
    .map(({ value: u }) => ({
      uuid: u.Uuid,
      userId: u.UserId,
      name: u.Person.Name,
      email: u.Email ?? null,
      phoneNumber: u.PhoneNumber ?? null,
      positions: u.Positions.map((p) => ({
        unitUuid: p.OrgUnitUuid,
        unitPath: units.has(p.OrgUnitUuid) ? pathOf(p.OrgUnitUuid).join(PATH_SEPARATOR) : null,
        name: p.Name,
      })).sort((a, b) => cmp(a.unitPath ?? "", b.unitPath ?? "") || cmp(a.name, b.name) || cmp(a.unitUuid, b.unitUuid)),
    }))
    .sort((a, b) => cmp(a.userId, b.userId) || cmp(a.uuid, b.uuid));

  return {
    formatVersion: EXPORT_FORMAT_VERSION,
    environment: { ...meta.environment },
    refresh: { mode: actual.mode, observedAt: actual.observedAt },
    orgUnits,
    users,
  };
}
