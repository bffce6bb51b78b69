import { createHash } from "node:crypto";
import { GraphQLError, responsePathAsArray, type GraphQLResolveInfo } from "graphql";
import type { OrgUnitRegistration, UserRegistration } from "../../model/index.js";
import {
  FUNCTION_TYPES,
  INTERNAL_USER_TYPE,
  ROBOT_USER_TYPE,
  UNIT_ADDRESS_ROLES,
  USER_ADDRESS_ROLES,
} from "../../targets/fk/index.js";
import type { FkRecord, FkStore } from "../fkstore/index.js";

/**
 * The FK store's OS2sync-shaped registrations seen the way FK's GraphQL shows them: addresses as
 * Adresse objects with their Klassifikation role, positions and the manager as memberships with
 * their function type, contact places as henvendelsessteder, the robot flag as a user type, dates as
 * Danish midnights. Fields FK's schema has no place for (unit type, payout unit, secondary postal
 * address) are simply not shown. Objects are plain values with functions where a field takes
 * arguments or walks to another object; graphql-js calls those with the field's arguments.
 */

/** Relation type FK files a unit's addresses under (from KOMBIT's schema documentation). */
const ADDRESS_RELATION_TYPE = "9b33c0a0-a566-4ec0-8200-325cb1e5bb9a";
const FUNCTION_TITLES: Record<string, string> = {
  [FUNCTION_TYPES.position]: "Arbejder i",
  [FUNCTION_TYPES.manager]: "Lederrolle",
};

export interface Agreement {
  /** The agreement grants SeNavn: person names are shown. */
  seNavn: boolean;
  /** The agreement grants SeCPR-nummer: CPR numbers are shown. */
  seCpr: boolean;
}

export interface RequestContext {
  cvr: string;
  agreement: Agreement;
  view: FkView;
  /** WARNING entries collected while resolving, added to the answer's `errors`. */
  warnings: Record<string, unknown>[];
  maxItemsPerPage?: number;
}

export interface FkView {
  units: Map<string, FkRecord<OrgUnitRegistration>>;
  users: Map<string, FkRecord<UserRegistration>>;
  /** Sorted uuids per status. */
  unitList: { AKTIV: string[]; INAKTIV: string[] };
  userList: { AKTIV: string[]; INAKTIV: string[] };
  children: Map<string, string[]>;
  /** Positions held in a unit: (user uuid, index in the user's Positions). */
  positionsIn: Map<string, { user: string; index: number }[]>;
  managerOf: Map<string, string[]>;
}

const views = new WeakMap<FkStore, { version: number; view: FkView }>();

/** The store as FK shows it, rebuilt only when the store changed. */
export function viewOf(store: FkStore): FkView {
  const cached = views.get(store);
  if (cached && cached.version === store.version) return cached.view;
  const view = buildView(store);
  views.set(store, { version: store.version, view });
  return view;
}

