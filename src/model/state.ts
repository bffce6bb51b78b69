import type { ObjectKind, OrgUnitRegistration, ResourceAddress, UserRegistration } from "./fk.js";

/**
 * The state file (public format, `schemas/state.schema.json`): what stsorg has written to FK and so
 * owns. Attributes are stored as applied, with `Person.Cpr` only as the keyed hash (`hmac-sha256:<hex>`).
 */

export const STATE_FORMAT_VERSION = 1;

/** Registration as stored in plans and state: identical to the DTO except that a CPR is a keyed hash. */
export type Attributes = OrgUnitRegistration | UserRegistration;

export interface StateResource {
  address: ResourceAddress;
  kind: ObjectKind;
  uuid: string;
  /** Display name: the unit's Name, or the user's person name and UserId. */
  name: string;
  /** Last applied (or adopted) attributes. */
  attributes: Attributes;
  /** sha256 of the canonical JSON of `attributes`. */
  attributes_sha256: string;
  applied_at: string;
  /** True once a read-back saw FK hold `attributes`. */
  confirmed: boolean;
  /** How the object came under management. */
  origin: "created" | "adopted" | "updated";
}

/** A write-ahead record: persisted before a write is sent, cleared after its outcome is recorded. */
export interface PendingWrite {
  id: string;
  address: ResourceAddress;
  action: "create" | "update" | "delete";
  /** Attributes being written (create/update), CPR hashed. */
  attributes?: Attributes;
  attributes_sha256?: string;
  started_at: string;
  /** The plan this write belongs to (its `plan_id`). */
  plan_id: string;
}

export interface StateFile {
  format_version: typeof STATE_FORMAT_VERSION;
  lineage: string;
  serial: number;
  environment: string;
  cvr: string;
  admin_top_uuid: string;
  tool_version: string;
  /** Sorted by address. */
  resources: StateResource[];
  pending: PendingWrite[];
}
