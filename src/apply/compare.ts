import {
  hashCpr,
  isHashedCpr,
  normaliseCpr,
  normaliseOrgUnit,
  normaliseUser,
  type Attributes,
  type FieldName,
  type ObjectKind,
  type UserRegistration,
} from "../model/index.js";

export interface CompareOptions {
  /** Fields stsorg does not manage (FK's value is kept): never compared. */
  unmanagedFields?: readonly FieldName[];
  /** Hash key to compare a CPR that FK returns in clear with the hash in state. */
  cprHashKey?: string;
  /**
   * A CPR that FK does not return differs from an expected one. Off when confirming stsorg's own writes
   * (OS2sync may not return it); on for an adoption, which would otherwise record a CPR FK never got.
   */
  cprRequired?: boolean;
}

/**
 * The managed fields where FK's content (`actual`) differs from what was written (`expected`), both
 * normalised alike. A CPR is compared only when FK returns one (OS2sync may not) and it can be hashed.
 */
export function differingFields(kind: ObjectKind, expected: Attributes, actual: Attributes, opts: CompareOptions = {}): string[] {
  const unmanaged = new Set<string>(opts.unmanagedFields ?? []);
  const diffs: string[] = [];
  if (kind === "orgunit") {
    const a = normaliseOrgUnit(expected as unknown as Record<string, unknown>) as unknown as Record<string, unknown>;
    const b = normaliseOrgUnit(actual as unknown as Record<string, unknown>) as unknown as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (unmanaged.has(key)) continue;
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) diffs.push(key);
    }
    return diffs.sort();
  }
  const exp = expected as UserRegistration;
  const act = actual as UserRegistration;
  // Hashes would be mangled by CPR normalisation: compare them apart.
  const a = normaliseUser(withoutCpr(exp) as unknown as Record<string, unknown>) as unknown as Record<string, unknown>;
  const b = normaliseUser(withoutCpr(act) as unknown as Record<string, unknown>) as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === "Person") continue;
    if (unmanaged.has(key)) continue;
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) diffs.push(key);
  }
  const pa = a.Person as Record<string, unknown>;
  const pb = b.Person as Record<string, unknown>;
  for (const key of ["Name", "Uuid"]) {
    if (unmanaged.has(`Person.${key}`)) continue;
    if (pa[key] !== pb[key]) diffs.push(`Person.${key}`);
  }
  if (!unmanaged.has("Person.Cpr") && !cprMatches(exp.Person?.Cpr, act.Person?.Cpr, opts.cprHashKey, opts.cprRequired === true)) diffs.push("Person.Cpr");
  return diffs.sort();
}

export function attributesMatch(kind: ObjectKind, expected: Attributes, actual: Attributes, opts: CompareOptions = {}): boolean {
  return differingFields(kind, expected, actual, opts).length === 0;
}

function withoutCpr(u: UserRegistration): UserRegistration {
  const { Cpr: _cpr, ...person } = u.Person ?? { Name: "" };
  return { ...u, Person: person };
}

function cprMatches(expected: string | undefined, actual: string | undefined, key: string | undefined, required: boolean): boolean {
  if (actual === undefined || actual === null || actual === "") return !required || expected === undefined;
  if (expected === undefined) return false;
  if (isHashedCpr(actual)) return actual === expected;
  if (!isHashedCpr(expected)) return normaliseCpr(expected) === normaliseCpr(actual);
  if (key === undefined) return true;
  const clear = normaliseCpr(actual);
  return clear !== undefined && hashCpr(clear, key) === expected;
}

/** Display name as state and plans use it: a unit's Name; a user's person name and UserId. */
export function displayName(kind: ObjectKind, attrs: Attributes): string {
  if (kind === "orgunit") return (attrs as { Name: string }).Name;
  const u = attrs as UserRegistration;
  return `${u.Person?.Name ?? ""} (${u.UserId})`;
}
