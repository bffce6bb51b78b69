import { computeDesiredState } from "../../../src/mapping/index.js";
import {
  addressOf,
  canonicalJson,
  hashCpr,
  sha256Hex,
  STATE_FORMAT_VERSION,
  SYNC_POLICY_DEFAULTS,
  type ActualState,
  type DesiredState,
  type StateFile,
  type SyncPolicy,
} from "../../../src/model/index.js";
import { FIXTURE_KEYS, generateMunicipality, snapshotFromFixture, type MoFixture, type MunicipalitySize } from "../../../src/sandbox/fixtures/index.js";
import { FkStore } from "../../../src/sandbox/fkstore/index.js";

export const TODAY = "2026-01-15";
export const ADMIN_TOP = "5e1f0000-0000-4000-8000-000000000001";
export const CPR_KEY = "equality-cpr-key";

/** The policy every manifest starts from: the defaults and the two uuids. */
export function defaultPolicy(fixture: MoFixture): SyncPolicy {
  return { ...SYNC_POLICY_DEFAULTS, topUnitUuid: fixture.topUnitUuid, adminTopUuid: ADMIN_TOP };
}

/** A policy that fills as many of OS2sync's fields as the fixture has data for, CPR numbers included. */
export function richPolicy(fixture: MoFixture): SyncPolicy {
  const facet = new Map(fixture.facets.map((f) => [f.uuid, f.user_key]));
  const cls = (facetKey: string, userKey: string): string => {
    const c = fixture.classes.find((x) => facet.get(x.facet) === facetKey && x.user_key === userKey);
    if (!c) throw new Error(`fixture has no ${facetKey} class ${userKey}`);
    return c.uuid;
  };
  return {
    ...defaultPolicy(fixture),
    syncCpr: true,
    syncManagers: true,
    useContactForTasks: true,
    uuidFromItSystems: [FIXTURE_KEYS.itSystems.fkUuid],
    emailScopeClasses: [cls("employee_address_type", FIXTURE_KEYS.employeeAddress.email)],
    phoneScopeClasses: [cls("employee_address_type", FIXTURE_KEYS.employeeAddress.phone)],
    landlineScopeClasses: [cls("employee_address_type", FIXTURE_KEYS.employeeAddress.landline)],
    employeeEngagementAddress: ["Postadresse"],
  };
}

/** The desired state of a generated municipality, written into a new FK store as OS2sync would have. */
export function fkWithDesired(size: MunicipalitySize, policyFor: (f: MoFixture) => SyncPolicy): { store: FkStore; desired: DesiredState; policy: SyncPolicy } {
  const fixture = generateMunicipality({ size, seed: 1, today: TODAY });
  const policy = policyFor(fixture);
  const desired = computeDesiredState(snapshotFromFixture(fixture, { today: TODAY }), policy);
  const store = new FkStore();
  for (const u of desired.orgUnits.values()) store.put("orgunit", u);
  for (const u of desired.users.values()) store.put("user", u);
  return { store, desired, policy };
}

/** A state file recording the desired state as applied (CPR numbers hashed as stsorg stores them). */
export function stateAfterApply(desired: DesiredState): StateFile {
  const resources = [
    ...[...desired.orgUnits.values()].map((a) => ({ kind: "orgunit" as const, a, name: a.Name })),
    ...[...desired.users.values()].map((u) => ({
      kind: "user" as const,
      a: u.Person.Cpr ? { ...u, Person: { ...u.Person, Cpr: hashCpr(u.Person.Cpr, CPR_KEY) } } : u,
      name: u.UserId,
    })),
  ]
    .map(({ kind, a, name }) => ({
      address: addressOf(kind, a.Uuid),
      kind,
      uuid: a.Uuid,
      name,
      attributes: a,
      attributes_sha256: sha256Hex(canonicalJson(a)),
      applied_at: `${TODAY}T00:00:00Z`,
      confirmed: true,
      origin: "created" as const,
    }))
    .sort((x, y) => (x.address < y.address ? -1 : 1));
  return {
    format_version: STATE_FORMAT_VERSION,
    lineage: "3f1c2a7e-0000-4000-8000-000000000002",
    serial: 1,
    environment: "equality",
    cvr: "29189846",
    admin_top_uuid: ADMIN_TOP,
    tool_version: "0.1.0",
    resources,
    pending: [],
  };
}

/** The values of an actual state, without which fields were observed, as one canonical string. */
export function values(a: ActualState, drop: readonly string[] = []): string {
  const strip = (v: object) => Object.fromEntries(Object.entries(v).filter(([k]) => !drop.includes(k)));
  return canonicalJson({
    orgUnits: [...a.orgUnits].map(([k, v]) => [k, strip(v.value)]),
    users: [...a.users].map(([k, v]) => [k, strip(v.value)]),
  });
}
