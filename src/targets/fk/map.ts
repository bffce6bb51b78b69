import {
  copenhagenDate,
  normaliseOrgUnit,
  normaliseUser,
  type OrgUnitRegistration,
  type Position,
  type UserRegistration,
} from "../../model/index.js";
import { FUNCTION_TYPES, ROBOT_USER_TYPE, UNIT_ADDRESS_ROLES, USER_ADDRESS_ROLES } from "./classifications.js";

/**
 * FK's GraphQL objects → OS2sync's registration DTOs, normalised as every other source is, so that a
 * unit or user read here compares equal to the same object read through OS2sync. Pure.
 *
 * Where OS2sync's fields live in FK:
 * - addresses: `adresser`, by the role uuid in `klassifikation.rolle` (classifications.ts); FK may
 *   hold several addresses with one role: the first one counts, as OS2sync reads it;
 * - `Tasks`: `opgaver`; `ItSystems`: `itSystemer`;
 * - `ManagerUuid`: the user of the unit's membership with the manager function type;
 * - `ContactPlaces`: the units named by the unit's `henvendelsessteder`; `ContactForTasks`: the tasks of
 *   the unit's henvendelsessteder that name the unit itself;
 * - `Positions`: the user's memberships with the "Arbejder i" function type: title, unit, start, end;
 * - `IsRobot`: the Non-Person Entity user type.
 */

type Node = Record<string, unknown>;

function obj(v: unknown): Node | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Node) : undefined;
}

function arr(v: unknown): Node[] {
  return Array.isArray(v) ? v.map(obj).filter((x): x is Node => x !== undefined) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function uuidOf(v: unknown): string | undefined {
  const u = str(obj(v)?.uuid);
  return u === undefined ? undefined : u.toLowerCase();
}

function addressFields<F extends string>(node: Node, roles: Readonly<Record<string, F>>): Partial<Record<F, string>> {
  const out: Partial<Record<F, string>> = {};
  for (const a of arr(node.adresser)) {
    const role = str(obj(a.klassifikation)?.rolle)?.toLowerCase();
    const field = role === undefined ? undefined : roles[role];
    const text = str(a.adresseTekst);
    if (field === undefined || text === undefined || text.trim() === "") continue;
    if (out[field] === undefined) out[field] = text;
  }
  return out;
}

export function orgUnitFromFk(node: Node): OrgUnitRegistration {
  const uuid = str(node.uuid)?.toLowerCase() ?? "";
  const raw: Record<string, unknown> = {
    Uuid: uuid,
    Name: node.enhedsnavn,
    ShortKey: node.brugervendtNoegle,
    ParentOrgUnitUuid: uuidOf(node.overordnetEnhed),
    ...addressFields(node, UNIT_ADDRESS_ROLES),
    Tasks: arr(node.opgaver).map((o) => o.uuid),
    ItSystems: arr(node.itSystemer).map((o) => o.uuid),
  };
  const managers = arr(node.medlemskaber)
    .filter((m) => str(m.funktionsTypeUuid)?.toLowerCase() === FUNCTION_TYPES.manager)
    .map((m) => uuidOf(m.bruger))
    .filter((u): u is string => u !== undefined)
    .sort();
  // OS2sync has room for one manager; FK normally holds one. The lowest uuid keeps the choice stable.
  if (managers.length > 0) raw.ManagerUuid = managers[0];
  const places: string[] = [];
  const contactFor: string[] = [];
  for (const h of arr(node.henvendelsessteder)) {
    const place = uuidOf(h.henvendelsesOrganisationEnhed);
    if (place === undefined) continue;
    if (place === uuid) {
      const task = uuidOf(h.opgave);
      if (task !== undefined) contactFor.push(task);
    } else {
      places.push(place);
    }
  }
  raw.ContactPlaces = places;
  raw.ContactForTasks = contactFor;
  return normaliseOrgUnit(raw);
}

export interface UserFromFk {
  user: UserRegistration;
  /** FK withheld the person's name (the agreement lacks SeNavn): Person.Name was not read. */
  nameWithheld: boolean;
  /** The CPR was asked for and FK gave none. */
  cprMissing: boolean;
}

export function userFromFk(node: Node, opts: { withCpr: boolean }): UserFromFk {
  const person = obj(node.person);
  const positions: Position[] = [];
  for (const m of arr(node.harMedlemskab)) {
    if (str(m.funktionsTypeUuid)?.toLowerCase() !== FUNCTION_TYPES.position) continue;
    const unit = uuidOf(m.medlemAf);
    const name = str(m.medlemskabRolleTitel);
    if (unit === undefined || name === undefined) continue;
    const p: Position = { Name: name, OrgUnitUuid: unit };
    const start = fkDate(m.start);
    const stop = fkDate(m.slut);
    if (start !== undefined) p.StartDate = start;
    if (stop !== undefined) p.StopDate = stop;
    positions.push(p);
  }
  const raw: Record<string, unknown> = {
    Uuid: node.uuid,
    UserId: node.brugernavn,
    ShortKey: node.brugervendtNoegle,
    ...addressFields(node, USER_ADDRESS_ROLES),
    IsRobot: str(node.brugerTypeUuid)?.toLowerCase() === ROBOT_USER_TYPE,
    Positions: positions,
    Person: {
      Name: person?.navn,
      ...(opts.withCpr ? { Cpr: person?.cpr } : {}),
    },
  };
  const nameWithheld = person === undefined || person.navn === null || person.navn === undefined;
  const cprMissing = opts.withCpr && (person?.cpr === null || person?.cpr === undefined);
  return { user: normaliseUser(raw), nameWithheld, cprMissing };
}

/**
 * FK's DateTime as OS2sync's yyyy-MM-dd. FK keeps days as Danish midnights, which in UTC are the
 * evening before, so a time with a zone is read as a Copenhagen date. FK's open end (year 9999,
 * "infinity") is no date at all.
 */
export function fkDate(v: unknown): string | undefined {
  const s = str(v)?.trim();
  if (s === undefined || s === "" || /^infinity$/i.test(s)) return undefined;
  if (/^9999-/.test(s)) return undefined;
  const hasZone = /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s);
  if (!hasZone) return /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : copenhagenDate(new Date(t));
}
