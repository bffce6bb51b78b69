import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  addressOf,
  canonicalJson,
  hashCpr,
  normaliseOrgUnit,
  normaliseUser,
  sha256Hex,
  STATE_FORMAT_VERSION,
  type ActualState,
  type OrgUnitRegistration,
  type StateFile,
  type StateResource,
  type UserRegistration,
} from "../../../src/model/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import {
  HIERARCHY_OBSERVED_ORG_UNIT_FIELDS,
  HIERARCHY_OBSERVED_USER_FIELDS,
  Os2syncClient,
  refreshActual,
  type Os2syncRefreshMode,
} from "../../../src/targets/os2sync/index.js";
import { CVR, lines, unit, user, uuid } from "./helpers.js";

const KEY = "test-cpr-key";
const NOW = new Date("2025-03-01T12:00:00Z");
let sb: Os2syncSandbox;

beforeAll(async () => {
  sb = await startOs2syncSandbox({ cvr: CVR, hierarchyDelayMs: 20 });
});
afterAll(async () => {
  await sb.stop();
});
beforeEach(() => sb.reset());

function client(): Os2syncClient {
  return new Os2syncClient({ url: sb.url, cvr: CVR, hierarchyPollInitialMs: 10, hierarchyPollMaxMs: 50, retryBaseMs: 5 });
}

/** A state file recording `units` and `users` as applied, CPRs hashed as stsorg stores them. */
function stateFor(units: OrgUnitRegistration[], users: UserRegistration[]): StateFile {
  const resource = (kind: "orgunit" | "user", attributes: OrgUnitRegistration | UserRegistration, name: string): StateResource => ({
    address: addressOf(kind, attributes.Uuid),
    kind,
    uuid: attributes.Uuid,
    name,
    attributes,
    attributes_sha256: sha256Hex(canonicalJson(attributes)),
    applied_at: "2025-02-01T00:00:00Z",
    confirmed: true,
    origin: "created",
  });
  const resources = [
    ...units.map((u) => resource("orgunit", normaliseOrgUnit(u as never), u.Name)),
    ...users.map((u) => {
      const n = normaliseUser(u as never);
      if (n.Person.Cpr) n.Person.Cpr = hashCpr(n.Person.Cpr, KEY);
      return resource("user", n, `${n.Person.Name} (${n.UserId})`);
    }),
  ].sort((a, b) => (a.address < b.address ? -1 : 1));
  return {
    format_version: STATE_FORMAT_VERSION,
    lineage: "3f1c2a7e-0000-4000-8000-000000000001",
    serial: 4,
    environment: "test",
    cvr: CVR,
    admin_top_uuid: uuid(1, "a"),
    tool_version: "0.1.0",
    resources,
    pending: [],
  };
}

function values(a: ActualState): string {
  return canonicalJson({
    orgUnits: [...a.orgUnits].map(([k, v]) => [k, v.value]),
    users: [...a.users].map(([k, v]) => [k, v.value]),
  });
}

async function refresh(mode: Os2syncRefreshMode, state: StateFile | null, c = client()): Promise<ActualState> {
  return refreshActual(mode, { client: c, state, now: () => NOW, concurrency: 4, hashCpr: (cpr) => hashCpr(cpr, KEY) });
}

const units = [
  unit(1, undefined, { Type: "DEPARTMENT", Email: "post@kommune.dk", Tasks: [uuid(9, "c"), uuid(8, "c")] }),
  unit(2, 1, { ShortKey: "ADM", PhoneNumber: "11223344", Ean: "5798000000000" }),
  unit(3, 2, { ItSystems: [uuid(7, "c")], ManagerUuid: uuid(1, "b") }),
];
const users = [
  user(1, 2, {
    Email: "p1@kommune.dk",
    PhoneNumber: "22334455",
    Landline: "99887766",
    RacfID: "R1",
    Person: { Name: "Person 1", Cpr: "0101011234", Uuid: uuid(1, "d") },
    Positions: [
      { Name: "Leder", OrgUnitUuid: uuid(2, "a"), StartDate: "2020-01-01" },
      { Name: "Leder", OrgUnitUuid: uuid(3, "a"), StartDate: "2021-05-01", StopDate: "2026-12-31" },
    ],
  }),
  user(2, 3, { IsRobot: true, ShortKey: "K2" }),
];

