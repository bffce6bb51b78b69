import {
  comparePositions,
  normaliseText,
  normaliseUuid,
  type ActualState,
  type Observed,
  type OrgUnitField,
  type OrgUnitRegistration,
  type Position,
  type StateFile,
  type UserField,
  type UserRegistration,
} from "../../model/index.js";
import type { HierarchyOptions, HierarchyResult, ProgressStream } from "./client.js";
import { mapLimit } from "./semaphore.js";

/**
 * Reading FK's actual state through OS2sync, in one of three ways (`--refresh`):
 * - `full`: list both kinds with `/all`, then GET every object: every field observed; one request per object.
 * - `hierarchy`: one hierarchy job: the fields it carries are observed, the rest come from the state file.
 * - `none`: the state file as it is; nothing observed.
 */

export type Os2syncRefreshMode = "full" | "hierarchy" | "none";

/** What the refresh needs of a client (Os2syncClient has it all). */
export interface RefreshClient {
  listOrgUnits(): Promise<string[]>;
  listUsers(): Promise<string[]>;
  getOrgUnit(uuid: string): Promise<OrgUnitRegistration | undefined>;
  getUser(uuid: string): Promise<UserRegistration | undefined>;
  hierarchy(opts?: HierarchyOptions): Promise<HierarchyResult>;
}

export interface RefreshDeps {
  client: RefreshClient;
  state: StateFile | null;
  now: () => Date;
  /** GETs in flight at most in `full` mode. */
  concurrency: number;
  /** Progress lines (stderr in the CLI). */
  progress?: ProgressStream;
  /**
   * `full` reads CPR numbers in clear; with this they are replaced by the keyed hash, as state and plans
   * hold them, so every mode yields the same values.
   */
  hashCpr?: (cpr: string) => string;
  /** Stops reading when aborted (no new request is sent; the signal's reason is thrown). */
  signal?: AbortSignal;
}

/** Fields of an org unit the hierarchy job reads from FK. */
export const HIERARCHY_OBSERVED_ORG_UNIT_FIELDS: OrgUnitField[] = ["Uuid", "Name", "ParentOrgUnitUuid"];

/**
 * Fields of a user the hierarchy job reads from FK. `PhoneNumber` is the job's `Telephone`.
 * `Positions` is observed as (OrgUnitUuid, Name) only: see HIERARCHY_POSITION_RULE for the dates.
 */
export const HIERARCHY_OBSERVED_USER_FIELDS: UserField[] = ["Uuid", "UserId", "Person.Name", "Positions", "Email", "PhoneNumber"];

/**
 * How `hierarchy` mode builds a user's positions, since the job returns positions without dates:
 * FK's positions and the state file's are matched as multisets on (OrgUnitUuid, Name). For each such
 * key, the first min(n_fk, n_state) state positions (in normalised order) are taken with their
 * StartDate/StopDate; further FK positions with that key appear without dates; state positions whose
 * key FK no longer has are dropped. So an added, removed, moved or renamed position is seen, while a
 * change made in FK to a position's dates alone is not (`--refresh full` sees it).
 */
export const HIERARCHY_POSITION_RULE =
  "positions are compared on (OrgUnitUuid, Name); their dates are taken from state for matching positions";

/** OS2sync's user Status enum value for an inactive user: treated as absent. */
const STATUS_INACTIVE = 2;

export async function refreshActual(mode: Os2syncRefreshMode, deps: RefreshDeps): Promise<ActualState> {
  switch (mode) {
    case "full":
      return refreshFull(deps);
    case "hierarchy":
      return refreshHierarchy(deps);
    case "none":
      return refreshNone(deps);
  }
}

function stateAttributes(state: StateFile | null): { units: Map<string, OrgUnitRegistration>; users: Map<string, UserRegistration> } {
  const units = new Map<string, OrgUnitRegistration>();
  const users = new Map<string, UserRegistration>();
  for (const r of state?.resources ?? []) {
    if (r.kind === "orgunit") units.set(r.uuid.toLowerCase(), r.attributes as OrgUnitRegistration);
    else users.set(r.uuid.toLowerCase(), r.attributes as UserRegistration);
  }
  return { units, users };
}

