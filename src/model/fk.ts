/**
 * FK objects in OS2sync's REST DTO shapes (PascalCase, as OS2sync's Newtonsoft serialiser writes them).
 * Absent fields are omitted (never null) after normalisation, so two registrations with the same content
 * are deep-equal. `Timestamp` and `Status` exist on GET only and are dropped by normalisation.
 */

export type UnitType = "DEPARTMENT" | "TEAM";

export interface OrgUnitRegistration {
  Uuid: string;
  Name: string;
  ShortKey?: string;
  ParentOrgUnitUuid?: string;
  PayoutUnitUuid?: string;
  ManagerUuid?: string;
  Type?: UnitType;
  PhoneNumber?: string;
  Email?: string;
  Location?: string;
  LOSShortName?: string;
  LOSId?: string;
  ContactOpenHours?: string;
  DtrId?: string;
  EmailRemarks?: string;
  Contact?: string;
  PostReturn?: string;
  PhoneOpenHours?: string;
  Ean?: string;
  Url?: string;
  Landline?: string;
  Post?: string;
  PostSecondary?: string;
  FOA?: string;
  PNR?: string;
  SOR?: string;
  /** Sets of uuids: sorted, duplicates removed. */
  Tasks?: string[];
  ItSystems?: string[];
  ContactForTasks?: string[];
  ContactPlaces?: string[];
}

export interface Position {
  Name: string;
  OrgUnitUuid: string;
  /** yyyy-MM-dd */
  StartDate?: string;
  /** yyyy-MM-dd */
  StopDate?: string;
}

export interface PersonRegistration {
  Name: string;
  /** 10 digits. In memory only: plans and state hold a keyed hash instead (see model/plan.ts). */
  Cpr?: string;
  Uuid?: string;
}

export interface UserRegistration {
  Uuid: string;
  UserId: string;
  ShortKey?: string;
  PhoneNumber?: string;
  Landline?: string;
  Email?: string;
  RacfID?: string;
  Location?: string;
  FMKID?: string;
  IsRobot?: boolean;
  /** Sorted by (OrgUnitUuid, Name, StartDate, StopDate). */
  Positions: Position[];
  Person: PersonRegistration;
}

export type ObjectKind = "orgunit" | "user";

/** A resource address, as in Terraform: `orgunit/<uuid>` or `user/<uuid>`. */
export type ResourceAddress = `${ObjectKind}/${string}`;

export function addressOf(kind: ObjectKind, uuid: string): ResourceAddress {
  return `${kind}/${uuid}`;
}

export function parseAddress(address: string): { kind: ObjectKind; uuid: string } | undefined {
  const m = /^(orgunit|user)\/([0-9a-fA-F-]{36})$/.exec(address);
  if (!m) return undefined;
  return { kind: m[1] as ObjectKind, uuid: m[2]!.toLowerCase() };
}

/** Every OrgUnitRegistration field, in OS2sync's order. The `-?: true` map keeps this list complete. */
const ORG_UNIT_KEYS: { [K in keyof OrgUnitRegistration]-?: true } = {
  Uuid: true, ShortKey: true, Name: true, ParentOrgUnitUuid: true, PayoutUnitUuid: true, ManagerUuid: true,
  Type: true, PhoneNumber: true, Email: true, Location: true, LOSShortName: true, LOSId: true,
  ContactOpenHours: true, DtrId: true, EmailRemarks: true, Contact: true, PostReturn: true, PhoneOpenHours: true,
  Ean: true, Url: true, Landline: true, Post: true, PostSecondary: true, FOA: true, PNR: true, SOR: true,
  Tasks: true, ItSystems: true, ContactForTasks: true, ContactPlaces: true,
};
export const ORG_UNIT_FIELDS = Object.keys(ORG_UNIT_KEYS) as (keyof OrgUnitRegistration)[];

const USER_KEYS: { [K in keyof UserRegistration]-?: true } = {
  Uuid: true, ShortKey: true, UserId: true, PhoneNumber: true, Landline: true, Email: true, RacfID: true,
  Location: true, FMKID: true, IsRobot: true, Positions: true, Person: true,
};
export const USER_FIELDS = Object.keys(USER_KEYS) as (keyof UserRegistration)[];

export const ORG_UNIT_LIST_FIELDS = ["Tasks", "ItSystems", "ContactForTasks", "ContactPlaces"] as const;

/**
 * Field names used in diffs, `unmanagedFields` and "observed" lists. Person sub-fields are addressed as
 * `Person.Name`, `Person.Cpr`, `Person.Uuid` so that one of them can be unmanaged or unobserved alone.
 */
export type OrgUnitField = keyof OrgUnitRegistration;
export type UserField = Exclude<keyof UserRegistration, "Person"> | "Person.Name" | "Person.Cpr" | "Person.Uuid";
export type FieldName = OrgUnitField | UserField;

export const USER_DIFF_FIELDS: UserField[] = [
  "Uuid", "ShortKey", "UserId", "PhoneNumber", "Landline", "Email", "RacfID", "Location", "FMKID", "IsRobot",
  "Positions", "Person.Name", "Person.Cpr", "Person.Uuid",
];
export const ORG_UNIT_DIFF_FIELDS: OrgUnitField[] = ORG_UNIT_FIELDS;

/** The desired or actual content of FK, keyed by FK uuid (lower case). */
export interface FkState {
  orgUnits: Map<string, OrgUnitRegistration>;
  users: Map<string, UserRegistration>;
}