function seedStore(): void {
  for (const u of units) sb.store.put("orgunit", u);
  for (const u of users) sb.store.put("user", u);
}

describe("refresh strategies", () => {
  it("all three give the same actual state when FK matches the state file", async () => {
    seedStore();
    const state = stateFor(units, users);
    const full = await refresh("full", state);
    const hier = await refresh("hierarchy", state);
    const none = await refresh("none", state);
    expect(full.orgUnits.size).toBe(3);
    expect(full.users.size).toBe(2);
    expect(values(hier)).toBe(values(full));
    expect(values(none)).toBe(values(full));
    expect(full.users.get(uuid(1, "b"))?.value.Person.Cpr).toBe(hashCpr("0101011234", KEY));

    expect(full).toMatchObject({ mode: "full", observedAt: NOW.toISOString() });
    expect(hier).toMatchObject({ mode: "hierarchy", observedAt: NOW.toISOString() });
    expect(none).toMatchObject({ mode: "none", observedAt: null });
    expect(full.users.get(uuid(1, "b"))?.observed).toBe("all");
    expect(hier.orgUnits.get(uuid(2, "a"))?.observed).toEqual(HIERARCHY_OBSERVED_ORG_UNIT_FIELDS);
    expect(hier.users.get(uuid(1, "b"))?.observed).toEqual(HIERARCHY_OBSERVED_USER_FIELDS);
    expect(none.users.get(uuid(1, "b"))?.observed).toEqual([]);
  });

  it("none reads nothing from OS2sync", async () => {
    const c = client();
    await refresh("none", stateFor(units, users), c);
    expect(c.stats.requests).toBe(0);
    expect((await refresh("none", null, c)).orgUnits.size).toBe(0);
  });

  it("hierarchy sees changes to observed fields and takes the rest from state", async () => {
    seedStore();
    const state = stateFor(units, users);
    // Behind the tool's back: a rename, a new email, a moved position, a changed landline, changed dates.
    sb.store.put("orgunit", { ...units[1]!, Name: "Omdøbt", PhoneNumber: "00000000" });
    sb.store.put("user", {
      ...users[0]!,
      Email: "ny@kommune.dk",
      Landline: "11111111",
      Positions: [
        { Name: "Leder", OrgUnitUuid: uuid(2, "a"), StartDate: "2019-01-01" },
        { Name: "Konsulent", OrgUnitUuid: uuid(1, "a") },
      ],
    });
    const hier = await refresh("hierarchy", state);
    const full = await refresh("full", state);
    const hu = hier.users.get(uuid(1, "b"))!.value;
    expect(hier.orgUnits.get(uuid(2, "a"))!.value).toMatchObject({ Name: "Omdøbt", PhoneNumber: "11223344" });
    expect(full.orgUnits.get(uuid(2, "a"))!.value).toMatchObject({ Name: "Omdøbt", PhoneNumber: "00000000" });
    expect(hu.Email).toBe("ny@kommune.dk");
    expect(hu.Landline).toBe("99887766");
    expect(full.users.get(uuid(1, "b"))!.value.Landline).toBe("11111111");
    // Positions: unit and name observed; dates from state for the matching position, none for the new one.
    expect(hu.Positions).toEqual([
      { Name: "Konsulent", OrgUnitUuid: uuid(1, "a") },
      { Name: "Leder", OrgUnitUuid: uuid(2, "a"), StartDate: "2020-01-01" },
    ]);
    expect(full.users.get(uuid(1, "b"))!.value.Positions[1]).toEqual({ Name: "Leder", OrgUnitUuid: uuid(2, "a"), StartDate: "2019-01-01" });
  });

  it("treats deleted objects as absent, including users the hierarchy lists as inactive", async () => {
    seedStore();
    const state = stateFor(units, users);
    sb.store.setLifecycle("user", uuid(2, "b"), "inactive");
    sb.store.setLifecycle("orgunit", uuid(3, "a"), "inactive");
    await fetch(`${sb.origin}/_sandbox/hierarchy`, { method: "PUT", body: JSON.stringify({ includeInactiveUsers: true }) });
    try {
      const h = await client().hierarchy();
      expect(h.Users.find((u) => u.Uuid === uuid(2, "b"))?.Status).toBe(2);
      for (const mode of ["full", "hierarchy"] as const) {
        const a = await refresh(mode, state);
        expect([...a.users.keys()]).toEqual([uuid(1, "b")]);
        expect([...a.orgUnits.keys()]).toEqual([uuid(1, "a"), uuid(2, "a")]);
      }
    } finally {
      await fetch(`${sb.origin}/_sandbox/hierarchy`, { method: "PUT", body: JSON.stringify({ includeInactiveUsers: false }) });
    }
  });

  it("hierarchy reports objects missing from state with only the observed fields", async () => {
    seedStore();
    const a = await refresh("hierarchy", null);
    expect(a.orgUnits.get(uuid(2, "a"))!.value).toEqual({ Uuid: uuid(2, "a"), Name: "Enhed 2", ParentOrgUnitUuid: uuid(1, "a") });
    expect(a.users.get(uuid(2, "b"))!.value).toEqual({
      Uuid: uuid(2, "b"),
      UserId: "user2",
      Person: { Name: "Person 2" },
      Positions: [{ Name: "Medarbejder", OrgUnitUuid: uuid(3, "a") }],
    });
  });
});

