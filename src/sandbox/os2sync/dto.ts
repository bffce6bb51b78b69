import { ORG_UNIT_FIELDS, ORG_UNIT_LIST_FIELDS, USER_FIELDS } from "../../model/index.js";
import type { OrgUnitRegistration, UserRegistration } from "../../model/index.js";

/**
 * OS2sync's DTOs as its JSON layer (Newtonsoft, default resolver) reads and writes them: PascalCase
 * names, property names bound case-insensitively on input, every property written on output with
 * `null` for absent values, lists as `[]`, enums as numbers.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

const POSITION_FIELDS = ["Name", "OrgUnitUuid", "StartDate", "StopDate"] as const;
const PERSON_FIELDS = ["Name", "Cpr", "Uuid"] as const;

/** User `Status` as OS2sync's enum numbers it. */
export const USER_STATUS = { UNKNOWN: 0, ACTIVE: 1, INACTIVE: 2 } as const;

function pick(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function scalar(v: unknown): Json {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return String(v);
}

function str(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === "string" ? v : String(v);
}

function list(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(scalar) : [];
}

/** Binds a request body to OrgUnitRegistration the way model binding does. */
export function bindOrgUnit(body: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const f of ORG_UNIT_FIELDS) {
    const v = pick(body, f);
    out[f] = (ORG_UNIT_LIST_FIELDS as readonly string[]).includes(f) ? list(v) : scalar(v);
  }
  return out;
}

export function bindUser(body: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const f of USER_FIELDS) {
    const v = pick(body, f);
    if (f === "Positions") {
      out[f] = Array.isArray(v)
        ? v.map((p) => {
            const o = asObject(p) ?? {};
            const pos: JsonObject = {};
            for (const pf of POSITION_FIELDS) pos[pf] = str(pick(o, pf));
            return pos;
          })
        : null;
    } else if (f === "Person") {
      const o = asObject(v);
      if (!o) out[f] = null;
      else {
        const person: JsonObject = {};
        for (const pf of PERSON_FIELDS) person[pf] = str(pick(o, pf));
        out[f] = person;
      }
    } else if (f === "IsRobot") {
      out[f] = pick(body, f) === true;
    } else {
      out[f] = scalar(v);
    }
  }
  return out;
}

function empty(v: Json | undefined): boolean {
  return v === undefined || v === null || v === "";
}

/** OS2sync's controller validation, with its exact messages; undefined when valid. */
export function validateOrgUnit(ou: JsonObject): string | undefined {
  if (empty(ou.Name)) return "name is null";
  if (empty(ou.Uuid)) return "uuid is null";
  return undefined;
}

export function validateUser(user: JsonObject): string | undefined {
  const person = user.Person as JsonObject | null;
  if (!person || empty(person.Name)) return "Person.Name is null or empty";
  if (empty(user.UserId)) return "UserId is null or empty";
  if (empty(user.Uuid)) return "Uuid is null empty";
  const positions = user.Positions as JsonObject[] | null;
  if (!positions || positions.length === 0) return "Positions is null or empty";
  for (const p of positions) {
    if (empty(p.Name) || empty(p.OrgUnitUuid)) return "Position Name or OrgUnitUUID is null";
  }
  return undefined;
}

/**
 * What the queue table's column widths refuse at save time (MySQL's message). The CPR column holds 10
 * characters and OS2sync strips the dash only later, so `ddmmyy-xxxx` fails here.
 */
export function columnOverflow(kind: "orgunit" | "user", dto: JsonObject): string | undefined {
  const shortKey = dto.ShortKey;
  if (typeof shortKey === "string" && shortKey.length > 50) return "Data too long for column 'shortkey'";
  if (kind === "user") {
    const cpr = (dto.Person as JsonObject | null)?.Cpr;
    if (typeof cpr === "string" && cpr.length > 10) return "Data too long for column 'cpr'";
  }
  return undefined;
}

/** GET /api/orgUnit/{uuid}: the stored registration with every property, plus FK's timestamp. */
export function orgUnitResponse(reg: OrgUnitRegistration, timestamp: string): JsonObject {
  const out = bindOrgUnit(reg as unknown as Record<string, unknown>);
  out.Timestamp = timestamp;
  return out;
}

export function userResponse(reg: UserRegistration, timestamp: string, status: number): JsonObject {
  const out = bindUser(reg as unknown as Record<string, unknown>);
  if (out.Positions === null) out.Positions = [];
  out.Status = status;
  out.Timestamp = timestamp;
  return out;
}
