import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RemoteError } from "../../../src/errors/index.js";
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
  type UserRegistration,
} from "../../../src/model/index.js";
import { startFkSandbox, type FkSandbox } from "../../../src/sandbox/fk/index.js";
import { FkStore } from "../../../src/sandbox/fkstore/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { FK_OBSERVED_ORG_UNIT_FIELDS, FkClient, fkObservedUserFields, loadFkQuery, refreshFromFk, type FkRefreshDeps } from "../../../src/targets/fk/index.js";
import { Os2syncClient, refreshActual } from "../../../src/targets/os2sync/index.js";
import { clientFor, CVR, lines, unit, user, uuid } from "./helpers.js";

const KEY = "test-cpr-key";
const NOW = new Date("2025-03-01T12:00:00Z");
const USERS_OP = loadFkQuery("users").operation;
const UNITS_OP = loadFkQuery("org-units").operation;

let store: FkStore;
let fk: FkSandbox;
let os2sync: Os2syncSandbox;
let client: FkClient;

beforeAll(async () => {
  store = new FkStore();
  fk = await startFkSandbox({ store, cvr: CVR });
  os2sync = await startOs2syncSandbox({ store, cvr: CVR, queueDelayMs: 0, queueIntervalMs: 10 });
  client = clientFor(fk);
});
afterAll(async () => {
  client.close();
  await Promise.all([fk.stop(), os2sync.stop()]);
});
beforeEach(() => {
  store.reset();
  fk.faults.clear();
  fk.log.clear();
  fk.agreement.seNavn = true;
  fk.agreement.seCpr = true;
});

/** Everything OS2sync's DTOs can carry, in both kinds, dates in summer and winter time. */
function richUnits(): OrgUnitRegistration[] {
  return [
    unit(1, undefined, { Type: "DEPARTMENT", ShortKey: "TOP", Email: "top@kommune.dk", Ean: "5798000000001", Tasks: [uuid(9, "c")] }),
    unit(2, 1, {
      Type: "TEAM",
      ShortKey: "K2",
      PayoutUnitUuid: uuid(1, "a"),
      ManagerUuid: uuid(1, "b"),
      PhoneNumber: "12345678",
      Email: "enhed2@kommune.dk",
      Location: "Rådhuset, 2. sal",
      LOSShortName: "E2",
      LOSId: "4711",
      ContactOpenHours: "8-15",
      DtrId: "DTR-2",
      EmailRemarks: "Svar inden 3 dage",
      Contact: "Ring først",
      PostReturn: "Postboks 1, 1000 By",
      PhoneOpenHours: "9-12",
      Ean: "5798000000002",
      Url: "https://kommune.dk/enhed2",
      Landline: "87654321",
      Post: "Torvet 1, 1000 By",
      FOA: "FOA-1",
      PNR: "1000000001",
      SOR: "123456789012345",
      Tasks: [uuid(1, "c"), uuid(2, "c")],
      ItSystems: [uuid(1, "d"), uuid(2, "d")],
      ContactForTasks: [uuid(3, "c")],
      ContactPlaces: [uuid(1, "a")],
    }),
    unit(3, 2, { Type: "DEPARTMENT" }),
  ];
}

function richUsers(): UserRegistration[] {
  return [
    user(1, 2, {
      ShortKey: "U1",
      Email: "u1@kommune.dk",
      PhoneNumber: "11111111",
      Landline: "22222222",
      RacfID: "RACF1",
      Location: "Kontor 12",
      FMKID: "FMK-1",
      Positions: [
        { Name: "Leder", OrgUnitUuid: uuid(2, "a"), StartDate: "2024-07-01" },
        { Name: "Konsulent", OrgUnitUuid: uuid(3, "a"), StartDate: "2025-01-15", StopDate: "2025-12-31" },
      ],
      Person: { Name: "Anne Andersen", Cpr: "0101701234" },
    }),
    user(2, 3, { IsRobot: true, Person: { Name: "Robot Rasmus" } }),
    user(3, 3, { Person: { Name: "Bo Berg", Cpr: "0202702345" } }),
  ];
}

function seed(units: OrgUnitRegistration[], users: UserRegistration[]): void {
  for (const u of units) store.put("orgunit", u);
  for (const u of users) store.put("user", u);
}

