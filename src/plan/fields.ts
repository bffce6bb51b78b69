import type {
  Attributes,
  FieldName,
  ObjectKind,
  OrgUnitRegistration,
  Position,
  UserRegistration,
} from "../model/index.js";
import {
  ORG_UNIT_DIFF_FIELDS,
  ORG_UNIT_LIST_FIELDS,
  USER_DIFF_FIELDS,
  canonicalJson,
  comparePositions,
  hashCpr,
  isHashedCpr,
} from "../model/index.js";

/**
 * Flat access to registration fields as the diff names them (`Person.Name` addresses the nested person),
 * so unmanaged and unobserved lists can name one person field alone.
 */

const PERSON_PREFIX = "Person.";

export function getField(attrs: Attributes, field: FieldName): unknown {
  if (field.startsWith(PERSON_PREFIX)) {
    const person = (attrs as Partial<UserRegistration>).Person as Record<string, unknown> | undefined;
    return person?.[field.slice(PERSON_PREFIX.length)];
  }
  return (attrs as unknown as Record<string, unknown>)[field];
}

/** Sets (or, for undefined, removes) a field on a registration that the caller owns (a copy). */
export function setField(attrs: Attributes, field: FieldName, value: unknown): void {
  const target = attrs as unknown as Record<string, unknown>;
  if (field.startsWith(PERSON_PREFIX)) {
    const person = { ...((target.Person as Record<string, unknown> | undefined) ?? {}) };
    const key = field.slice(PERSON_PREFIX.length);
    if (value === undefined) delete person[key];
    else person[key] = value;
    target.Person = person;
    return;
  }
  if (value === undefined) delete target[field];
  else target[field] = value;
}

export function diffFields(kind: ObjectKind): readonly FieldName[] {
  return kind === "orgunit" ? ORG_UNIT_DIFF_FIELDS : USER_DIFF_FIELDS;
}

/**
 * The fields stsorg compares and writes for a kind: every diff field except the key itself, the
 * policy's unmanaged fields and, when CPR numbers are not synchronised, the CPR.
 */
export function managedFields(kind: ObjectKind, unmanaged: readonly FieldName[], cprSynced: boolean): FieldName[] {
  const skip = new Set<FieldName>(unmanaged);
  skip.add("Uuid");
  if (!cprSynced) skip.add("Person.Cpr");
  return diffFields(kind).filter((f) => !skip.has(f));
}

export function isSensitive(field: FieldName): boolean {
  return field === "Person.Cpr";
}

const SET_FIELDS = new Set<string>(ORG_UNIT_LIST_FIELDS);

/**
 * A value in the form two values are compared in: sets sorted and de-duplicated, positions sorted by
 * (OrgUnitUuid, Name, StartDate, StopDate) and de-duplicated, empty lists as absent.
 */
export function comparable(field: FieldName, value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return undefined;
  if (field === "Positions") {
    const sorted = [...(value as Position[])].sort(comparePositions);
    return sorted.filter((p, i) => i === 0 || comparePositions(sorted[i - 1]!, p) !== 0);
  }
  if (SET_FIELDS.has(field)) return [...new Set(value as string[])].sort();
  return value;
}

export function sameValue(field: FieldName, a: unknown, b: unknown): boolean {
  const ca = comparable(field, a);
  const cb = comparable(field, b);
  if (ca === cb) return true;
  if (ca === undefined || cb === undefined) return false;
  if (typeof ca !== "object" || typeof cb !== "object") return false;
  return canonicalJson(ca) === canonicalJson(cb);
}

/**
 * A registration as it may appear in a plan: a copy with the CPR replaced by its keyed hash, or removed
 * when CPR numbers are not synchronised (then the CPR is no concern of the plan at all). Already hashed
 * values (from state) are kept.
 */
export function toAttributes(kind: ObjectKind, reg: Attributes, cprKey: string | null): Attributes {
  if (kind === "orgunit") return { ...(reg as OrgUnitRegistration) };
  const user = reg as UserRegistration;
  const copy: UserRegistration = { ...user, Positions: [...(user.Positions ?? [])], Person: { ...user.Person } };
  const cpr = copy.Person.Cpr;
  if (cpr !== undefined) {
    if (cprKey === null) delete copy.Person.Cpr;
    else if (!isHashedCpr(cpr)) copy.Person.Cpr = hashCpr(cpr, cprKey);
  }
  return copy;
}

/** Display name: the unit's Name; for a user, the person's name and UserId. */
export function displayName(kind: ObjectKind, attrs: Attributes): string {
  if (kind === "orgunit") return (attrs as OrgUnitRegistration).Name ?? "";
  const user = attrs as UserRegistration;
  const person = user.Person?.Name ?? "";
  return person === "" ? user.UserId : `${person} (${user.UserId})`;
}

/** The unit an object hangs under in the hierarchy: a unit's parent, a user's first position's unit. */
export function parentOf(kind: ObjectKind, attrs: Attributes): string | undefined {
  if (kind === "orgunit") return (attrs as OrgUnitRegistration).ParentOrgUnitUuid;
  return (attrs as UserRegistration).Positions?.[0]?.OrgUnitUuid;
}
