import { describe, expect, it } from "vitest";
import { computeDesiredState } from "../../../src/mapping/index.js";
import type { MoClassRef, MoOrgUnit, OrgUnitRegistration, SyncPolicy } from "../../../src/model/index.js";
import { ADMIN_TOP, AD, FKORG, OPUS, SnapshotBuilder, T, TOP, cls, policy, uid } from "./builder.js";

const A = uid(0xa);
const B = uid(0xb);
const C = uid(0xc);
const D = uid(0xd);

function units(b: SnapshotBuilder, overrides: Parameters<typeof policy>[0] = {}) {
  return computeDesiredState(b.build(), policy(overrides));
}

function unit(b: SnapshotBuilder, uuid: string, overrides: Parameters<typeof policy>[0] = {}): OrgUnitRegistration | undefined {
  return units(b, overrides).orgUnits.get(uuid);
}

describe("the top unit", () => {
  it("is written as adminTopUuid with no parent, and children point at it", () => {
    const b = new SnapshotBuilder().unit(A, "Skole", TOP);
    const d = units(b);
    expect(d.orgUnits.get(ADMIN_TOP)).toEqual({ Uuid: ADMIN_TOP, Name: "Kommune", Type: "DEPARTMENT" });
    expect(d.orgUnits.has(TOP)).toBe(false);
    expect(d.orgUnits.get(A)?.ParentOrgUnitUuid).toBe(ADMIN_TOP);
    expect(d.issues).toEqual([]);
  });

  it("keeps its own uuid when adminTopUuid equals it", () => {
    const b = new SnapshotBuilder().unit(A, "Skole", TOP);
    const d = units(b, { adminTopUuid: TOP });
    expect(d.orgUnits.get(TOP)?.ParentOrgUnitUuid).toBeUndefined();
    expect(d.orgUnits.get(A)?.ParentOrgUnitUuid).toBe(TOP);
  });

  it("is written even when its level is ignored, and wins over a uuid account", () => {
    const level = cls(uid(0x1e7), "Niveau");
    const b = new SnapshotBuilder();
    b.s.orgUnits[0]!.org_unit_level = level;
    b.itUser({ unit: TOP }, FKORG, uid(0xfff));
    const d = units(b, { ignoredUnitLevels: [level.uuid], uuidFromItSystems: [FKORG.name] });
    expect([...d.orgUnits.keys()]).toEqual([ADMIN_TOP]);
  });
});

describe("unit relevance", () => {
  it("leaves out units that are not current", () => {
    const b = new SnapshotBuilder()
      .unit(A, "Ended", TOP, { validity: { from: "2000-01-01", to: "2025-12-31" } })
      .unit(B, "Future", TOP, { validity: { from: "2026-02-01", to: null } })
      .unit(C, "Today", TOP, { validity: { from: "2026-01-15", to: "2026-01-15" } });
    expect([...units(b).orgUnits.keys()].sort()).toEqual([C, ADMIN_TOP].sort());
  });

  it("leaves out units not below the top unit", () => {
    const b = new SnapshotBuilder().unit(A, "Other root", null).unit(B, "Under other root", A).unit(C, "Orphan", D);
    expect([...units(b).orgUnits.keys()]).toEqual([ADMIN_TOP]);
  });

  it("leaves out whole filterOrgunitUuids subtrees, and their positions", () => {
    const b = new SnapshotBuilder().unit(A, "Filtered", TOP).unit(B, "Below filtered", A).unit(C, "Kept", TOP);
    b.person(uid(0x100), "Anna");
    b.engagement(uid(0x100), B, "Lærer");
    b.engagement(uid(0x100), C, "Pædagog");
    const d = units(b, { filterOrgunitUuids: [A.toUpperCase()] });
    expect([...d.orgUnits.keys()].sort()).toEqual([C, ADMIN_TOP].sort());
    expect(d.users.get(uid(0x100))?.Positions).toEqual([{ Name: "Pædagog", OrgUnitUuid: C }]);
  });

  it("with filterHierarchyNames keeps units in a listed hierarchy or with a uuid account, collapsing the rest", () => {
    const line = cls(uid(0x11), "linje", null, "Linjeorganisation");
    const safety = cls(uid(0x12), "sikkerhed", null, "Sikkerhedsorganisation");
    const b = new SnapshotBuilder()
      .unit(A, "In line", TOP, { org_unit_hierarchy_model: line })
      .unit(B, "Safety", TOP, { org_unit_hierarchy_model: safety })
      .unit(C, "Line below safety", B, { org_unit_hierarchy_model: line })
      .unit(D, "No hierarchy, FK account", TOP);
    b.itUser({ unit: D }, FKORG, uid(0xd00));
    b.person(uid(0x100), "Bo");
    b.engagement(uid(0x100), B, "Sikkerhedsrep");
    const d = units(b, { filterHierarchyNames: ["Linjeorganisation"], uuidFromItSystems: [FKORG.name] });
    expect([...d.orgUnits.keys()].sort()).toEqual([A, C, uid(0xd00), ADMIN_TOP].sort());
    // The unit outside the hierarchy is not written; its child in the hierarchy attaches to the top.
    expect(d.orgUnits.get(C)?.ParentOrgUnitUuid).toBe(ADMIN_TOP);
    // A position in a unit outside the filter is not a position.
    expect(d.users.size).toBe(0);
  });
});

