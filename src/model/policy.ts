import type { FieldName, UnitType } from "./fk.js";

/**
 * The sync policy (`spec.sync` in a manifest): the exporter's settings in camelCase, normalised with
 * every default filled in. Defaults are documented in schemas/environment.schema.json too.
 */
export interface SyncPolicy {
  /** OS2mo uuid of the exported top unit (written to FK as `sts.adminTopUuid`). */
  topUnitUuid: string;
  /** FK uuid of the municipality's root unit in STS Organisation (from `spec.sts.adminTopUuid`). */
  adminTopUuid: string;
  syncCpr: boolean;
  phoneScopeClasses: string[];
  landlineScopeClasses: string[];
  emailScopeClasses: string[];
  ignoredUnitLevels: string[];
  ignoredUnitTypes: string[];
  filterOrgunitUuids: string[];
  filterHierarchyNames: string[];
  filterUsersByItSystem: boolean;
  userKeyItSystemNames: string[];
  uuidFromItSystems: string[];
  useNickname: boolean;
  syncManagers: boolean;
  enableKle: boolean;
  useContactForTasks: boolean;
  employeeEngagementAddress: string[];
  extensionFieldAsJobFunction: "1" | "3" | null;
  truncateLength: number;
  groupByEngagementUuid: boolean;
  unitType: UnitType;
  /** Fields stsorg never diffs or overwrites (FK's value is kept). Applies to whichever object kind has the field. */
  unmanagedFields: FieldName[];
}

export const DEFAULT_UNMANAGED_FIELDS: FieldName[] = [
  "ShortKey",
  "LOSShortName",
  "LOSId",
  "PayoutUnitUuid",
  "SOR",
  "ContactPlaces",
  // FK gives every person a uuid of its own; OS2mo does not supply it and stsorg never writes it.
  "Person.Uuid",
];

/** Defaults for everything but the two uuids, which every manifest must give. */
export const SYNC_POLICY_DEFAULTS: Omit<SyncPolicy, "topUnitUuid" | "adminTopUuid"> = {
  syncCpr: false,
  phoneScopeClasses: [],
  landlineScopeClasses: [],
  emailScopeClasses: [],
  ignoredUnitLevels: [],
  ignoredUnitTypes: [],
  filterOrgunitUuids: [],
  filterHierarchyNames: [],
  filterUsersByItSystem: false,
  userKeyItSystemNames: ["Active Directory"],
  uuidFromItSystems: [],
  useNickname: false,
  syncManagers: false,
  enableKle: true,
  useContactForTasks: false,
  employeeEngagementAddress: [],
  extensionFieldAsJobFunction: null,
  truncateLength: 200,
  groupByEngagementUuid: false,
  unitType: "DEPARTMENT",
  unmanagedFields: DEFAULT_UNMANAGED_FIELDS,
};
