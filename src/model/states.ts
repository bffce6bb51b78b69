import type { FieldName, FkState, ObjectKind, OrgUnitRegistration, UserRegistration } from "./fk.js";

/** The desired FK state computed from OS2mo by the mapping, with the consistency problems it found. */
export interface DesiredState extends FkState {
  issues: ConsistencyIssue[];
}

export interface MoObjectRef {
  kind: "orgunit" | "person" | "engagement" | "ituser" | "manager" | "address";
  uuid: string;
  name?: string;
}

/** A problem in OS2mo's data that stops an object from being written correctly. */
export interface ConsistencyIssue {
  severity: "error" | "warning";
  /** Stable machine-readable code, e.g. `duplicate-user-id`, `unit-without-name`, `cycle`. */
  code: string;
  message: string;
  /** The OS2mo objects to look at. */
  objects: MoObjectRef[];
  /** The FK object(s) affected, if any. */
  fk?: { kind: ObjectKind; uuid: string }[];
  /** What to fix in OS2mo. */
  hint?: string;
}

export type RefreshMode = "full" | "hierarchy" | "none" | "fk";

/** An FK object as refreshed: its content and which fields were actually read from FK. */
export interface Observed<T> {
  value: T;
  /** "all" when every field was read from FK; otherwise the fields read (the rest came from state). */
  observed: "all" | FieldName[];
}

export interface ActualState {
  mode: RefreshMode;
  /** When FK was read (ISO datetime); null for mode `none`. */
  observedAt: string | null;
  orgUnits: Map<string, Observed<OrgUnitRegistration>>;
  users: Map<string, Observed<UserRegistration>>;
}
