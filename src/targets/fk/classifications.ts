import type { OrgUnitRegistration, UnitType, UserRegistration } from "../../model/index.js";

/**
 * The FK Klassifikation uuids OS2sync writes, so FK's own data can be mapped back to OS2sync's DTO
 * fields (and the sandbox can map the other way). Values from KOMBIT's and OS2sync's published lists.
 */

type UnitAddressField = Extract<
  keyof OrgUnitRegistration,
  | "Post"
  | "PostReturn"
  | "Contact"
  | "Email"
  | "EmailRemarks"
  | "Ean"
  | "Url"
  | "PhoneNumber"
  | "Landline"
  | "LOSShortName"
  | "LOSId"
  | "Location"
  | "PhoneOpenHours"
  | "ContactOpenHours"
  | "DtrId"
  | "FOA"
  | "PNR"
  | "SOR"
>;
type UserAddressField = Extract<keyof UserRegistration, "Email" | "PhoneNumber" | "Landline" | "Location" | "RacfID" | "FMKID">;

/** Address role (Adresse.klassifikation.rolle) → OrgUnitRegistration field. */
export const UNIT_ADDRESS_ROLES: Readonly<Record<string, UnitAddressField>> = {
  "80b610c6-314b-485a-a014-a9a1d7070bc4": "Post",
  "3629ce92-594b-4380-9527-81d6e53edc11": "PostReturn",
  "639a3ed9-86b0-4968-825b-434666cf6220": "Contact",
  "2b670843-ce42-411a-8fb5-311dfdd5caf0": "Email",
  "d4939781-f2c4-401c-8c2f-0d08221127b9": "EmailRemarks",
  "9ccaafe4-c4b2-4d25-942a-2ec5730d4ed8": "Ean",
  "a99c073d-482e-47d3-9275-13c79f453c3a": "Url",
  "8dcfa714-5ed3-4000-b551-2ba520e7d8ad": "PhoneNumber",
  "02826f64-5613-468e-ace5-3f089cb3ed20": "Landline",
  "47a33082-4687-4a68-b82f-5bf6f9d8ee13": "LOSShortName",
  "ee78e99a-6220-48ea-81fe-e4db239ee10a": "LOSId",
  "ec387d90-263c-4cce-8de2-63b407a0daac": "Location",
  "f6fd6117-c718-4254-a6f5-92538ad5a2f4": "PhoneOpenHours",
  "f37e5877-1549-4b5d-a53b-819491f0b933": "ContactOpenHours",
  "81912344-ef86-4cff-a522-a0001607d2ce": "DtrId",
  "0dac99a2-c419-4113-bb1d-757e00669bf2": "FOA",
  "7c6e2a82-ec39-4ec4-a2b7-fdfe667e1d2b": "PNR",
  "b44138cf-72df-45d1-8821-83db39b62093": "SOR",
};

/** Address role → UserRegistration field. */
export const USER_ADDRESS_ROLES: Readonly<Record<string, UserAddressField>> = {
  "5d13e891-162a-456b-abf2-fd9b864df96d": "Email",
  "5ef6be2d-59f4-4652-a680-585929924ba9": "PhoneNumber",
  "47c05422-5379-4c27-9ddf-e02b52b3d961": "Landline",
  "ad04ac80-e24a-45a5-9dd9-8537a916ac74": "Location",
  "519a2d12-d099-434a-a3a2-a7397db7c741": "RacfID",
  "85760831-0671-4127-93f7-0eee227c5ff9": "FMKID",
};

/** OrganisationFunktion types (Medlemskab.funktionsTypeUuid). */
export const FUNCTION_TYPES = {
  /** "Arbejder i": a user's position in a unit. */
  position: "02e61900-33e0-407f-a2a7-22f70221f003",
  manager: "46c73630-f7ad-4000-9624-c06131cde671",
  payoutUnit: "faf29ba2-da6d-49c4-8a2f-0739172f4227",
  contactPlace: "7368482a-177e-4e04-8574-f558e6f1ef45",
} as const;

/** Enhedstype Klassifikation uuids behind OS2sync's `Type`. */
export const UNIT_TYPES: Readonly<Record<UnitType, string>> = {
  DEPARTMENT: "16bf18c3-ed6f-44b0-b7a1-35f94984e519",
  TEAM: "2d9710bf-e9cc-465f-8ec7-46d5f2a64412",
};

/** Brugertype of a robot (Non-Person Entity) user: OS2sync's `IsRobot`. */
export const ROBOT_USER_TYPE = "fb24bae4-beb1-4970-9a94-cf7ce215f63c";

/** Brugertype OS2sync gives every other user ("Intern bruger"). */
export const INTERNAL_USER_TYPE = "fe5bec29-0709-4b45-b935-2748ff554c7a";

export function unitAddressRoleOf(field: UnitAddressField): string {
  return roleOf(UNIT_ADDRESS_ROLES, field);
}

export function userAddressRoleOf(field: UserAddressField): string {
  return roleOf(USER_ADDRESS_ROLES, field);
}

function roleOf<F extends string>(table: Readonly<Record<string, F>>, field: F): string {
  for (const [role, f] of Object.entries(table)) if (f === field) return role;
  throw new Error(`no address role for ${field}`);
}

export type { UnitAddressField, UserAddressField };
