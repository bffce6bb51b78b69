import type { SyncPolicy } from "../model/index.js";

/**
 * The policy in the shape the mapping looks things up in: uuid lists lower-cased into sets or
 * rank maps (list position = priority), IT system name lists into rank maps.
 */
export interface PreparedPolicy {
  policy: SyncPolicy;
  topUnitUuid: string;
  adminTopUuid: string;
  phoneRank: Map<string, number>;
  landlineRank: Map<string, number>;
  emailRank: Map<string, number>;
  ignoredLevels: Set<string>;
  ignoredTypes: Set<string>;
  filterUnits: Set<string>;
  hierarchyNames: Set<string>;
  /** IT system name -> position in `userKeyItSystemNames`. */
  userKeySystemRank: Map<string, number>;
  /** IT system name -> position in `uuidFromItSystems`. */
  uuidSystemRank: Map<string, number>;
  /** Address type name -> position in `employeeEngagementAddress`. */
  workAddressRank: Map<string, number>;
  /** Users are cut to at least 36 characters so a UserId that is a uuid is never cut (as the exporter does). */
  userTruncateLength: number;
}

/**
 * List position by value. Uuid lists are keyed in lower and upper case, so the hot lookups take OS2mo's
 * strings as they are instead of lower-casing (allocating) one string per address.
 */
function rank(list: readonly string[], uuids: boolean): Map<string, number> {
  const m = new Map<string, number>();
  list.forEach((v, i) => {
    const keys = uuids ? [v.trim().toLowerCase(), v.trim().toUpperCase()] : [v.trim()];
    for (const k of keys) if (!m.has(k)) m.set(k, i);
  });
  return m;
}

function uuidSet(list: readonly string[]): Set<string> {
  return new Set(list.flatMap((v) => [v.trim().toLowerCase(), v.trim().toUpperCase()]));
}

export function preparePolicy(policy: SyncPolicy): PreparedPolicy {
  return {
    policy,
    topUnitUuid: policy.topUnitUuid.trim().toLowerCase(),
    adminTopUuid: policy.adminTopUuid.trim().toLowerCase(),
    phoneRank: rank(policy.phoneScopeClasses, true),
    landlineRank: rank(policy.landlineScopeClasses, true),
    emailRank: rank(policy.emailScopeClasses, true),
    ignoredLevels: uuidSet(policy.ignoredUnitLevels),
    ignoredTypes: uuidSet(policy.ignoredUnitTypes),
    filterUnits: uuidSet(policy.filterOrgunitUuids),
    hierarchyNames: new Set(policy.filterHierarchyNames.map((n) => n.trim())),
    userKeySystemRank: rank(policy.userKeyItSystemNames, false),
    uuidSystemRank: rank(policy.uuidFromItSystems, false),
    workAddressRank: rank(policy.employeeEngagementAddress, false),
    userTruncateLength: Math.max(36, policy.truncateLength),
  };
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
