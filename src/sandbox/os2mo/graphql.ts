import { readFileSync } from "node:fs";
import {
  buildSchema,
  execute,
  GraphQLError,
  GraphQLScalarType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type ValueNode,
} from "graphql";
import type { MoValidity } from "../../model/index.js";
import type { FixtureOrgUnit } from "../fixtures/types.js";
import { dateOfMoDateTime, toMoDateTime } from "./dates.js";
import type { CollectionName, Collections, MoStore } from "./store.js";

/** The sandbox's SDL (the served subset of OS2mo v25), next to this module in src/ and dist/. */
export const SANDBOX_SCHEMA_FILE = new URL("./schema.graphql", import.meta.url);

const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Builds the executable schema with OS2mo's scalar rules (UUID shape, integer `int`, ISO DateTime). */
export function loadSandboxSchema(): GraphQLSchema {
  const schema = buildSchema(readFileSync(SANDBOX_SCHEMA_FILE, "utf8"));
  const rules: Record<string, (v: unknown) => unknown> = {
    UUID: (v) => {
      if (typeof v !== "string" || !UUID_RE.test(v)) throw new TypeError(`badly formed hexadecimal UUID string: ${JSON.stringify(v)}`);
      return v.toLowerCase();
    },
    int: (v) => {
      if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`int cannot represent non-integer value: ${JSON.stringify(v)}`);
      return v;
    },
    DateTime: (v) => {
      if (typeof v !== "string" || dateOfMoDateTime(v) === undefined) throw new TypeError(`Invalid isoformat string: ${JSON.stringify(v)}`);
      return v;
    },
    Cursor: (v) => {
      if (typeof v !== "string") throw new TypeError("Cursor must be a string");
      return v;
    },
    CPR: (v) => {
      if (typeof v !== "string" || !/^\d{10}$/.test(v)) throw new TypeError("CPR must be 10 digits");
      return v;
    },
  };
  for (const [name, check] of Object.entries(rules)) {
    const t = schema.getType(name);
    if (!(t instanceof GraphQLScalarType)) continue;
    t.parseValue = check;
    t.parseLiteral = (node: ValueNode) => check(literalValue(node));
  }
  return schema;
}

function literalValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.STRING:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    default:
      return undefined;
  }
}

/** What one GraphQL execution sees: the data, the sandbox's today, and the page fault mode. */
export interface ExecContext {
  store: MoStore;
  today: string;
  shortPages: boolean;
  memo: Map<string, Set<string>>;
  memoByRef: Map<CollectionName, WeakMap<object, Set<string>>>;
  /** Objects returned in top-level pages (for the request log). */
  objects: number;
}

type Filter = Record<string, unknown>;
interface Ref {
  kind: CollectionName;
  uuid: string;
}
interface Window {
  from: string | null;
  to: string | null;
}

// ---------- date windows ----------

function dateArg(v: unknown): string {
  const d = typeof v === "string" ? dateOfMoDateTime(v) : undefined;
  if (d === undefined) throw new GraphQLError(`Invalid isoformat string: ${JSON.stringify(v)}`);
  return d;
}

/**
 * OS2mo's window rules: an unset from_date is now and an unset to_date is then the same instant;
 * an explicit null is open-ended. With an explicit from_date and no to_date the window is that day.
 */
function windowOf(f: Filter, today: string): Window {
  let from: string | null = today;
  if ("from_date" in f) from = f.from_date === null ? null : dateArg(f.from_date);
  let to: string | null = from ?? today;
  if ("to_date" in f) to = f.to_date === null ? null : dateArg(f.to_date);
  return { from, to };
}

function overlaps(v: MoValidity | undefined, w: Window): boolean {
  if (!v) return true;
  if (w.to !== null && v.from > w.to) return false;
  if (w.from !== null && v.to !== null && v.to < w.from) return false;
  return true;
}

function validAt(v: MoValidity | undefined, day: string): boolean {
  return overlaps(v, { from: day, to: day });
}

