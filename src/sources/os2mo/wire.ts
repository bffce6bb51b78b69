import type {
  EngagementExtension,
  MoAddress,
  MoClassRef,
  MoEngagement,
  MoItUser,
  MoKle,
  MoManager,
  MoOrgUnit,
  MoPerson,
  MoValidity,
} from "../../model/index.js";
import { ENGAGEMENT_EXTENSIONS } from "../../model/index.js";
import { dateOf } from "./dates.js";

/** The shapes the query files ask for, and their pure conversion into MoSnapshot objects. */

interface Ref {
  uuid: string;
}
export interface WireClassRef {
  uuid: string;
  current: { user_key: string; name: string; scope: string | null } | null;
}
interface WireValidity {
  from: string;
  to: string | null;
}
export interface WireOrgUnit {
  uuid: string;
  current: {
    name: string;
    user_key: string;
    parent_response: Ref | null;
    unit_type_response: WireClassRef | null;
    unit_level_response: WireClassRef | null;
    unit_hierarchy_response: WireClassRef | null;
    validity: WireValidity;
  } | null;
}
export interface WireEngagement {
  uuid: string;
  validities: ({
    is_primary: boolean;
    person_response: Ref;
    org_unit_response: Ref;
    job_function_response: WireClassRef | null;
    validity: WireValidity;
  } & Partial<Record<EngagementExtension, string | null>>)[];
}
export interface WirePerson {
  uuid: string;
  validities: { name: string; nickname: string | null; cpr_number: string | null }[];
}
export interface WireAddress {
  uuid: string;
  current: {
    name: string | null;
    value: string;
    address_type_response: WireClassRef;
    visibility_response: WireClassRef | null;
    org_unit_response: Ref | null;
    person_response: Ref | null;
    engagement_response: Ref | null;
    ituser_response: Ref | null;
  } | null;
}
export interface WireItUser {
  uuid: string;
  current: {
    user_key: string;
    external_id: string | null;
    itsystem_response: { uuid: string; current: { name: string; user_key: string } | null };
    person_response: Ref | null;
    org_unit_response: Ref | null;
    engagement_response: Ref | null;
  } | null;
}
export interface WireManager {
  uuid: string;
  current: {
    person_response: Ref | null;
    org_unit_response: Ref;
    manager_type_response: WireClassRef | null;
    responsibilities_response: { objects: WireClassRef[] };
  } | null;
}
export interface WireKle {
  uuid: string;
  current: {
    org_unit_response: Ref | null;
    kle_number_response: WireClassRef;
    kle_aspects_response: { objects: WireClassRef[] };
  } | null;
}

/**
 * One object per distinct class (and IT system) for a whole read. Every address, engagement and IT user
 * names its class in full, and JSON.parse gives each mention its own strings: on a large municipality
 * these copies were the largest part of the snapshot. The shared objects are never modified.
 */
const classes = new Map<string, MoClassRef>();
const itSystems = new Map<string, MoItUser["itsystem"]>();

/** Forgets the shared classes (at the end of a read), so a long-lived process does not keep them. */
export function forgetSharedRefs(): void {
  classes.clear();
  itSystems.clear();
}

/** A class OS2mo no longer has as current keeps its uuid; its texts are then empty. */
export function classRef(c: WireClassRef): MoClassRef {
  const user_key = c.current?.user_key ?? "";
  const name = c.current?.name ?? "";
  const scope = c.current?.scope ?? null;
  const key = `${c.uuid}\u0000${user_key}\u0000${name}\u0000${scope ?? "\u0001"}`;
  let ref = classes.get(key);
  if (!ref) classes.set(key, (ref = { uuid: c.uuid, user_key, name, scope }));
  return ref;
}