describe("ignored unit levels and types", () => {
  const level = cls(uid(0x1e7), "Afdelingsniveau");
  const type = cls(uid(0x7e7), "Team");
  const cases: [string, Partial<SyncPolicy>, Partial<MoOrgUnit>][] = [
    ["level", { ignoredUnitLevels: [level.uuid] }, { org_unit_level: level }],
    ["type", { ignoredUnitTypes: [type.uuid] }, { unit_type: type }],
  ];
  it.each(cases)("a unit of an ignored %s is not written; children and positions attach to the nearest written ancestor", (_k, pol, opts) => {
    const b = new SnapshotBuilder()
      .unit(A, "Område", TOP)
      .unit(B, "Ignored", A, opts)
      .unit(C, "Also ignored", B, opts)
      .unit(D, "Team under ignored", C);
    b.person(uid(0x100), "Cia");
    b.engagement(uid(0x100), C, "Sekretær");
    const d = units(b, pol);
    expect([...d.orgUnits.keys()].sort()).toEqual([A, D, ADMIN_TOP].sort());
    expect(d.orgUnits.get(D)?.ParentOrgUnitUuid).toBe(A);
    expect(d.users.get(uid(0x100))?.Positions).toEqual([{ Name: "Sekretær", OrgUnitUuid: A }]);
    expect(d.issues).toEqual([]);
  });
});

describe("uuid override from an IT system", () => {
  it("writes the unit under its account's user_key and rewrites children, positions and manager references", () => {
    const fkA = "11111111-2222-4333-8444-555555555555";
    const fkPerson = "99999999-2222-4333-8444-555555555555";
    const b = new SnapshotBuilder().unit(A, "Forvaltning", TOP).unit(B, "Kontor", A);
    b.itUser({ unit: A }, OPUS, "not-used-for-uuid");
    b.itUser({ unit: A }, FKORG, fkA.toUpperCase());
    b.person(uid(0x100), "Dan").engagement(uid(0x100), A, "Chef");
    b.itUser({ person: uid(0x100) }, FKORG, fkPerson);
    b.manager(B, uid(0x100));
    const d = units(b, { uuidFromItSystems: [FKORG.name], syncManagers: true });
    expect(d.orgUnits.has(A)).toBe(false);
    expect(d.orgUnits.get(fkA)).toMatchObject({ Uuid: fkA, ParentOrgUnitUuid: ADMIN_TOP, ItSystems: [OPUS.uuid] });
    expect(d.orgUnits.get(B)?.ParentOrgUnitUuid).toBe(fkA);
    expect(d.orgUnits.get(B)?.ManagerUuid).toBe(fkPerson);
    expect(d.users.get(fkPerson)?.Positions).toEqual([{ Name: "Chef", OrgUnitUuid: fkA }]);
  });

  it("takes the first listed system, then the smallest user_key", () => {
    const other = { uuid: uid(0xf1), name: "Other FK", user_key: "OFK" };
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.itUser({ unit: A }, other, uid(0x3));
    b.itUser({ unit: A }, FKORG, uid(0x5));
    b.itUser({ unit: A }, FKORG, uid(0x4));
    const d = units(b, { uuidFromItSystems: [FKORG.name, other.name] });
    expect([...d.orgUnits.keys()].sort()).toEqual([uid(0x4), ADMIN_TOP].sort());
  });

  it("reports an account whose user_key is not a uuid and keeps the OS2mo uuid", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.itUser({ unit: A }, FKORG, "not-a-uuid");
    const d = units(b, { uuidFromItSystems: [FKORG.name] });
    expect(d.orgUnits.has(A)).toBe(true);
    expect(d.issues.map((i) => i.code)).toEqual(["invalid-uuid-override"]);
    expect(d.issues[0]!.objects[0]).toEqual({ kind: "orgunit", uuid: A, name: "A" });
  });
});