function sortedMap<T>(entries: [string, T][]): Map<string, T> {
  return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function refreshNone(deps: RefreshDeps): Promise<ActualState> {
  const { units, users } = stateAttributes(deps.state);
  return {
    mode: "none",
    observedAt: null,
    orgUnits: sortedMap([...units].map(([uuid, v]) => [uuid, { value: structuredClone(v), observed: [] }])),
    users: sortedMap([...users].map(([uuid, v]) => [uuid, { value: structuredClone(v), observed: [] }])),
  };
}

async function refreshFull(deps: RefreshDeps): Promise<ActualState> {
  const observedAt = deps.now().toISOString();
  const [unitIds, userIds] = await Promise.all([deps.client.listOrgUnits(), deps.client.listUsers()]);
  const total = unitIds.length + userIds.length;
  let done = 0;
  const step = Math.max(500, Math.ceil(total / 10));
  const tick = () => {
    done++;
    if (deps.progress && (done % step === 0 || done === total)) deps.progress.write(`Read ${done}/${total} objects from OS2sync\n`);
  };
  const units = await mapLimit(unitIds, deps.concurrency, async (uuid) => {
    deps.signal?.throwIfAborted();
    const v = await deps.client.getOrgUnit(uuid);
    tick();
    return [uuid, v] as const;
  });
  const users = await mapLimit(userIds, deps.concurrency, async (uuid) => {
    deps.signal?.throwIfAborted();
    const v = await deps.client.getUser(uuid);
    tick();
    return [uuid, v] as const;
  });
  const orgUnits: [string, Observed<OrgUnitRegistration>][] = [];
  // An object deleted between the listing and its GET (404) is simply absent.
  for (const [uuid, v] of units) if (v) orgUnits.push([uuid, { value: v, observed: "all" }]);
  const userEntries: [string, Observed<UserRegistration>][] = [];
  for (const [uuid, v] of users) {
    if (!v) continue;
    userEntries.push([uuid, { value: hashPersonCpr(v, deps.hashCpr), observed: "all" }]);
  }
  return { mode: "full", observedAt, orgUnits: sortedMap(orgUnits), users: sortedMap(userEntries) };
}

function hashPersonCpr(u: UserRegistration, hash: ((cpr: string) => string) | undefined): UserRegistration {
  if (!hash || u.Person.Cpr === undefined) return u;
  return { ...u, Person: { ...u.Person, Cpr: hash(u.Person.Cpr) } };
}

async function refreshHierarchy(deps: RefreshDeps): Promise<ActualState> {
  const observedAt = deps.now().toISOString();
  const result = await deps.client.hierarchy(deps.signal ? { signal: deps.signal } : {});
  const { units: stateUnits, users: stateUsers } = stateAttributes(deps.state);

  const orgUnits: [string, Observed<OrgUnitRegistration>][] = [];
  for (const ou of result.OUs) {
    const uuid = normaliseUuid(ou.Uuid);
    if (uuid === undefined) continue;
    const value: OrgUnitRegistration = { ...structuredClone(stateUnits.get(uuid) ?? { Uuid: uuid, Name: "" }), Uuid: uuid };
    value.Name = normaliseText(ou.Name) ?? "";
    const parent = normaliseUuid(ou.ParentOU);
    if (parent === undefined) delete value.ParentOrgUnitUuid;
    else value.ParentOrgUnitUuid = parent;
    orgUnits.push([uuid, { value, observed: [...HIERARCHY_OBSERVED_ORG_UNIT_FIELDS] }]);
  }

  const users: [string, Observed<UserRegistration>][] = [];
  for (const u of result.Users) {
    if (u.Status === STATUS_INACTIVE) continue;
    const uuid = normaliseUuid(u.Uuid);
    if (uuid === undefined) continue;
    const fromState = stateUsers.get(uuid);
    const base: UserRegistration = fromState
      ? structuredClone(fromState)
      : { Uuid: uuid, UserId: "", Positions: [], Person: { Name: "" } };
    base.Uuid = uuid;
    base.UserId = normaliseText(u.UserId) ?? "";
    base.Person = { ...base.Person, Name: normaliseText(u.Name) ?? "" };
    setOptional(base, "Email", normaliseText(u.Email));
    setOptional(base, "PhoneNumber", normaliseText(u.Telephone));
    base.Positions = mergePositions(u.Positions, fromState?.Positions ?? []);
    users.push([uuid, { value: base, observed: [...HIERARCHY_OBSERVED_USER_FIELDS] }]);
  }
  return { mode: "hierarchy", observedAt, orgUnits: sortedMap(orgUnits), users: sortedMap(users) };
}

function setOptional(u: UserRegistration, key: "Email" | "PhoneNumber", v: string | undefined): void {
  if (v === undefined) delete u[key];
  else u[key] = v;
}

/** HIERARCHY_POSITION_RULE. */
export function mergePositions(fk: readonly { Uuid: string; Name: string }[], state: readonly Position[]): Position[] {
  const key = (unit: string, name: string) => `${unit}\u0000${name}`;
  const fromState = new Map<string, Position[]>();
  for (const p of [...state].sort(comparePositions)) {
    const k = key(p.OrgUnitUuid, p.Name);
    const list = fromState.get(k) ?? [];
    list.push(p);
    fromState.set(k, list);
  }
  const out: Position[] = [];
  for (const p of fk) {
    const unit = normaliseUuid(p.Uuid);
    const name = normaliseText(p.Name);
    if (unit === undefined || name === undefined) continue;
    const match = fromState.get(key(unit, name))?.shift();
    out.push(match ? { ...match } : { Name: name, OrgUnitUuid: unit });
  }
  return out.sort(comparePositions);
}