function itSystemRef(sys: NonNullable<WireItUser["current"]>["itsystem_response"]): MoItUser["itsystem"] {
  const name = sys.current?.name ?? "";
  const user_key = sys.current?.user_key ?? "";
  const key = `${sys.uuid}\u0000${user_key}\u0000${name}`;
  let ref = itSystems.get(key);
  if (!ref) itSystems.set(key, (ref = { uuid: sys.uuid, name, user_key }));
  return ref;
}
const optClass = (c: WireClassRef | null | undefined): MoClassRef | null => (c ? classRef(c) : null);
const uuidOf = (r: Ref | null | undefined): string | null => r?.uuid ?? null;

function validity(v: WireValidity): MoValidity {
  return { from: dateOf(v.from), to: v.to === null ? null : dateOf(v.to) };
}

export function orgUnit(w: WireOrgUnit): MoOrgUnit | undefined {
  const c = w.current;
  if (!c) return undefined;
  return {
    uuid: w.uuid,
    name: c.name,
    user_key: c.user_key,
    parent: uuidOf(c.parent_response),
    unit_type: optClass(c.unit_type_response),
    org_unit_level: optClass(c.unit_level_response),
    org_unit_hierarchy_model: optClass(c.unit_hierarchy_response),
    validity: validity(c.validity),
  };
}

/** The engagement as it is today, or, for one that starts later, as it starts. */
export function engagement(w: WireEngagement): MoEngagement | undefined {
  const first = [...w.validities].sort((a, b) => (dateOf(a.validity.from) < dateOf(b.validity.from) ? -1 : 1))[0];
  if (!first) return undefined;
  const extensions: MoEngagement["extensions"] = {};
  for (const k of ENGAGEMENT_EXTENSIONS) {
    const v = first[k];
    if (v !== undefined && v !== null) extensions[k] = v;
  }
  return {
    uuid: w.uuid,
    person: first.person_response.uuid,
    org_unit: first.org_unit_response.uuid,
    // A job function class that is not current gives the position no name source at all.
    job_function: first.job_function_response?.current ? classRef(first.job_function_response) : null,
    extensions,
    is_primary: first.is_primary,
    validity: validity(first.validity),
  };
}

export function person(w: WirePerson): MoPerson | undefined {
  const v = w.validities[0];
  if (!v) return undefined;
  return { uuid: w.uuid, name: v.name, nickname: v.nickname ?? "", cpr_number: v.cpr_number ?? null };
}

export function address(w: WireAddress): MoAddress | undefined {
  const c = w.current;
  if (!c) return undefined;
  return {
    uuid: w.uuid,
    address_type: classRef(c.address_type_response),
    visibility: optClass(c.visibility_response),
    name: c.name,
    value: c.value,
    org_unit: uuidOf(c.org_unit_response),
    person: uuidOf(c.person_response),
    engagement: uuidOf(c.engagement_response),
    ituser: uuidOf(c.ituser_response),
  };
}

export function itUser(w: WireItUser): MoItUser | undefined {
  const c = w.current;
  if (!c) return undefined;
  const sys = c.itsystem_response;
  return {
    uuid: w.uuid,
    user_key: c.user_key,
    external_id: c.external_id,
    itsystem: itSystemRef(sys),
    person: uuidOf(c.person_response),
    org_unit: uuidOf(c.org_unit_response),
    engagement: uuidOf(c.engagement_response),
  };
}

const byUuid = (a: { uuid: string }, b: { uuid: string }) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

export function manager(w: WireManager): MoManager | undefined {
  const c = w.current;
  if (!c) return undefined;
  return {
    uuid: w.uuid,
    person: uuidOf(c.person_response),
    org_unit: c.org_unit_response.uuid,
    manager_type: optClass(c.manager_type_response),
    responsibilities: c.responsibilities_response.objects.map(classRef).sort(byUuid),
  };
}

export function kle(w: WireKle): MoKle | undefined {
  const c = w.current;
  if (!c?.org_unit_response) return undefined;
  return {
    uuid: w.uuid,
    org_unit: c.org_unit_response.uuid,
    kle_number: classRef(c.kle_number_response),
    kle_aspects: c.kle_aspects_response.objects.map(classRef).sort(byUuid),
  };
}