function stateFor(units: OrgUnitRegistration[], users: UserRegistration[]): StateFile {
  const res = (kind: "orgunit" | "user", attributes: OrgUnitRegistration | UserRegistration, name: string) => ({
    address: addressOf(kind, attributes.Uuid),
    kind,
    uuid: attributes.Uuid,
    name,
    attributes,
    attributes_sha256: sha256Hex(canonicalJson(attributes)),
    applied_at: "2025-02-01T00:00:00Z",
    confirmed: true,
    origin: "created" as const,
  });
  return {
    format_version: STATE_FORMAT_VERSION,
    lineage: "3f1c2a7e-0000-4000-8000-000000000001",
    serial: 1,
    environment: "test",
    cvr: CVR,
    admin_top_uuid: uuid(1, "a"),
    tool_version: "0.1.0",
    resources: [
      ...units.map((u) => res("orgunit", normaliseOrgUnit(u as never), u.Name)),
      ...users.map((u) => {
        const n = normaliseUser(u as never);
        if (n.Person.Cpr) n.Person.Cpr = hashCpr(n.Person.Cpr, KEY);
        return res("user", n, n.UserId);
      }),
    ].sort((a, b) => (a.address < b.address ? -1 : 1)),
    pending: [],
  };
}

function values(a: ActualState): string {
  return canonicalJson({ orgUnits: [...a.orgUnits].map(([k, v]) => [k, v.value]), users: [...a.users].map(([k, v]) => [k, v.value]) });
}

function fkRefresh(extra: Partial<FkRefreshDeps> = {}): Promise<ActualState> {
  return refreshFromFk({ client, now: () => NOW, syncCpr: true, hashCpr: (c) => hashCpr(c, KEY), read: { sleep: async () => {} }, ...extra });
}

async function fullRefresh(state: StateFile | null): Promise<ActualState> {
  const c = new Os2syncClient({ url: os2sync.url, cvr: CVR, retryBaseMs: 5 });
  try {
    return await refreshActual("full", { client: c, state, now: () => NOW, concurrency: 8, hashCpr: (x) => hashCpr(x, KEY) });
  } finally {
    c.close();
  }
}

describe("refreshFromFk", () => {
  it("reads every field FK's schema carries exactly as OS2sync's GET gives it, the rest from state", async () => {
    seed(richUnits(), richUsers());
    const state = stateFor(richUnits(), richUsers());
    const viaFk = await fkRefresh({ state });
    const viaOs2sync = await fullRefresh(state);
    expect(viaFk.mode).toBe("fk");
    expect(viaFk.observedAt).toBe(NOW.toISOString());
    expect(values(viaFk)).toBe(values(viaOs2sync));
    expect(viaFk.orgUnits.get(uuid(2, "a"))!.observed).toEqual(FK_OBSERVED_ORG_UNIT_FIELDS);
    expect(viaFk.users.get(uuid(1, "b"))!.observed).toEqual(fkObservedUserFields(true));
    // CPR numbers arrive in clear and leave only as the keyed hash.
    expect(viaFk.users.get(uuid(1, "b"))!.value.Person.Cpr).toBe(hashCpr("0101701234", KEY));
  });

  it("sees a change made in FK to a field OS2sync's hierarchy job cannot see", async () => {
    seed(richUnits(), richUsers());
    const changed = richUsers()[0]!;
    changed.Positions[1]!.StopDate = "2025-06-30";
    changed.FMKID = "FMK-NEW";
    store.put("user", changed);
    const u = (await fkRefresh()).users.get(uuid(1, "b"))!.value;
    expect(u.Positions.find((p) => p.Name === "Konsulent")!.StopDate).toBe("2025-06-30");
    expect(u.FMKID).toBe("FMK-NEW");
  });

  it("without a state file leaves the fields FK's schema lacks empty and says they were not observed", async () => {
    seed(richUnits(), richUsers());
    const a = await fkRefresh();
    const team = a.orgUnits.get(uuid(2, "a"))!;
    expect(team.value.Type).toBeUndefined();
    expect(team.value.PayoutUnitUuid).toBeUndefined();
    expect(team.observed).not.toContain("Type");
    expect(team.observed).toContain("ManagerUuid");
    expect(team.value.ManagerUuid).toBe(uuid(1, "b"));
  });

  it("does not ask for CPR numbers unless they are synchronised", async () => {
    seed(richUnits(), richUsers());
    fk.agreement.seCpr = false; // a CPR asked for would now draw a warning
    const progress = lines();
    const a = await fkRefresh({ syncCpr: false, progress });
    expect(a.users.get(uuid(1, "b"))!.value.Person.Cpr).toBeUndefined();
    expect(a.users.get(uuid(1, "b"))!.observed).not.toContain("Person.Cpr");
    expect(progress.text()).not.toContain("warning");
  });

  it("sees a write queued through the OS2sync sandbox once the queue has applied it, not before", async () => {
    seed(richUnits(), []);
    const slow = await startOs2syncSandbox({ store, cvr: CVR, queueDelayMs: 60_000 });
    try {
      const os = new Os2syncClient({ url: slow.url, cvr: CVR });
      await os.upsertUser(user(7, 3, { Person: { Name: "Ny Medarbejder" } }));
      os.close();
      expect((await fkRefresh()).users.has(uuid(7, "b"))).toBe(false);
      slow.flush();
      expect((await fkRefresh()).users.get(uuid(7, "b"))!.value.Person.Name).toBe("Ny Medarbejder");
    } finally {
      await slow.stop();
    }
  });
});

