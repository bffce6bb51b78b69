import type { ConsistencyIssue, MoItUser, MoOrgUnit, MoSnapshot } from "../model/index.js";
import type { SnapshotIndex } from "./indexes.js";
import { cmpStr, UUID_RE, type PreparedPolicy } from "./prepared.js";
import { unitRef } from "./issues.js";

/**
 * Where each OS2mo unit ends up in FK: whether it is relevant (inside the exported tree and its
 * filters), whether it is written (relevant and not of an ignored level/type), its FK uuid, and the
 * written unit that takes its place for children and positions when it is not written itself.
 */
export interface UnitPlacement {
  /** Relevant units (written or collapsed into an ancestor). */
  relevant: Set<string>;
  /** Relevant units that become FK units. */
  written: Set<string>;
  /** MO uuid -> FK uuid, for written units. */
  fkUuid: Map<string, string>;
  /**
   * MO uuid of a relevant unit -> MO uuid of the written unit standing in for it: itself when written,
   * else its nearest written ancestor.
   */
  standIn: Map<string, string>;
  /** MO uuid of a written unit (not the top) -> MO uuid of its nearest written strict ancestor. */
  writtenParent: Map<string, string>;
}

interface Ancestry {
  /** The top unit is the unit itself or one of its ancestors. */
  underTop: boolean;
  /** The unit or an ancestor (up to the top unit) is listed in `filterOrgunitUuids`. */
  filtered: boolean;
}

/** The first account (by system list order, then user_key) in one of the ranked systems. */
export function firstAccount(accounts: readonly MoItUser[] | undefined, systemRank: Map<string, number>): MoItUser | undefined {
  if (!accounts || systemRank.size === 0) return undefined;
  let best: { rank: number; it: MoItUser } | undefined;
  for (const it of accounts) {
    const r = systemRank.get(it.itsystem.name.trim());
    if (r === undefined) continue;
    if (!best || r < best.rank || (r === best.rank && cmpStr(it.user_key, best.it.user_key) < 0)) best = { rank: r, it };
  }
  return best?.it;
}

function isCurrent(u: MoOrgUnit, today: string): boolean {
  return u.validity.from <= today && (u.validity.to === null || u.validity.to >= today);
}

export function placeUnits(
  snapshot: MoSnapshot,
  idx: SnapshotIndex,
  p: PreparedPolicy,
  issues: ConsistencyIssue[],
): UnitPlacement {
  const top = p.topUnitUuid;
  const ancestry = resolveAncestry(snapshot, idx, p, issues);

  const relevant = new Set<string>();
  const written = new Set<string>();
  for (const u of snapshot.orgUnits) {
    if (u.uuid === top) {
      relevant.add(u.uuid);
      // The top unit is FK's administrative root: it is always written, whatever its level or type.
      written.add(u.uuid);
      continue;
    }
    const a = ancestry.get(u.uuid);
    if (!a || !a.underTop || a.filtered || !isCurrent(u, snapshot.today)) continue;
    if (p.hierarchyNames.size > 0) {
      const name = u.org_unit_hierarchy_model?.name?.trim();
      const inHierarchy = name !== undefined && p.hierarchyNames.has(name);
      if (!inHierarchy && !firstAccount(idx.unitItUsers.get(u.uuid), p.uuidSystemRank)) continue;
    }
    relevant.add(u.uuid);
    const ignored =
      (u.org_unit_level !== null && p.ignoredLevels.has(u.org_unit_level.uuid)) ||
      (u.unit_type !== null && p.ignoredTypes.has(u.unit_type.uuid));
    if (!ignored) written.add(u.uuid);
  }

  // Nearest written strict ancestor, memoised; every relevant unit's chain reaches the written top.
  const nearestAbove = new Map<string, string | null>();
  const nearestWrittenAbove = (uuid: string): string | null => {
    const path: string[] = [];
    let cur: string = uuid;
    let found: string | null = null;
    for (;;) {
      const memo = nearestAbove.get(cur);
      if (memo !== undefined) {
        found = memo;
        break;
      }
      path.push(cur);
      if (cur === top) break;
      const parent = idx.units.get(cur)?.parent ?? null;
      if (parent === null || !idx.units.has(parent) || path.length > idx.units.size) break;
      if (written.has(parent)) {
        found = parent;
        break;
      }
      cur = parent;
    }
    for (const u of path) nearestAbove.set(u, found);
    return found;
  };

  const fkUuid = new Map<string, string>();
  const standIn = new Map<string, string>();
  const writtenParent = new Map<string, string>();
  for (const u of snapshot.orgUnits) {
    if (!relevant.has(u.uuid)) continue;
    if (written.has(u.uuid)) {
      standIn.set(u.uuid, u.uuid);
      fkUuid.set(u.uuid, u.uuid === top ? p.adminTopUuid : unitFkUuid(u, idx, p, issues));
      if (u.uuid !== top) {
        const parent = nearestWrittenAbove(u.uuid);
        if (parent !== null) writtenParent.set(u.uuid, parent);
      }
    } else {
      const anc = nearestWrittenAbove(u.uuid);
      if (anc !== null) standIn.set(u.uuid, anc);
    }
  }
  return { relevant, written, fkUuid, standIn, writtenParent };
}

