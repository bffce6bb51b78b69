import type {
  ActualState,
  Attributes,
  ConsistencyIssue,
  DesiredState,
  FieldName,
  ObjectKind,
  Observed,
  OrgUnitRegistration,
  StateFile,
  StateResource,
  UserRegistration,
} from "../../../src/model/index.js";
import { addressOf, canonicalJson, hashCpr, normaliseOrgUnit, normaliseUser, sha256Hex } from "../../../src/model/index.js";
import type { PlanInput, PlanPolicy } from "../../../src/plan/index.js";

/** Builders for plan inputs, and one fixed scenario that exercises every action and both kinds of drift. */

export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, "0")}`;
export const TOP = uuid(1);
export const CPR_KEY = "test-cpr-key";

export function unit(n: number, name: string, parent: string | undefined, extra: Partial<OrgUnitRegistration> = {}): OrgUnitRegistration {
  return normaliseOrgUnit({ Uuid: uuid(n), Name: name, ParentOrgUnitUuid: parent, ...extra });
}

export function user(
  n: number,
  userId: string,
  person: string,
  positions: { name: string; unit: string; start?: string; stop?: string }[],
  extra: Partial<UserRegistration> & { cpr?: string } = {},
): UserRegistration {
  const { cpr, ...rest } = extra;
  return normaliseUser({
    Uuid: uuid(n),
    UserId: userId,
    Positions: positions.map((p) => ({ Name: p.name, OrgUnitUuid: p.unit, StartDate: p.start, StopDate: p.stop })),
    Person: { Name: person, Cpr: cpr },
    ...rest,
  });
}

export function desiredOf(units: OrgUnitRegistration[], users: UserRegistration[], issues: ConsistencyIssue[] = []): DesiredState {
  return {
    orgUnits: new Map(units.map((u) => [u.Uuid, u])),
    users: new Map(users.map((u) => [u.Uuid, u])),
    issues,
  };
}

export function actualOf(
  units: OrgUnitRegistration[],
  users: UserRegistration[],
  opts: { mode?: ActualState["mode"]; observed?: Map<string, FieldName[]> } = {},
): ActualState {
  const obs = <T>(v: T & { Uuid: string }): Observed<T> => ({ value: v, observed: opts.observed?.get(v.Uuid) ?? "all" });
  return {
    mode: opts.mode ?? "full",
    observedAt: opts.mode === "none" ? null : "2026-03-02T08:00:00.000Z",
    orgUnits: new Map(units.map((u) => [u.Uuid, obs(u)])),
    users: new Map(users.map((u) => [u.Uuid, obs(u)])),
  };
}

/** A state resource as apply records it: CPR hashed under `cprKey`. */
export function resource(kind: ObjectKind, reg: Attributes, cprKey: string | null = CPR_KEY): StateResource {
  let attributes: Attributes = reg;
  if (kind === "user") {
    const u = reg as UserRegistration;
    const person = { ...u.Person };
    if (person.Cpr !== undefined) {
      if (cprKey === null) delete person.Cpr;
      else person.Cpr = hashCpr(person.Cpr, cprKey);
    }
    attributes = { ...u, Person: person };
  }
  const name = kind === "orgunit" ? (reg as OrgUnitRegistration).Name : `${(reg as UserRegistration).Person.Name} (${(reg as UserRegistration).UserId})`;
  return {
    address: addressOf(kind, reg.Uuid),
    kind,
    uuid: reg.Uuid,
    name,
    attributes,
    attributes_sha256: sha256Hex(canonicalJson(attributes)),
    applied_at: "2026-03-01T12:00:00.000Z",
    confirmed: true,
    origin: "created",
  };
}

export function stateOf(resources: StateResource[]): StateFile {
  return {
    format_version: 1,
    lineage: "9b2e4c1a-5f6d-4e7a-8b9c-0d1e2f3a4b5c",
    serial: 7,
    environment: "test",
    cvr: "29189846",
    admin_top_uuid: TOP,
    tool_version: "0.1.0",
    resources: [...resources].sort((a, b) => (a.address < b.address ? -1 : 1)),
    pending: [],
  };
}

export function policyOf(overrides: Partial<PlanPolicy> = {}): PlanPolicy {
  return {
    unmanagedFields: ["ShortKey", "LOSShortName", "LOSId", "PayoutUnitUuid", "SOR", "ContactPlaces"],
    prune: "managed",
    protectedUnits: [],
    adminTopUuid: TOP,
    maxDeletes: { count: 50, percent: 50 },
    allowDeletes: null,
    targets: [],
    refreshOnly: false,
    cprHashKey: CPR_KEY,
    ...overrides,
  };
}

export const META: PlanInput["meta"] = {
  toolVersion: "0.1.0",
  createdAt: "2026-03-02T08:00:05.000Z",
  environment: { name: "test", stage: "test", cvr: "29189846", admin_top_uuid: TOP },
  manifestSha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};

export function inputOf(
  desired: DesiredState,
  actual: ActualState,
  state: StateFile | null,
  policy: Partial<PlanPolicy> = {},
): PlanInput {
  return { desired, actual, state, policy: policyOf(policy), meta: META };
}

// The fixed scenario: a small municipality where every kind of plan entry occurs once or twice.
export const CPR = {
  anna: "0101801234",
  bo: "0202902345",
  carl: "0303703456",
  dorte: "0404804567",
  erik: "0505855678",
  erikCorrected: "0505855679",
};

const LONG_HOURS_OLD = "Mandag til onsdag 8.00-15.00, torsdag 10.00-17.30, fredag 8.00-13.00. Lukket på helligdage.";
const LONG_HOURS_NEW = "Mandag til onsdag 8.00-15.00, torsdag 10.00-18.00, fredag 8.00-12.00. Lukket på helligdage.";

export function scenario(): { input: PlanInput; desired: DesiredState } {
  const top = unit(1, "Aarhus Kommune", undefined);
  const borgerservice = unit(10, "Borgerservice", TOP, { Email: "borgerservice@example.dk", Tasks: [uuid(901), uuid(902)] });
  const teknikOld = unit(11, "Teknik og Miljø", TOP, {
    PhoneNumber: "89401000",
    ContactOpenHours: LONG_HOURS_OLD,
    Tasks: [uuid(903), uuid(901)],
    ShortKey: "TM01",
  });
  const teknikNew = unit(11, "Teknik & Miljø", TOP, {
    PhoneNumber: "89401100",
    ContactOpenHours: LONG_HOURS_NEW,
    Tasks: [uuid(901), uuid(903), uuid(904)],
  });
  const vejOgPark = unit(12, "Vej og Park", uuid(11), { Email: "vejogpark@example.dk" });
  const groenne = unit(13, "Grønne områder", uuid(12));
  const gammel = unit(14, "Gammel afdeling", TOP);
  const gammelTeam = unit(15, "Gammelt team", uuid(14), { Type: "TEAM" });
  const jobcenter = unit(16, "Jobcenter", TOP, { PhoneNumber: "89402000" });
  const kulturState = unit(17, "Kultur", TOP, { PhoneNumber: "89403000" });
  const kulturFk = unit(17, "Kultur", TOP, { PhoneNumber: "89403999" });
  const bibliotek = unit(18, "Bibliotek", uuid(17));
  const oekonomi = unit(19, "Økonomi", TOP, { Email: "oekonomi@example.dk" });
  const loen = unit(20, "Løn", uuid(19));

  const annaOld = user(100, "ahan", "Anna Hansen", [{ name: "Sagsbehandler", unit: uuid(10), start: "2019-08-01" }], {
    Email: "ahan@example.dk",
    cpr: CPR.anna,
  });
  const annaNew = user(
    100,
    "ahan",
    "Anna Hansen",
    [
      { name: "Sagsbehandler", unit: uuid(10), start: "2019-08-01" },
      { name: "Teamleder", unit: uuid(12), start: "2026-04-01" },
    ],
    { Email: "anna.hansen@example.dk", cpr: CPR.anna },
  );
  const bo = user(101, "bjen", "Bo Jensen", [{ name: "Gartner", unit: uuid(13), start: "2026-04-01" }], { cpr: CPR.bo });
  const carl = user(102, "colsen", "Carl Olsen", [{ name: "Konsulent", unit: uuid(14), start: "2010-01-01", stop: "2026-02-28" }], {
    cpr: CPR.carl,
  });
  const dorte = user(
    103,
    "dmad",
    "Dorte Madsen",
    [
      { name: "Jobkonsulent", unit: uuid(16), start: "2015-03-01" },
      { name: "Mentor", unit: uuid(10), start: "2020-01-01" },
    ],
    { cpr: CPR.dorte, PhoneNumber: "89402010" },
  );
  const erikOld = user(104, "enie", "Erik Nielsen", [{ name: "Bibliotekar", unit: uuid(18), start: "2001-09-01" }], { cpr: CPR.erik });
  const erikNew = user(104, "enie", "Erik Nielsen", [{ name: "Bibliotekar", unit: uuid(18), start: "2001-09-01" }], {
    cpr: CPR.erikCorrected,
  });

  const gitte = user(105, "gber", "Gitte Berg", [{ name: "Lønkonsulent", unit: uuid(20), start: "2012-05-01" }], {
    cpr: "0606866789",
  });

  const desired = desiredOf(
    [borgerservice, teknikNew, vejOgPark, groenne, jobcenter, kulturState, bibliotek, oekonomi, loen],
    [annaNew, bo, dorte, erikNew, gitte],
    [
      {
        severity: "error",
        code: "duplicate-user-id",
        message: 'UserId "fhol" is used by two people; neither is exported.',
        objects: [
          { kind: "person", uuid: "6a1f0c2e-8d4b-4f1a-9e3c-2b7d5a8c9e01", name: "Frida Holm" },
          { kind: "person", uuid: "6a1f0c2e-8d4b-4f1a-9e3c-2b7d5a8c9e02", name: "Frederik Holm" },
        ],
        hint: "Give one of them another Active Directory account in OS2mo.",
      },
      {
        severity: "warning",
        code: "unit-without-address",
        message: 'orgunit "Grønne områder" has no email or phone number.',
        objects: [{ kind: "orgunit", uuid: "7b2e1d3f-9e5c-4a2b-8f4d-3c8e6b9d0f12", name: "Grønne områder" }],
        fk: [{ kind: "orgunit", uuid: uuid(13) }],
      },
    ],
  );
  // Dorte's positions arrive from FK in another order; a set comparison must not see a change.
  const dorteFk = { ...dorte, Positions: [...dorte.Positions].reverse() };
  const actual = actualOf(
    [top, borgerservice, { ...teknikOld }, gammel, gammelTeam, jobcenter, kulturFk, oekonomi, loen],
    [annaOld, carl, dorteFk, erikOld, gitte],
  );
  const state = stateOf([
    resource("orgunit", borgerservice),
    resource("orgunit", teknikOld),
    resource("orgunit", gammel),
    resource("orgunit", gammelTeam),
    resource("orgunit", kulturState),
    resource("orgunit", bibliotek),
    resource("user", annaOld),
    resource("user", carl),
    resource("user", erikOld),
    resource("orgunit", oekonomi),
    resource("orgunit", loen),
    resource("user", gitte),
  ]);
  return { input: inputOf(desired, actual, state, { maxDeletes: { count: 2, percent: 50 } }), desired };
}

/**
 * A municipality of `units` units (a tree ten wide) and `users` users, as the first plan against an empty
 * FK sees it: every object a create. Deterministic.
 */
export function largeFirstPlan(units: number, users: number): PlanInput {
  const us: OrgUnitRegistration[] = [];
  for (let i = 0; i < units; i++) {
    const parent = i === 0 ? TOP : uuid(10_000 + Math.floor((i - 1) / 10));
    us.push(unit(10_000 + i, `Enhed ${i} for borgerrettede opgaver`, parent, { Email: `enhed${i}@example.dk`, PhoneNumber: `8940${String(i).padStart(4, "0")}` }));
  }
  const people: UserRegistration[] = [];
  for (let i = 0; i < users; i++) {
    people.push(
      user(1_000_000 + i, `u${i}`, `Medarbejder Nummer ${i}`, [{ name: "Sagsbehandler", unit: uuid(10_000 + (i % units)), start: "2020-01-01" }], {
        Email: `u${i}@example.dk`,
        cpr: String(1_000_000_000 + i),
      }),
    );
  }
  return inputOf(desiredOf(us, people), actualOf([], []), null);
}