describe("paging", () => {
  function many(n: number): void {
    store.put("orgunit", unit(1));
    for (let i = 1; i <= n; i++) store.put("user", user(i, 1));
  }

  it("reads 1,200 users in three pages of up to 500", async () => {
    many(1200);
    const a = await fkRefresh();
    expect(a.users.size).toBe(1200);
    const pages = fk.log.entries().filter((e) => e.operation === USERS_OP);
    expect(pages.map((e) => e.first)).toEqual([500, 500, 500]);
    expect(pages.every((e) => e.transactionId && /^[0-9a-f-]{36}$/.test(e.transactionId))).toBe(true);
    expect(new Set(pages.map((e) => e.transactionId)).size).toBe(3);
  });

  it("keeps reading after short pages until FK says there is no next page", async () => {
    many(1200);
    fk.faults.set({ maxItemsPerPage: 170 });
    const a = await fkRefresh();
    expect(a.users.size).toBe(1200);
    expect(fk.log.count({ operation: USERS_OP })).toBe(Math.ceil(1200 / 170));
  });

  it("after a 408 reads again from the start with smaller pages", async () => {
    many(1200);
    fk.faults.set({ timeoutAbovePageSize: 250 });
    const progress = lines();
    const a = await fkRefresh({ progress });
    expect(a.users.size).toBe(1200);
    const pages = fk.log.entries().filter((e) => e.operation === USERS_OP);
    expect(pages.map((e) => [e.first, e.status])).toEqual([[500, 408], [250, 200], [250, 200], [250, 200], [250, 200], [250, 200]]);
    expect(progress.text()).toMatch(/took too long for a page of 500 users \(408\); reading them again from the start, 250 per page/);
  });

  it("after a 503 mid-read waits with backoff and reads again from the start", async () => {
    many(1200);
    fk.faults.set({ unavailable: { after: 3, count: 2 } });
    const waits: number[] = [];
    const progress = lines();
    const a = await fkRefresh({ progress, read: { sleep: async (ms) => void waits.push(ms), random: () => 1, retryBaseMs: 100 } });
    expect(a.users.size).toBe(1200);
    expect(waits).toEqual([100, 200]);
    expect(fk.log.count({ status: 503 })).toBe(2);
    expect(progress.text()).toMatch(/unavailable \(HTTP 503\); reading (users|org units) again from the start/);
  });

  it("gives up with a clear error when FK stays unavailable", async () => {
    many(3);
    fk.faults.set({ unavailable: { count: 100 } });
    const err = await fkRefresh({ read: { sleep: async () => {}, retries: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toMatch(/could not be read .* after 3 attempts; last: HTTP 503/);
    expect((err as RemoteError).hint).toMatch(/synchronised/);
  });
});

describe("FK's errors and warnings", () => {
  it("reports a warning FK repeats for every person once, and takes the withheld names from state", async () => {
    store.put("orgunit", unit(1));
    const users = Array.from({ length: 600 }, (_, i) => user(i + 1, 1));
    for (const u of users) store.put("user", u);
    fk.agreement.seNavn = false;
    const progress = lines();
    const a = await fkRefresh({ progress, state: stateFor([unit(1)], users) });
    const warningLines = progress.text().split("\n").filter((l) => l.includes("warning"));
    expect(warningLines).toHaveLength(1);
    expect(warningLines[0]).toMatch(/PersonDataConstraint\), 600 time\(s\): .*SeNavn/);
    const u = a.users.get(uuid(5, "b"))!;
    expect(u.value.Person.Name).toBe("Person 5");
    expect(u.observed).not.toContain("Person.Name");
  });

  it("turns an FK error answered with HTTP 200 into a RemoteError naming it", async () => {
    const err = await client.query("Broken", "query Broken { brugerListe(cvr: \"1\") { nope } }", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toMatch(/FK Organisation answered Broken with 2 errors: .*ValidationError/);
  });

  it("reads org units and users each with their own query", async () => {
    store.put("orgunit", unit(1));
    await fkRefresh();
    expect(fk.log.count({ operation: UNITS_OP })).toBe(1);
    expect(fk.log.count({ operation: USERS_OP })).toBe(1);
  });
});