function validityOf(o: unknown): MoValidity | undefined {
  return (o as { validity?: MoValidity }).validity;
}

// ---------- filters ----------

function isFilter(v: unknown): v is Filter {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list(v: unknown): string[] | null {
  return Array.isArray(v) ? (v as string[]) : null;
}

function userKeyOf(kind: CollectionName, o: { uuid: string }): string {
  const k = (o as { user_key?: string }).user_key;
  return typeof k === "string" ? k : o.uuid;
}

/** The uuids of `kind` matching a (nested) filter; memoised per execution. */
function matchingSet(ctx: ExecContext, kind: CollectionName, f: Filter): Set<string> {
  // The same filter object is asked about once per candidate: look it up by identity first, since
  // serialising a filter with a long uuid list for every candidate would be quadratic.
  let byRef = ctx.memoByRef.get(kind);
  if (!byRef) ctx.memoByRef.set(kind, (byRef = new WeakMap()));
  let s = byRef.get(f);
  if (s) return s;
  const key = `${kind}|${JSON.stringify(f)}`;
  s = ctx.memo.get(key);
  if (!s) {
    s = new Set(candidates(ctx, kind, f).filter((u) => matches(ctx, kind, u, f)));
    ctx.memo.set(key, s);
  }
  byRef.set(f, s);
  return s;
}

/**
 * Reference filters that narrow a collection through the store's reverse index: filter key, the
 * referenced collection, and the object's field holding the reference.
 */
const INDEXED_REFERENCES: Partial<Record<CollectionName, readonly (readonly [string, CollectionName, string])[]>> = {
  engagements: [
    ["employee", "persons", "person"],
    ["org_unit", "orgUnits", "org_unit"],
  ],
  addresses: [
    ["employee", "persons", "person"],
    ["org_unit", "orgUnits", "org_unit"],
    ["engagement", "engagements", "engagement"],
    ["ituser", "itUsers", "ituser"],
  ],
  itUsers: [
    ["employee", "persons", "person"],
    ["org_unit", "orgUnits", "org_unit"],
    ["engagement", "engagements", "engagement"],
  ],
  managers: [
    ["employee", "persons", "person"],
    ["org_unit", "orgUnits", "org_unit"],
  ],
  kles: [["org_unit", "orgUnits", "org_unit"]],
};

/**
 * The objects referring to a member of the smallest referenced set among the filter's reference
 * filters, or null when the filter has none. A superset of the matches: `matches` still tests each.
 */
function referencedCandidates(ctx: ExecContext, kind: CollectionName, f: Filter): string[] | null {
  let best: { set: Set<string>; field: string } | null = null;
  for (const [key, refKind, field] of INDEXED_REFERENCES[kind] ?? []) {
    const sub = f[key];
    if (!isFilter(sub)) continue;
    const set = matchingSet(ctx, refKind, sub);
    if (best === null || set.size < best.set.size) best = { set, field };
  }
  if (best === null) return null;
  const out: string[] = [];
  // An object holds one value per field, so the lists are disjoint.
  for (const v of best.set) for (const u of ctx.store.referrers(kind, best.field, v)) out.push(u);
  return out.sort();
}

/**
 * Uuids to test, in keyset order; a `uuids` filter is applied here (a set lookup, not a scan), and a
 * reference filter through the store's reverse index.
 */
function candidates(ctx: ExecContext, kind: CollectionName, f: Filter, universe?: string[]): string[] {
  const uuids = list(f.uuids);
  if (!uuids) return universe ?? referencedCandidates(ctx, kind, f) ?? ctx.store.sortedUuids(kind);
  const wanted = new Set(uuids.map((u) => u.toLowerCase()));
  if (universe) return universe.filter((u) => wanted.has(u));
  return [...wanted].filter((u) => ctx.store.get(kind, u) !== undefined).sort();
}

function related(ctx: ExecContext, kind: CollectionName, sub: unknown, value: string | null | undefined): boolean {
  if (!isFilter(sub)) return true;
  return value !== null && value !== undefined && matchingSet(ctx, kind, sub).has(value);
}

function relatedAny(ctx: ExecContext, kind: CollectionName, sub: unknown, values: readonly string[]): boolean {
  if (!isFilter(sub)) return true;
  const s = matchingSet(ctx, kind, sub);
  return values.some((v) => s.has(v));
}

function matches(ctx: ExecContext, kind: CollectionName, uuid: string, f: Filter): boolean {
  const store = ctx.store;
  const o = store.get(kind, uuid);
  if (!o) return false;
  // `uuids` is applied by candidates(), which every caller goes through.
  const keys = list(f.user_keys);
  if (keys && !keys.includes(userKeyOf(kind, o))) return false;
  if (!overlaps(validityOf(o), windowOf(f, ctx.today))) return false;
  switch (kind) {
    case "orgUnits": {
      const u = o as FixtureOrgUnit;
      const names = list(f.names);
      if (names && !names.includes(u.name)) return false;
      if (!related(ctx, "orgUnits", f.parent, u.parent)) return false;
      if (!related(ctx, "classes", f.hierarchy, u.org_unit_hierarchy)) return false;
      // `ancestor` and `descendant` include the unit itself, as in OS2mo.
      if (isFilter(f.ancestor) && !relatedAny(ctx, "orgUnits", f.ancestor, store.unitChain(uuid, ctx.today))) return false;
      if (isFilter(f.descendant) && !descendantsMatch(ctx, uuid, f.descendant, true)) return false;
      if (isFilter(f.child) && !descendantsMatch(ctx, uuid, f.child, false)) return false;
      if (isFilter(f.engagement)) {
        const es = matchingSet(ctx, "engagements", f.engagement);
        if (![...es].some((e) => store.get("engagements", e)?.org_unit === uuid)) return false;
      }
      return true;
    }
    case "persons": {
      const cprs = list(f.cpr_numbers);
      const p = o as Collections["persons"];
      return !cprs || (p.cpr_number !== null && cprs.includes(p.cpr_number));
    }
    case "engagements": {
      const e = o as Collections["engagements"];
      return (
        related(ctx, "persons", f.employee, e.person) &&
        related(ctx, "orgUnits", f.org_unit, e.org_unit) &&
        related(ctx, "classes", f.job_function, e.job_function)
      );
    }
    case "addresses": {
      const a = o as Collections["addresses"];
      return (
        related(ctx, "persons", f.employee, a.person) &&
        related(ctx, "orgUnits", f.org_unit, a.org_unit) &&
        related(ctx, "classes", f.address_type, a.address_type) &&
        related(ctx, "engagements", f.engagement, a.engagement) &&
        related(ctx, "itUsers", f.ituser, a.ituser) &&
        related(ctx, "classes", f.visibility, a.visibility)
      );
    }
    case "itUsers": {
      const i = o as Collections["itUsers"];
      const ext = list(f.external_ids);
      return (
        related(ctx, "persons", f.employee, i.person) &&
        related(ctx, "orgUnits", f.org_unit, i.org_unit) &&
        related(ctx, "itsystems", f.itsystem, i.itsystem) &&
        related(ctx, "engagements", f.engagement, i.engagement) &&
        (!ext || (i.external_id !== null && ext.includes(i.external_id)))
      );
    }
    case "managers": {
      const m = o as Collections["managers"];
      return (
        related(ctx, "persons", f.employee, m.person) &&
        related(ctx, "orgUnits", f.org_unit, m.org_unit) &&
        relatedAny(ctx, "classes", f.responsibility, m.responsibilities) &&
        related(ctx, "classes", f.manager_type, m.manager_type)
      );
    }
    case "kles":
      return related(ctx, "orgUnits", f.org_unit, (o as Collections["kles"]).org_unit);
    case "classes": {
      const c = o as Collections["classes"];
      const names = list(f.name);
      const scopes = list(f.scope);
      // Fixture classes have no parent class and no IT system: such a filter matches nothing.
      if (isFilter(f.parent) || isFilter(f.it_system)) return false;
      return (
        (!names || names.includes(c.name)) &&
        (!scopes || (c.scope !== null && scopes.includes(c.scope))) &&
        related(ctx, "facets", f.facet, c.facet)
      );
    }
    case "facets":
      return !isFilter(f.parent);
    default:
      return true;
  }
}

/** True when a unit below `uuid` (or `uuid` itself when `self`) matches the filter. */
function descendantsMatch(ctx: ExecContext, uuid: string, sub: Filter, self: boolean): boolean {
  const s = matchingSet(ctx, "orgUnits", sub);
  for (const m of s) {
    const chain = ctx.store.unitChain(m, ctx.today);
    const i = chain.indexOf(uuid);
    if (i > 0 || (self && i === 0)) {
      if (self || i === 1) return true;
    }
  }
  return false;
}

// ---------- paging ----------

interface CursorState {
  /** Last uuid handed out; the next page starts after it. */
  a: string | null;
  /** Pages served so far in this iteration (drives the short-page fault). */
  p: number;
}

function encodeCursor(c: CursorState): string {
  return Buffer.from(JSON.stringify(c), "utf8").toString("base64");
}

function decodeCursor(s: unknown): CursorState {
  if (s === null || s === undefined) return { a: null, p: 0 };
  try {
    const c = JSON.parse(Buffer.from(String(s), "base64").toString("utf8")) as CursorState;
    if ((c.a === null || typeof c.a === "string") && typeof c.p === "number") return c;
  } catch {
    // fall through
  }
  throw new GraphQLError("Invalid cursor");
}

const resultCache = new WeakMap<MoStore, Map<string, string[]>>();

/** The whole ordered result of a top-level collection query; cached so later pages are cheap. */
function orderedMatches(ctx: ExecContext, kind: CollectionName, f: Filter): string[] {
  let cache = resultCache.get(ctx.store);
  if (!cache) resultCache.set(ctx.store, (cache = new Map()));
  const key = `${ctx.store.version}|${ctx.today}|${kind}|${JSON.stringify(f)}`;
  let r = cache.get(key);
  if (!r) {
    r = candidates(ctx, kind, f).filter((u) => matches(ctx, kind, u, f));
    if (cache.size > 64) cache.clear();
    cache.set(key, r);
  }
  return r;
}

function pageOf(
  ctx: ExecContext,
  kind: CollectionName,
  ordered: string[],
  args: { limit?: unknown; cursor?: unknown },
): { objects: Ref[]; page_info: { next_cursor: string | null } } {
  const cur = decodeCursor(args.cursor);
  let start = 0;
  if (cur.a !== null) {
    const after = cur.a;
    let lo = 0;
    let hi = ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ordered[mid] as string) <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const limit = typeof args.limit === "number" ? args.limit : null;
  if (limit !== null && limit < 0) throw new GraphQLError("limit must be non-negative");
  let take = limit === null ? ordered.length - start : limit;
  if (ctx.shortPages && limit !== null && limit > 0 && start < ordered.length) {
    // OS2mo may answer fewer objects than `limit` (even none) before the end; only a null cursor ends.
    if (cur.p % 3 === 1) take = 0;
    else if (cur.p % 3 === 2) take = Math.max(1, Math.floor(limit / 2));
  }
  const slice = ordered.slice(start, start + take);
  const end = start + slice.length;
  const last = slice.length > 0 ? (slice[slice.length - 1] as string) : cur.a;
  const more = limit !== null && end < ordered.length;
  ctx.objects += slice.length;
  return {
    objects: slice.map((uuid) => ({ kind, uuid })),
    page_info: { next_cursor: more ? encodeCursor({ a: last, p: cur.p + 1 }) : null },
  };
}

// ---------- resolvers ----------

type Resolver = (source: unknown, args: Record<string, unknown>, ctx: ExecContext) => unknown;

const ref = (kind: CollectionName, uuid: string | null | undefined): Ref | null => (uuid ? { kind, uuid } : null);

function collection(kind: CollectionName): Resolver {
  return (_s, args, ctx) => {
    const f = isFilter(args.filter) ? args.filter : {};
    if (args.inherit === true) throw new GraphQLError("The OS2mo sandbox does not serve managers(inherit: true)");
    return pageOf(ctx, kind, orderedMatches(ctx, kind, f), args);
  };
}

/** A paged relation inside an object (responsibilities, KLE aspects): a filter over a fixed uuid list. */
function nestedClasses(pick: (o: Record<string, unknown>) => string[]): Resolver {
  return (s, args, ctx) => {
    const f = isFilter(args.filter) ? args.filter : {};
    const universe = [...new Set(pick(s as Record<string, unknown>))].sort();
    const ordered = candidates(ctx, "classes", f, universe).filter((u) => matches(ctx, "classes", u, f));
    const before = ctx.objects;
    const page = pageOf({ ...ctx, shortPages: false }, "classes", ordered, args);
    ctx.objects = before;
    return page;
  };
}

function responseResolvers(): Record<string, Resolver> {
  return {
    uuid: (s) => (s as Ref).uuid,
    current: (s, args, ctx) => {
      const r = s as Ref;
      const o = ctx.store.get(r.kind, r.uuid);
      const day = args.at === undefined || args.at === null ? ctx.today : dateArg(args.at);
      return o && validAt(validityOf(o), day) ? o : null;
    },
    validities: (s, args, ctx) => {
      const r = s as Ref;
      const o = ctx.store.get(r.kind, r.uuid);
      const w: Window = {
        from: args.start === undefined || args.start === null ? null : dateArg(args.start),
        to: args.end === undefined || args.end === null ? null : dateArg(args.end),
      };
      return o && overlaps(validityOf(o), w) ? [o] : [];
    },
  };
}

const pick =
  (kind: CollectionName, field: string): Resolver =>
  (s) =>
    ref(kind, (s as Record<string, string | null>)[field]);
const uuidAsUserKey: Resolver = (s) => (s as { user_key?: string; uuid: string }).user_key ?? (s as { uuid: string }).uuid;

const extensions: Record<string, Resolver> = {};
for (let i = 1; i <= 10; i++) {
  const k = `extension_${i}`;
  extensions[k] = (s) => (s as { extensions: Record<string, string | null | undefined> }).extensions[k] ?? null;
}

const RESPONSE_TYPES: Record<string, CollectionName> = {
  OrganisationUnitResponse: "orgUnits",
  EmployeeResponse: "persons",
  EngagementResponse: "engagements",
  AddressResponse: "addresses",
  ITUserResponse: "itUsers",
  ManagerResponse: "managers",
  KLEResponse: "kles",
  ClassResponse: "classes",
  ITSystemResponse: "itsystems",
  FacetResponse: "facets",
};

const RESOLVERS: Record<string, Record<string, Resolver>> = {
  Query: {
    org_units: collection("orgUnits"),
    persons: collection("persons"),
    engagements: collection("engagements"),
    addresses: collection("addresses"),
    itusers: collection("itUsers"),
    managers: collection("managers"),
    kles: collection("kles"),
    classes: collection("classes"),
    itsystems: collection("itsystems"),
    facets: collection("facets"),
  },
  Validity: {
    from: (s) => toMoDateTime((s as MoValidity).from),
    to: (s) => ((s as MoValidity).to === null ? null : toMoDateTime((s as MoValidity).to as string)),
  },
  OrganisationUnit: {
    parent_response: pick("orgUnits", "parent"),
    unit_type_response: pick("classes", "unit_type"),
    unit_level_response: pick("classes", "org_unit_level"),
    unit_hierarchy_response: pick("classes", "org_unit_hierarchy"),
    ancestors: (s, _a, ctx) =>
      ctx.store
        .unitChain((s as FixtureOrgUnit).uuid)
        .slice(1)
        .map((u) => ctx.store.get("orgUnits", u))
        .filter((u) => u !== undefined),
  },
  Employee: { user_key: uuidAsUserKey },
  Engagement: {
    user_key: uuidAsUserKey,
    person_response: pick("persons", "person"),
    org_unit_response: pick("orgUnits", "org_unit"),
    // OS2mo requires a job function; a fixture may lack one. It is served as a class that is not
    // current (as when OS2mo's class has been ended), which a reader sees as `current: null`.
    job_function_response: (s) => ({ kind: "classes", uuid: (s as { job_function: string | null }).job_function ?? NIL_UUID }),
    ...extensions,
  },
  Address: {
    user_key: uuidAsUserKey,
    address_type_response: pick("classes", "address_type"),
    visibility_response: pick("classes", "visibility"),
    person_response: pick("persons", "person"),
    org_unit_response: pick("orgUnits", "org_unit"),
    engagement_response: pick("engagements", "engagement"),
    ituser_response: pick("itUsers", "ituser"),
  },
  ITUser: {
    itsystem_response: pick("itsystems", "itsystem"),
    person_response: pick("persons", "person"),
    org_unit_response: pick("orgUnits", "org_unit"),
    engagement_response: pick("engagements", "engagement"),
  },
  Manager: {
    user_key: uuidAsUserKey,
    person_response: pick("persons", "person"),
    org_unit_response: pick("orgUnits", "org_unit"),
    manager_type_response: pick("classes", "manager_type"),
    responsibilities_response: nestedClasses((o) => o.responsibilities as string[]),
  },
  KLE: {
    user_key: uuidAsUserKey,
    org_unit_response: pick("orgUnits", "org_unit"),
    kle_number_response: pick("classes", "kle_number"),
    kle_aspects_response: nestedClasses((o) => o.kle_aspects as string[]),
  },
  Class: { facet_response: pick("facets", "facet") },
};
for (const t of Object.keys(RESPONSE_TYPES)) RESOLVERS[t] = responseResolvers();

const fieldResolver: GraphQLFieldResolver<unknown, ExecContext> = (source, args, ctx, info) => {
  const r = RESOLVERS[info.parentType.name]?.[info.fieldName];
  if (r) return r(source, args, ctx);
  const v = (source as Record<string, unknown> | null)?.[info.fieldName];
  return v === undefined ? null : v;
};

/** Parses, validates and executes one GraphQL request; parse and validation results are cached. */
export class SandboxExecutor {
  private readonly schema = loadSandboxSchema();
  private readonly documents = new Map<string, { doc?: DocumentNode; errors?: readonly GraphQLError[] }>();

  prepare(query: string): { doc?: DocumentNode; errors?: readonly GraphQLError[] } {
    let d = this.documents.get(query);
    if (!d) {
      try {
        const doc = parse(query);
        const errors = validate(this.schema, doc);
        d = errors.length > 0 ? { errors } : { doc };
      } catch (e) {
        d = { errors: [e instanceof GraphQLError ? e : new GraphQLError(String(e))] };
      }
      if (this.documents.size > 200) this.documents.clear();
      this.documents.set(query, d);
    }
    return d;
  }

  async run(
    request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
    ctx: Omit<ExecContext, "memo" | "memoByRef" | "objects">,
  ): Promise<{ result: ExecutionResult; objects: number }> {
    const prepared = this.prepare(request.query);
    if (!prepared.doc) return { result: { data: null, errors: prepared.errors ?? [] } as ExecutionResult, objects: 0 };
    const context: ExecContext = { ...ctx, memo: new Map(), memoByRef: new Map(), objects: 0 };
    const result = await execute({
      schema: this.schema,
      document: prepared.doc,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
      contextValue: context,
      fieldResolver,
    });
    return { result, objects: context.objects };
  }
}
