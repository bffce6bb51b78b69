import {
  ORG_UNIT_FIELDS,
  USER_DIFF_FIELDS,
  type ActualState,
  type FieldName,
  type Observed,
  type OrgUnitField,
  type OrgUnitRegistration,
  type StateFile,
  type UserField,
  type UserRegistration,
} from "../../model/index.js";
import { FkClient, type FkClientOptions, type FkGraphqlError, type ProgressStream } from "./client.js";
import { FUNCTION_TYPES } from "./classifications.js";
import { orgUnitFromFk, userFromFk } from "./map.js";
import { readConnection, type ReadOptions } from "./reader.js";

/**
 * `--refresh fk`: the actual state read straight from FK Organisation's GraphQL service, every active
 * unit and user of the municipality in pages of up to 500, instead of through OS2sync.
 *
 * FK's published schema (OrganisationHent v1) has no place for a few of OS2sync's fields; those are
 * reported as not observed and, like `--refresh hierarchy`, taken from the state file:
 */

/** Org unit fields the GraphQL schema does not expose: the unit type (enhedstype), the payout unit (an
 *  OrganisationFunktion between two units, while memberships join a unit to users only) and the
 *  secondary postal address (it has no role of its own). */
export const FK_UNREADABLE_ORG_UNIT_FIELDS: readonly OrgUnitField[] = ["Type", "PayoutUnitUuid", "PostSecondary"];

/** `Person.Uuid` is FK's own identifier of the person, chosen by FK when OS2sync creates the user;
 *  stsorg never writes it, so it is left to state rather than compared. */
export const FK_UNREPORTED_USER_FIELDS: readonly UserField[] = ["Person.Uuid"];

export const FK_OBSERVED_ORG_UNIT_FIELDS: OrgUnitField[] = ORG_UNIT_FIELDS.filter((f) => !FK_UNREADABLE_ORG_UNIT_FIELDS.includes(f));

/** User fields read from FK; `Person.Cpr` only when CPR numbers are synchronised (else it is not asked for). */
export function fkObservedUserFields(syncCpr: boolean): UserField[] {
  return USER_DIFF_FIELDS.filter((f) => !FK_UNREPORTED_USER_FIELDS.includes(f) && (syncCpr || f !== "Person.Cpr"));
}

export interface FkRefreshDeps {
  /** A client to use, or the options to make one (closed again afterwards). */
  client?: FkClient;
  config?: FkClientOptions;
  now: () => Date;
  /** Progress lines and FK's warnings (stderr in the CLI). */
  progress?: ProgressStream;
  /** CPR numbers are replaced by this keyed hash, as state and plans hold them. */
  hashCpr?: (cpr: string) => string;
  /** Ask FK for CPR numbers (sync.syncCpr). */
  syncCpr: boolean;
  /** Where the fields FK's schema lacks come from. */
  state?: StateFile | null;
  read?: ReadOptions;
  /** Stops reading when aborted (see ReadOptions.signal). */
  signal?: AbortSignal;
}

export async function refreshFromFk(deps: FkRefreshDeps): Promise<ActualState> {
  const client = deps.client ?? (deps.config ? new FkClient({ ...deps.config, progress: deps.config.progress ?? deps.progress }) : undefined);
  if (!client) throw new TypeError("refreshFromFk needs a client or a config");
  try {
    return await refresh(client, deps);
  } finally {
    if (!deps.client) client.close();
  }
}