describe("unit fields", () => {
  it("Type is the policy's unitType", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    expect(unit(b, A, { unitType: "TEAM" })?.Type).toBe("TEAM");
  });

  it("ItSystems are the systems of the unit's accounts, without the uuid-override systems", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.itUser({ unit: A }, OPUS, "x");
    b.itUser({ unit: A }, AD, "y");
    b.itUser({ unit: A }, AD, "z");
    b.itUser({ unit: A }, FKORG, uid(0xabc));
    expect(unit(b, uid(0xabc), { uuidFromItSystems: [FKORG.name] })?.ItSystems).toEqual([OPUS.uuid, AD.uuid].sort());
    expect(unit(b, A)?.ItSystems).toEqual([OPUS.uuid, AD.uuid, FKORG.uuid].sort());
  });

  // One row per address scope in the reference table.
  const rows: [string, MoClassRef, keyof OrgUnitRegistration | undefined][] = [
    ["EMAIL", T.email, "Email"],
    ["EAN", T.ean, "Ean"],
    ["PHONE", T.phone, "PhoneNumber"],
    ["PHONE in landlineScopeClasses", T.landline, "Landline"],
    ["DAR user_key Contact", T.contact, "Contact"],
    ["DAR user_key Location", T.location, "Location"],
    ["other DAR", T.post, "Post"],
    ["PNUMBER", T.pnumber, "PNR"],
    ["TEXT ContactOpenHours", T.contactOpenHours, "ContactOpenHours"],
    ["TEXT PhoneOpenHours", T.phoneOpenHours, "PhoneOpenHours"],
    ["TEXT DtrId", T.dtrId, "DtrId"],
    ["WWW", T.www, "Url"],
    ["other TEXT", T.otherText, undefined],
    ["DtrId user_key outside TEXT scope", cls(uid(0x45), "DtrId", "MULTIFIELD_TEXT"), undefined],
  ];
  it.each(rows)("scope %s", (_label, type, field) => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.unitAddress(A, type, "  the value  ", { value: "raw" });
    const reg = unit(b, A, { landlineScopeClasses: [T.landline.uuid] })!;
    const { Uuid: _u, Name: _n, ParentOrgUnitUuid: _p, Type: _t, ...rest } = reg;
    expect(rest).toEqual(field ? { [field]: "the value" } : {});
  });

  it("a DAR address is shown by its readable name, never its DAR uuid", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.unitAddress(A, T.post, "", { name: null, value: uid(0xdada) });
    expect(unit(b, A)?.Post).toBeUndefined();
  });

  it("competing addresses: class list order first, then address uuid; unlisted classes after listed", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.unitAddress(A, T.email, "a@unlisted", { uuid: uid(0x1) });
    b.unitAddress(A, T.email2, "z@listed", { uuid: uid(0x3) });
    b.unitAddress(A, T.email2, "y@listed", { uuid: uid(0x2) });
    b.unitAddress(A, T.phone, "2", { uuid: uid(0x5) });
    b.unitAddress(A, T.phone, "1", { uuid: uid(0x6) });
    expect(unit(b, A, { emailScopeClasses: [T.email2.uuid] })).toMatchObject({ Email: "y@listed", PhoneNumber: "2" });
    expect(unit(b, A)?.Email).toBe("a@unlisted");
  });

  describe("KLE", () => {
    const k1 = uid(0x4b1);
    const k2 = uid(0x4b2);
    const k3 = uid(0x4b3);
    const build = () => {
      const b = new SnapshotBuilder().unit(A, "A", TOP);
      b.kle(A, k1, ["Udførende"]);
      b.kle(A, k2, ["Ansvarlig", "Udførende"]);
      b.kle(A, k3, ["Indsigt"]);
      b.kle(A, k1, ["Indsigt"]);
      return b;
    };
    it.each([
      ["default: every KLE number is a task", {}, { Tasks: [k1, k2, k3] }],
      ["enableKle false: none", { enableKle: false }, {}],
      [
        "useContactForTasks: by aspect, a KLE with two aspects counts for each",
        { useContactForTasks: true },
        { Tasks: [k1, k2], ContactForTasks: [k2] },
      ],
    ] as const)("%s", (_l, pol, expected) => {
      const reg = unit(build(), A, pol)!;
      expect({ Tasks: reg.Tasks, ContactForTasks: reg.ContactForTasks }).toEqual({
        Tasks: undefined,
        ContactForTasks: undefined,
        ...expected,
      });
    });
  });

  describe("managers", () => {
    it("only with syncManagers; the first non-vacant manager by manager uuid", () => {
      const b = new SnapshotBuilder().unit(A, "A", TOP);
      b.person(uid(0x101), "First").person(uid(0x102), "Second");
      b.manager(A, null, { uuid: uid(0x1) });
      b.manager(A, uid(0x102), { uuid: uid(0x3) });
      b.manager(A, uid(0x101), { uuid: uid(0x2) });
      expect(unit(b, A)?.ManagerUuid).toBeUndefined();
      expect(unit(b, A, { syncManagers: true })?.ManagerUuid).toBe(uid(0x101));
    });
    it("a unit whose only manager is vacant has none", () => {
      const b = new SnapshotBuilder().unit(A, "A", TOP);
      b.manager(A, null);
      expect(unit(b, A, { syncManagers: true })?.ManagerUuid).toBeUndefined();
    });
  });

  it("texts are trimmed and cut to truncateLength; uuids are never cut", () => {
    const b = new SnapshotBuilder().unit(A, "  A very long unit name  ", TOP);
    b.unitAddress(A, T.email, "someone@example.org");
    const reg = unit(b, A, { truncateLength: 6 })!;
    expect(reg).toMatchObject({ Uuid: A, Name: "A very", ParentOrgUnitUuid: ADMIN_TOP, Email: "someon" });
  });
});
