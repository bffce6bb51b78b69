/**
 * MoSnapshot: what the OS2mo reader returns and the mapping consumes. A plain, JSON-serialisable join of
 * OS2mo's collections, as read at one moment. Every array is sorted by `uuid`. References between objects
 * are uuids; the mapping builds its own indexes.
 */

export interface MoClassRef {
  uuid: string;
  user_key: string;
  name: string;
  /** Facet-specific scope, e.g. an address type's EMAIL | PHONE | EAN | DAR | PNUMBER | WWW | TEXT. */
  scope: string | null;
}

export interface MoValidity {
  /** ISO date `yyyy-mm-dd` (OS2mo answers datetimes; the reader keeps the date part). */
  from: string;
  /** ISO date, or null for open-ended. */
  to: string | null;
}

export interface MoOrgUnit {
  uuid: string;
  name: string;
  user_key: string;
  /** Parent unit uuid; null for a top-level unit (in v25 the root organisation is not a unit). */
  parent: string | null;
  unit_type: MoClassRef | null;
  org_unit_level: MoClassRef | null;
  /** `org_unit_hierarchy_model`: which hierarchy the unit belongs to (e.g. "Linjeorganisation"). */
  org_unit_hierarchy_model: MoClassRef | null;
  validity: MoValidity;
}

export interface MoPerson {
  uuid: string;
  name: string;
  /** "" when absent (OS2mo never returns null here). */
  nickname: string;
  /** 10 digits, or null when unknown. Never printed or stored. */
  cpr_number: string | null;
}

export const ENGAGEMENT_EXTENSIONS = [
  "extension_1",
  "extension_2",
  "extension_3",
  "extension_4",
  "extension_5",
  "extension_6",
  "extension_7",
  "extension_8",
  "extension_9",
  "extension_10",
] as const;
export type EngagementExtension = (typeof ENGAGEMENT_EXTENSIONS)[number];

export interface MoEngagement {
  uuid: string;
  person: string;
  org_unit: string;
  job_function: MoClassRef | null;
  extensions: Partial<Record<EngagementExtension, string | null>>;
  is_primary: boolean;
  validity: MoValidity;
}

export interface MoAddress {
  uuid: string;
  address_type: MoClassRef;
  visibility: MoClassRef | null;
  /** Readable value (for DAR: the address text). */
  name: string | null;
  /** Raw value (for DAR: the DAR uuid). */
  value: string;
  org_unit: string | null;
  person: string | null;
  engagement: string | null;
  ituser: string | null;
}

export interface MoItSystemRef {
  uuid: string;
  name: string;
  user_key: string;
}

export interface MoItUser {
  uuid: string;
  user_key: string;
  external_id: string | null;
  itsystem: MoItSystemRef;
  person: string | null;
  org_unit: string | null;
  engagement: string | null;
}

export interface MoManager {
  uuid: string;
  /** null for a vacant manager position. */
  person: string | null;
  org_unit: string;
  manager_type: MoClassRef | null;
  responsibilities: MoClassRef[];
}

export interface MoKle {
  uuid: string;
  org_unit: string;
  kle_number: MoClassRef;
  kle_aspects: MoClassRef[];
}

export interface MoSnapshot {
  /** The OS2mo uuid of the exported top unit (spec.sync.topUnitUuid). */
  topUnitUuid: string;
  /** The date the snapshot describes ("now"), `yyyy-mm-dd`; engagements starting after it are future ones. */
  today: string;
  /** Units under (and including) the top unit, current now. */
  orgUnits: MoOrgUnit[];
  /** Persons with an engagement in one of `orgUnits`. */
  persons: MoPerson[];
  /** Engagements in `orgUnits`, current or starting in the future. */
  engagements: MoEngagement[];
  /** Addresses of `orgUnits` and of `persons` (incl. those tied to their engagements). */
  addresses: MoAddress[];
  /** IT users of `orgUnits` and of `persons`. */
  itUsers: MoItUser[];
  managers: MoManager[];
  kles: MoKle[];
}