async function refresh(client: FkClient, deps: FkRefreshDeps): Promise<ActualState> {
  const observedAt = deps.now().toISOString();
  const read: ReadOptions = { progress: deps.progress, ...(deps.signal ? { signal: deps.signal } : {}), ...deps.read };
  const started = Date.now();
  const [units, users] = await Promise.all([
    readConnection(client, "org-units", "organisationEnhedListe", { cvr: client.cvr, managerRole: [FUNCTION_TYPES.manager] }, "org units", read),
    readConnection(
      client,
      "users",
      "brugerListe",
      { cvr: client.cvr, positionRole: [FUNCTION_TYPES.position], withCpr: deps.syncCpr },
      "users",
      read,
    ),
  ]);
  reportWarnings([...units.warnings, ...users.warnings], deps.progress);
  const { stateUnits, stateUsers } = fromState(deps.state ?? null);

  const orgUnits: [string, Observed<OrgUnitRegistration>][] = [];
  for (const [uuid, node] of units.nodes) {
    const value = orgUnitFromFk(node);
    const prior = stateUnits.get(uuid);
    if (prior) for (const f of FK_UNREADABLE_ORG_UNIT_FIELDS) copyField(prior, value, f);
    orgUnits.push([uuid, { value: withFieldOrder(value), observed: [...FK_OBSERVED_ORG_UNIT_FIELDS] }]);
  }

  const userFields = fkObservedUserFields(deps.syncCpr);
  const userEntries: [string, Observed<UserRegistration>][] = [];
  let withheldNames = 0;
  for (const [uuid, node] of users.nodes) {
    const { user, nameWithheld, cprMissing } = userFromFk(node, { withCpr: deps.syncCpr });
    const prior = stateUsers.get(uuid);
    let observed: FieldName[] = userFields;
    const person = { ...user.Person };
    if (person.Cpr !== undefined && deps.hashCpr) person.Cpr = deps.hashCpr(person.Cpr);
    if (prior?.Person?.Uuid !== undefined) person.Uuid = prior.Person.Uuid;
    if (nameWithheld) {
      withheldNames++;
      observed = observed.filter((f) => f !== "Person.Name");
      person.Name = prior?.Person?.Name ?? "";
    }
    if (cprMissing && prior?.Person?.Cpr !== undefined) {
      // FK withheld it (no SeCPR-nummer in the agreement) or the person has none: state knows better than nothing.
      observed = observed.filter((f) => f !== "Person.Cpr");
      person.Cpr = prior.Person.Cpr;
    }
    userEntries.push([uuid, { value: { ...user, Person: person }, observed: [...observed] }]);
  }
  if (withheldNames > 0) {
    deps.progress?.write(
      `FK Organisation gave no person name for ${withheldNames} user(s); their Person.Name is taken from state ` +
        "(the service agreement needs SeNavn for FK to show names)\n",
    );
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  deps.progress?.write(
    `FK Organisation read: ${orgUnits.length} org units, ${userEntries.length} users ` +
      `(${units.pages + users.pages} pages, ${client.stats.requests} requests, ${secs} s)\n`,
  );
  return { mode: "fk", observedAt, orgUnits: sortedMap(orgUnits), users: sortedMap(userEntries) };
}

/** Each kind of warning once, with how many objects it concerned, however many pages repeated it. */
function reportWarnings(warnings: FkGraphqlError[], progress: ProgressStream | undefined): void {
  const groups = new Map<string, { example: string; count: number }>();
  for (const w of warnings) {
    const template = (w.message ?? "").replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "…").replace(/\d+/g, "#");
    const key = `${w.extensions?.classification ?? ""}\u0000${template}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { example: w.message ?? "", count: 1 });
  }
  for (const [key, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const classification = key.split("\u0000")[0];
    progress?.write(`FK Organisation warning${classification ? ` (${classification})` : ""}, ${g.count} time(s): ${g.example}\n`);
  }
}

function fromState(state: StateFile | null): { stateUnits: Map<string, OrgUnitRegistration>; stateUsers: Map<string, UserRegistration> } {
  const stateUnits = new Map<string, OrgUnitRegistration>();
  const stateUsers = new Map<string, UserRegistration>();
  for (const r of state?.resources ?? []) {
    if (r.kind === "orgunit") stateUnits.set(r.uuid.toLowerCase(), r.attributes as OrgUnitRegistration);
    else stateUsers.set(r.uuid.toLowerCase(), r.attributes as UserRegistration);
  }
  return { stateUnits, stateUsers };
}

function copyField(from: OrgUnitRegistration, to: OrgUnitRegistration, field: OrgUnitField): void {
  const v = from[field];
  const target = to as unknown as Record<string, unknown>;
  if (v === undefined) delete target[field];
  else target[field] = structuredClone(v);
}

/** Keys in OS2sync's order, as normalisation gives them, after fields were copied in from state. */
function withFieldOrder(u: OrgUnitRegistration): OrgUnitRegistration {
  const src = u as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of ORG_UNIT_FIELDS) if (src[f] !== undefined) out[f] = src[f];
  return out as unknown as OrgUnitRegistration;
}

function sortedMap<T>(entries: [string, T][]): Map<string, T> {
  return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