function buildView(store: FkStore): FkView {
  const units = new Map(store.allRecords("orgunit").map((r) => [r.uuid, r]));
  const users = new Map(store.allRecords("user").map((r) => [r.uuid, r]));
  const split = <T>(m: Map<string, FkRecord<T>>) => ({
    AKTIV: [...m.values()].filter((r) => r.lifecycle === "active").map((r) => r.uuid),
    INAKTIV: [...m.values()].filter((r) => r.lifecycle !== "active").map((r) => r.uuid),
  });
  const children = new Map<string, string[]>();
  const managerOf = new Map<string, string[]>();
  for (const r of units.values()) {
    if (r.lifecycle !== "active") continue;
    const parent = r.registration.ParentOrgUnitUuid;
    if (parent !== undefined) push(children, parent, r.uuid);
    const manager = r.registration.ManagerUuid;
    if (manager !== undefined) push(managerOf, manager, r.uuid);
  }
  const positionsIn = new Map<string, { user: string; index: number }[]>();
  for (const r of users.values()) {
    if (r.lifecycle !== "active") continue;
    r.registration.Positions.forEach((p, index) => push(positionsIn, p.OrgUnitUuid, { user: r.uuid, index }));
  }
  return { units, users, unitList: split(units), userList: split(users), children, positionsIn, managerOf };
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** A stable uuid for objects FK has and the store does not model (addresses, memberships, persons). */
export function derivedUuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const OFFSET = new Intl.DateTimeFormat("en", { timeZone: "Europe/Copenhagen", timeZoneName: "longOffset" });

/** A day as FK stores it: Danish midnight, with the offset of that day. */
export function danishMidnight(day: string | undefined): string | null {
  if (day === undefined) return null;
  const [y, m, d] = day.split("-").map(Number);
  // The offset in force at the start of the day: at 00:00 UTC no Danish clock change has happened yet.
  const early = new Date(Date.UTC(y!, m! - 1, d!));
  const name = OFFSET.formatToParts(early).find((p) => p.type === "timeZoneName")?.value ?? "GMT+01:00";
  const offset = name === "GMT" ? "+00:00" : name.replace("GMT", "");
  return `${day}T00:00:00${offset}`;
}

function roleFilter(args: { rolle?: string[] | null }): ((role: string) => boolean) {
  const wanted = args.rolle ? new Set(args.rolle.map((r) => r.toLowerCase())) : undefined;
  return (role) => wanted === undefined || wanted.has(role);
}

function addresses<F extends string>(owner: string, reg: Record<string, unknown>, roles: Readonly<Record<string, F>>, args: { rolle?: string[] | null }) {
  const keep = roleFilter(args);
  const out: Record<string, unknown>[] = [];
  for (const [role, field] of Object.entries(roles)) {
    const text = reg[field];
    if (typeof text !== "string" || !keep(role)) continue;
    out.push({
      uuid: derivedUuid(owner, "adresse", role),
      adresseTekst: text,
      brugervendtNoegle: null,
      adresseRolleTitel: field,
      klassifikation: { type: ADDRESS_RELATION_TYPE, rolle: role, indeks: derivedUuid(owner, "indeks", role) },
    });
  }
  return out;
}

function tilstand(r: FkRecord<unknown>) {
  return { status: r.lifecycle === "active" ? "AKTIV" : "INAKTIV", fraTidspunkt: r.timestamp, tilTidspunkt: null };
}

/**
 * An object FK's relations name but the store does not hold (a dangling parent): shown with its uuid
 * only, so a relation written through OS2sync reads back as written.
 */
function unknownUnit(uuid: string) {
  return {
    uuid,
    enhedsnavn: "",
    brugervendtNoegle: null,
    underliggendeEnheder: [],
    overordnetEnhed: null,
    tilstand: { status: "INAKTIV", fraTidspunkt: null, tilTidspunkt: null },
    adresser: [],
    opgaver: [],
    itSystemer: [],
    medlemskaber: [],
    henvendelsessteder: [],
  };
}

/** A user FK's relations name but the store does not hold (a manager without an account): its uuid only. */
function unknownUser(uuid: string) {
  return {
    uuid,
    brugernavn: "",
    brugervendtNoegle: null,
    brugerTypeUuid: null,
    brugerTypeTitel: null,
    tilstand: { status: "INAKTIV", fraTidspunkt: null, tilTidspunkt: null },
    person: null,
    adresser: [],
    harMedlemskab: [],
  };
}

export function unitNode(uuid: string, ctx: RequestContext): Record<string, unknown> {
  const r = ctx.view.units.get(uuid);
  if (!r) return unknownUnit(uuid);
  const reg = r.registration;
  const self = () => unitNode(uuid, ctx);
  return {
    uuid,
    enhedsnavn: reg.Name,
    brugervendtNoegle: reg.ShortKey ?? null,
    underliggendeEnheder: () => (ctx.view.children.get(uuid) ?? []).map((c) => unitNode(c, ctx)),
    overordnetEnhed: () => (reg.ParentOrgUnitUuid === undefined ? null : unitNode(reg.ParentOrgUnitUuid, ctx)),
    tilstand: tilstand(r),
    adresser: (args: { rolle?: string[] | null }) => addresses(uuid, reg as unknown as Record<string, unknown>, UNIT_ADDRESS_ROLES, args),
    opgaver: (reg.Tasks ?? []).map((t) => ({ uuid: t, klassifikation: null })),
    itSystemer: (reg.ItSystems ?? []).map((s) => ({ uuid: s, itSystemNavn: null })),
    medlemskaber: (args: { rolle?: string[] | null }) => {
      const keep = roleFilter(args);
      const out: Record<string, unknown>[] = [];
      if (reg.ManagerUuid !== undefined && keep(FUNCTION_TYPES.manager)) {
        const manager = reg.ManagerUuid;
        out.push({
          ...membership(uuid, manager, FUNCTION_TYPES.manager, "Leder", undefined, undefined),
          bruger: () => userNode(manager, ctx) ?? unknownUser(manager),
        });
      }
      if (keep(FUNCTION_TYPES.position)) {
        for (const { user, index } of ctx.view.positionsIn.get(uuid) ?? []) {
          const p = ctx.view.users.get(user)!.registration.Positions[index]!;
          out.push({ ...membership(uuid, user, FUNCTION_TYPES.position, p.Name, p.StartDate, p.StopDate, index), bruger: () => userNode(user, ctx) });
        }
      }
      return out;
    },
    henvendelsessteder: () => [
      ...(reg.ContactForTasks ?? []).map((task) => ({
        uuid: derivedUuid(uuid, "henvendelsessted", task),
        navn: reg.Name,
        henvendelsesOrganisationEnhed: self,
        opgave: { uuid: task, klassifikation: null },
      })),
      ...(reg.ContactPlaces ?? []).map((place) => ({
        uuid: derivedUuid(uuid, "henvendelsessted", place),
        navn: ctx.view.units.get(place)?.registration.Name ?? "",
        henvendelsesOrganisationEnhed: () => unitNode(place, ctx),
        opgave: null,
      })),
    ],
  };
}

function membership(unit: string, user: string, type: string, title: string, start: string | undefined, stop: string | undefined, index = 0) {
  return {
    uuid: derivedUuid(unit, user, type, String(index)),
    medlemskabRolleTitel: title,
    brugervendtNoegle: null,
    funktionsTypeUuid: type,
    funktionsTypeTitel: FUNCTION_TITLES[type] ?? null,
    start: danishMidnight(start),
    slut: danishMidnight(stop),
  };
}

export function userNode(uuid: string, ctx: RequestContext): Record<string, unknown> | null {
  const r = ctx.view.users.get(uuid);
  if (!r) return null;
  const reg = r.registration;
  const person = reg.Person;
  return {
    uuid,
    brugernavn: reg.UserId,
    brugervendtNoegle: reg.ShortKey ?? null,
    brugerTypeUuid: reg.IsRobot ? ROBOT_USER_TYPE : INTERNAL_USER_TYPE,
    brugerTypeTitel: reg.IsRobot ? "Non-Person Entity bruger" : "Intern bruger",
    tilstand: tilstand(r),
    person: {
      uuid: person.Uuid ?? derivedUuid(uuid, "person"),
      brugervendtNoegle: null,
      navn: (_: unknown, c: RequestContext, info: GraphQLResolveInfo) => {
        if (c.agreement.seNavn) return person.Name;
        c.warnings.push(personWarning(info, "SENAVN", person.Uuid ?? derivedUuid(uuid, "person")));
        return null;
      },
      cpr: (_: unknown, c: RequestContext, info: GraphQLResolveInfo) => {
        if (c.agreement.seCpr) return person.Cpr ?? null;
        c.warnings.push(personWarning(info, "SECPR", person.Uuid ?? derivedUuid(uuid, "person")));
        return null;
      },
    },
    adresser: (args: { rolle?: string[] | null }) => addresses(uuid, reg as unknown as Record<string, unknown>, USER_ADDRESS_ROLES, args),
    harMedlemskab: (args: { rolle?: string[] | null }) => {
      const keep = roleFilter(args);
      const out: Record<string, unknown>[] = [];
      if (keep(FUNCTION_TYPES.position)) {
        reg.Positions.forEach((p, index) => {
          out.push({
            ...membership(p.OrgUnitUuid, uuid, FUNCTION_TYPES.position, p.Name, p.StartDate, p.StopDate, index),
            medlemAf: () => unitNode(p.OrgUnitUuid, ctx),
          });
        });
      }
      if (keep(FUNCTION_TYPES.manager)) {
        for (const unit of ctx.view.managerOf.get(uuid) ?? []) {
          out.push({ ...membership(unit, uuid, FUNCTION_TYPES.manager, "Leder", undefined, undefined), medlemAf: () => unitNode(unit, ctx) });
        }
      }
      return out;
    },
  };
}

function personWarning(info: GraphQLResolveInfo, constraint: "SENAVN" | "SECPR", personUuid: string): Record<string, unknown> {
  const what = constraint === "SENAVN" ? "the person's name (SeNavn)" : "the person's CPR number (SeCPR-nummer)";
  return {
    message: `The service agreement does not allow ${what}; the value of person ${personUuid} is left out`,
    path: responsePathAsArray(info.path),
    extensions: { kildeId: "organisation", id: personUuid, type: "WARNING", classification: "PersonDataConstraint" },
  };
}

/** A GraphQL error the way FK words and tags them. */
export function fkError(message: string, classification: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type: "ERROR", classification } });
}