/** FK uuid of a written unit: the user_key of its account in the first listed uuid system, else its MO uuid. */
function unitFkUuid(u: MoOrgUnit, idx: SnapshotIndex, p: PreparedPolicy, issues: ConsistencyIssue[]): string {
  const account = firstAccount(idx.unitItUsers.get(u.uuid), p.uuidSystemRank);
  if (!account) return u.uuid;
  const key = account.user_key.trim();
  if (UUID_RE.test(key)) return key.toLowerCase();
  issues.push({
    severity: "error",
    code: "invalid-uuid-override",
    message: `The ${account.itsystem.name} account "${key}" of unit "${u.name}" (${u.uuid}) is not a uuid; the unit is written under its OS2mo uuid instead.`,
    objects: [unitRef(u), { kind: "ituser", uuid: account.uuid, name: key }],
    fk: [{ kind: "orgunit", uuid: u.uuid }],
    hint: `In OS2mo, set the ${account.itsystem.name} account's user_key to the unit's FK Organisation uuid.`,
  });
  return u.uuid;
}

/**
 * Walks every unit's parent chain once (memoised) to learn whether the top unit is above it and
 * whether a filtered unit is. A chain that loops is reported once and treated as outside the tree.
 */
function resolveAncestry(
  snapshot: MoSnapshot,
  idx: SnapshotIndex,
  p: PreparedPolicy,
  issues: ConsistencyIssue[],
): Map<string, Ancestry> {
  const memo = new Map<string, Ancestry>();
  const outside: Ancestry = { underTop: false, filtered: false };
  for (const start of snapshot.orgUnits) {
    if (memo.has(start.uuid)) continue;
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let base: Ancestry = outside;
    let cur: string | null = start.uuid;
    for (;;) {
      if (cur === null || !idx.units.has(cur)) {
        base = outside;
        break;
      }
      const known = memo.get(cur);
      if (known) {
        base = known;
        break;
      }
      const seenAt = onPath.get(cur);
      if (seenAt !== undefined) {
        const loop = path.slice(seenAt);
        reportCycle(loop, idx, issues);
        for (const u of loop) memo.set(u, outside);
        path.length = seenAt;
        base = outside;
        break;
      }
      if (cur === p.topUnitUuid) {
        base = { underTop: true, filtered: p.filterUnits.has(cur) };
        memo.set(cur, base);
        break;
      }
      onPath.set(cur, path.length);
      path.push(cur);
      cur = idx.units.get(cur)!.parent;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const u = path[i]!;
      base = { underTop: base.underTop, filtered: base.filtered || p.filterUnits.has(u) };
      memo.set(u, base);
    }
  }
  return memo;
}

function reportCycle(loop: string[], idx: SnapshotIndex, issues: ConsistencyIssue[]): void {
  const units = [...loop].sort().map((u) => idx.units.get(u)!);
  issues.push({
    severity: "error",
    code: "cycle",
    message: `OS2mo units form a cycle (each is the parent of the next): ${units.map((u) => `"${u.name}" (${u.uuid})`).join(", ")}. They and everything below them are left out.`,
    objects: units.map(unitRef),
    hint: "Give one of these units a parent outside the cycle in OS2mo.",
  });
}