describe("request cost for a municipality", () => {
  // 50 units / 500 users by default to keep the suite fast; STSORG_TEST_REFRESH_UNITS=400 gives the
  // medium size (400 units / 4,000 users) whose figures the README quotes.
  it("full costs two lists plus one GET per object; hierarchy a handful; none nothing", async () => {
    const nUnits = Number(process.env.STSORG_TEST_REFRESH_UNITS ?? 50);
    const nUsers = nUnits * 10;
    const allUnits: OrgUnitRegistration[] = [];
    const allUsers: UserRegistration[] = [];
    for (let i = 1; i <= nUnits; i++) allUnits.push(unit(i, i === 1 ? undefined : Math.ceil(i / 8), { Email: `e${i}@kommune.dk` }));
    for (let i = 1; i <= nUsers; i++) {
      allUsers.push(user(i, 1 + (i % nUnits), { Email: `u${i}@kommune.dk`, PhoneNumber: String(20000000 + i), Person: { Name: `Person ${i}`, Cpr: String(1000000000 + i) } }));
    }
    for (const u of allUnits) sb.store.put("orgunit", u);
    for (const u of allUsers) sb.store.put("user", u);
    const state = stateFor(allUnits, allUsers);
    const counts: Record<string, number> = {};
    const timings: Record<string, number> = {};
    const results: Record<string, string> = {};
    for (const mode of ["full", "hierarchy", "none"] as const) {
      sb.log.clear();
      const c = client();
      const progress = lines();
      const started = Date.now();
      const a = await refreshActual(mode, {
        client: c,
        state,
        now: () => NOW,
        concurrency: 8,
        progress,
        hashCpr: (cpr) => hashCpr(cpr, KEY),
      });
      timings[mode] = Date.now() - started;
      counts[mode] = sb.log.entries().length;
      expect(c.stats.requests).toBe(counts[mode]);
      results[mode] = values(a);
      c.close();
    }
    expect(counts.full).toBe(2 + nUnits + nUsers);
    expect(counts.hierarchy).toBeGreaterThanOrEqual(2);
    expect(counts.hierarchy).toBeLessThan(10);
    expect(counts.none).toBe(0);
    expect(results.hierarchy).toBe(results.full);
    expect(results.none).toBe(results.full);
    console.log(
      `refresh request counts for ${nUnits} units / ${nUsers} users: ` +
        `full=${counts.full} (${timings.full} ms), hierarchy=${counts.hierarchy} (${timings.hierarchy} ms), none=${counts.none}`,
    );
  });
});
