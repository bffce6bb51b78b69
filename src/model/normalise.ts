import type { OrgUnitRegistration, Position, UserRegistration, UnitType } from "./fk.js";
import { ORG_UNIT_FIELDS, ORG_UNIT_LIST_FIELDS } from "./fk.js";

/**
 * One normalisation for every source of FK objects (the mapping, OS2sync GET, the hierarchy job, state,
 * FK's GraphQL), so equal content compares equal: strings trimmed (and cut to `truncateLength` where a
 * limit is given), empty values dropped, uuids lower-cased and never cut, set-like lists sorted and
 * de-duplicated, positions sorted, CPR dashes stripped, `Timestamp`/`Status` dropped.
 */

export interface NormaliseOptions {
  /** Cut free texts to this many characters (uuids are never cut). */
  truncateLength?: number;
}

const UUID_FIELDS_UNIT = new Set(["Uuid", "ParentOrgUnitUuid", "PayoutUnitUuid", "ManagerUuid"]);

export function normaliseText(value: unknown, opts: NormaliseOptions = {}): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value).trim();
  if (s === "") return undefined;
  const max = opts.truncateLength;
  return max !== undefined && max > 0 && s.length > max ? s.slice(0, max).trimEnd() : s;
}

export function normaliseUuid(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value).trim().toLowerCase();
  return s === "" ? undefined : s;
}

function uuidSet(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const set = new Set<string>();
  for (const v of value) {
    const u = normaliseUuid(v);
    if (u !== undefined) set.add(u);
  }
  return set.size === 0 ? undefined : [...set].sort();
}

function normaliseDate(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value).trim();
  if (s === "") return undefined;
  // OS2sync may echo a DateTime; FK dates are days.
  return s.slice(0, 10);
}

/** Strips anything but digits; a CPR is 10 digits. */
export function normaliseCpr(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value).replace(/[^0-9]/g, "");
  return s === "" ? undefined : s;
}

export function comparePositions(a: Position, b: Position): number {
  return (
    cmp(a.OrgUnitUuid, b.OrgUnitUuid) ||
    cmp(a.Name, b.Name) ||
    cmp(a.StartDate ?? "", b.StartDate ?? "") ||
    cmp(a.StopDate ?? "", b.StopDate ?? "")
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function normaliseOrgUnit(input: Record<string, unknown>, opts: NormaliseOptions = {}): OrgUnitRegistration {
  const out: Record<string, unknown> = {};
  for (const key of ORG_UNIT_FIELDS) {
    const v = input[key];
    if ((ORG_UNIT_LIST_FIELDS as readonly string[]).includes(key)) {
      const list = uuidSet(v);
      if (list) out[key] = list;
    } else if (UUID_FIELDS_UNIT.has(key)) {
      const u = normaliseUuid(v);
      if (u !== undefined) out[key] = u;
    } else if (key === "Type") {
      const t = normaliseUnitType(v);
      if (t !== undefined) out[key] = t;
    } else {
      const t = normaliseText(v, key === "Name" ? opts : opts);
      if (t !== undefined) out[key] = t;
    }
  }
  if (out.Name === undefined) out.Name = "";
  if (out.Uuid === undefined) out.Uuid = "";
  return out as unknown as OrgUnitRegistration;
}

/** OS2sync writes the enum as a string; some readers give its number (0 DEPARTMENT, 1 TEAM). */
function normaliseUnitType(v: unknown): UnitType | undefined {
  if (v === 0 || v === "0" || v === "DEPARTMENT") return "DEPARTMENT";
  if (v === 1 || v === "1" || v === "TEAM") return "TEAM";
  return undefined;
}

export function normalisePosition(input: Record<string, unknown>, opts: NormaliseOptions = {}): Position | undefined {
  const name = normaliseText(input.Name, opts);
  const unit = normaliseUuid(input.OrgUnitUuid);
  if (name === undefined || unit === undefined) return undefined;
  const p: Position = { Name: name, OrgUnitUuid: unit };
  const start = normaliseDate(input.StartDate);
  const stop = normaliseDate(input.StopDate);
  if (start !== undefined) p.StartDate = start;
  if (stop !== undefined) p.StopDate = stop;
  return p;
}

export function normaliseUser(input: Record<string, unknown>, opts: NormaliseOptions = {}): UserRegistration {
  const person = (input.Person ?? {}) as Record<string, unknown>;
  const positions: Position[] = [];
  const seen = new Set<string>();
  for (const raw of Array.isArray(input.Positions) ? input.Positions : []) {
    const p = normalisePosition((raw ?? {}) as Record<string, unknown>, opts);
    if (!p) continue;
    const key = JSON.stringify(p);
    if (seen.has(key)) continue;
    seen.add(key);
    positions.push(p);
  }
  positions.sort(comparePositions);
  const out: Record<string, unknown> = {
    Uuid: normaliseUuid(input.Uuid) ?? "",
    UserId: normaliseText(input.UserId, opts) ?? "",
  };
  for (const key of ["ShortKey", "PhoneNumber", "Landline", "Email", "RacfID", "Location", "FMKID"] as const) {
    const t = normaliseText(input[key], opts);
    if (t !== undefined) out[key] = t;
  }
  if (input.IsRobot === true) out.IsRobot = true;
  out.Positions = positions;
  const p: Record<string, unknown> = { Name: normaliseText(person.Name, opts) ?? "" };
  const cpr = normaliseCpr(person.Cpr);
  if (cpr !== undefined) p.Cpr = cpr;
  const pu = normaliseUuid(person.Uuid);
  if (pu !== undefined) p.Uuid = pu;
  out.Person = p;
  return out as unknown as UserRegistration;
}
