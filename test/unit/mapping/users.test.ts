import { describe, expect, it } from "vitest";
import { computeDesiredState } from "../../../src/mapping/index.js";
import type { SyncPolicy, UserRegistration } from "../../../src/model/index.js";
import { AD, ADMIN_TOP, FKORG, OPUS, PUBLIC, SECRET, SnapshotBuilder, T, TOP, cls, policy, uid } from "./builder.js";

const A = uid(0xa);
const B = uid(0xb);
const OUT = uid(0xe0);
const P = uid(0x100);

function users(b: SnapshotBuilder, overrides: Partial<SyncPolicy> = {}): Map<string, UserRegistration> {
  return computeDesiredState(b.build(), policy(overrides)).users;
}

/** A municipality with units A and B under the top, and a unit outside the exported tree. */
function base(): SnapshotBuilder {
  return new SnapshotBuilder().unit(A, "Skole", TOP).unit(B, "Børnehave", TOP).unit(OUT, "Anden kommune", null);
}

describe("which persons become FK users", () => {
  it("a person with engagements inside and outside the tree gets only the inside positions", () => {
    const b = base().person(P, "Eva");
    b.engagement(P, A, "Lærer");
    b.engagement(P, OUT, "Konsulent");
    expect(users(b).get(P)).toEqual({
      Uuid: P,
      UserId: P,
      Positions: [{ Name: "Lærer", OrgUnitUuid: A }],
      Person: { Name: "Eva" },
    });
  });

  it("a person with engagements only outside the tree is not desired", () => {
    const b = base().person(P, "Eva");
    b.engagement(P, OUT, "Konsulent");
    expect(users(b).size).toBe(0);
  });

  it("ended engagements give no position", () => {
    const b = base().person(P, "Eva");
    b.engagement(P, A, "Lærer", { validity: { from: "2020-01-01", to: "2026-01-14" } });
    expect(users(b).size).toBe(0);
  });

  it("a person whose only engagements start in the future is written, with StartDate", () => {
    const b = base().person(P, "Fie");
    b.engagement(P, A, "Lærer", { validity: { from: "2026-03-01", to: null } });
    b.engagement(P, B, "Pædagog", { validity: { from: "2026-01-15", to: null } });
    expect(users(b).get(P)?.Positions).toEqual([
      { Name: "Lærer", OrgUnitUuid: A, StartDate: "2026-03-01" },
      { Name: "Pædagog", OrgUnitUuid: B },
    ]);
  });

  it.each([
    ["without filterUsersByItSystem, UserId falls back to the FK uuid", false, true],
    ["with filterUsersByItSystem, the person is not desired", true, false],
  ])("a person without an AD account: %s", (_l, filter, desired) => {
    const b = base().person(P, "Gry");
    b.engagement(P, A, "Lærer");
    b.itUser({ person: P }, OPUS, "opus-1");
    const u = users(b, { filterUsersByItSystem: filter }).get(P);
    if (desired) expect(u?.UserId).toBe(P);
    else expect(u).toBeUndefined();
  });
});

describe("account groups", () => {
  it("two AD accounts tied to two engagements give two FK users, each with its own position", () => {
    const b = base().person(P, "Hans");
    const e1 = b.engagement(P, A, "Lærer");
    const e2 = b.engagement(P, B, "Pædagog");
    b.itUser({ person: P }, AD, "hans1", { engagement: e1 });
    b.itUser({ person: P }, AD, "hans2", { engagement: e2 });
    b.itUser({ person: P }, FKORG, uid(0xf1), { engagement: e1 });
    b.itUser({ person: P }, FKORG, uid(0xf2), { engagement: e2 });
    const u = users(b, { uuidFromItSystems: [FKORG.name] });
    expect([...u.keys()]).toEqual([uid(0xf1), uid(0xf2)]);
    expect(u.get(uid(0xf1))).toMatchObject({ UserId: "hans1", Positions: [{ Name: "Lærer", OrgUnitUuid: A }] });
    expect(u.get(uid(0xf2))).toMatchObject({ UserId: "hans2", Positions: [{ Name: "Pædagog", OrgUnitUuid: B }] });
  });

  it("accounts not tied to an engagement give one user with every relevant engagement", () => {
    const b = base().person(P, "Ida");
    b.engagement(P, A, "Lærer");
    b.engagement(P, B, "Pædagog");
    b.itUser({ person: P }, AD, "ida");
    const u = users(b);
    expect([...u.keys()]).toEqual([P]);
    expect(u.get(P)).toMatchObject({ UserId: "ida" });
    expect(u.get(P)?.Positions).toHaveLength(2);
  });

  it("untied accounts next to tied ones form their own group with every engagement, as in the exporter", () => {
    const b = base().person(P, "Ivan");
    const e1 = b.engagement(P, A, "Lærer");
    b.engagement(P, B, "Pædagog");
    b.itUser({ person: P }, AD, "ivan1", { engagement: e1 });
    b.itUser({ person: P }, FKORG, uid(0xf1), { engagement: e1 });
    b.itUser({ person: P }, AD, "ivan");
    const u = users(b, { uuidFromItSystems: [FKORG.name] });
    expect([...u.keys()].sort()).toEqual([P, uid(0xf1)].sort());
    expect(u.get(uid(0xf1))).toMatchObject({ UserId: "ivan1", Positions: [{ Name: "Lærer", OrgUnitUuid: A }] });
    expect(u.get(P)).toMatchObject({ UserId: "ivan" });
    expect(u.get(P)?.Positions).toHaveLength(2);
  });

  it("a group tied to an engagement outside the tree is not desired", () => {
    const b = base().person(P, "Jens");
    const e = b.engagement(P, OUT, "Konsulent");
    b.engagement(P, A, "Lærer");
    b.itUser({ person: P }, AD, "jens", { engagement: e });
    expect(users(b).size).toBe(0);
  });

  it("UserId comes from the first listed system with an account, ties by user_key", () => {
    const sys2 = { uuid: uid(0xad2), name: "Novell", user_key: "Novell" };
    const b = base().person(P, "Kim");
    b.engagement(P, A, "Lærer");
    b.itUser({ person: P }, sys2, "novell");
    b.itUser({ person: P }, AD, "kim-b");
    b.itUser({ person: P }, AD, "kim-a");
    expect(users(b, { userKeyItSystemNames: ["Active Directory", "Novell"] }).get(P)?.UserId).toBe("kim-a");
    expect(users(b, { userKeyItSystemNames: ["Novell", "Active Directory"] }).get(P)?.UserId).toBe("novell");
  });
});

describe("user fields", () => {
  it("Person.Name is the nickname only with useNickname and when it is not empty", () => {
    const b = base().person(P, "Lars Larsen", { nickname: "Lasse" }).person(uid(0x101), "Mia", { nickname: "" });
    b.engagement(P, A, "Lærer");
    b.engagement(uid(0x101), A, "Lærer");
    expect(users(b).get(P)?.Person.Name).toBe("Lars Larsen");
    const nick = users(b, { useNickname: true });
    expect(nick.get(P)?.Person.Name).toBe("Lasse");
    expect(nick.get(uid(0x101))?.Person.Name).toBe("Mia");
  });

  it("Person.Cpr only with syncCpr, as 10 digits", () => {
    const b = base().person(P, "Nina", { cpr_number: "0101901234" });
    b.engagement(P, A, "Lærer");
    expect(users(b).get(P)?.Person.Cpr).toBeUndefined();
    expect(users(b, { syncCpr: true }).get(P)?.Person.Cpr).toBe("0101901234");
  });

  it("a CPR that is not 10 digits is left out with a warning naming the person, not the number", () => {
    const b = base().person(P, "Nina", { cpr_number: "26046899" });
    b.engagement(P, A, "Lærer");
    b.engagement(P, B, "Pædagog");
    const d = computeDesiredState(b.build(), policy({ syncCpr: true }));
    expect(d.users.get(P)?.Person.Cpr).toBeUndefined();
    const cprIssues = d.issues.filter((i) => i.code.startsWith("cpr-"));
    expect(cprIssues).toEqual([
      expect.objectContaining({ severity: "warning", code: "cpr-malformed", message: `The CPR number of "Nina" (${P}) in OS2mo is not 10 digits; it is not sent to FK.` }),
    ]);
    expect(JSON.stringify(d.issues)).not.toContain("26046899");
    // With syncCpr off the number is not looked at.
    expect(computeDesiredState(b.build(), policy()).issues.filter((i) => i.code.startsWith("cpr-"))).toEqual([]);
  });

  it("persons sharing a CPR are named in a warning, without the number", () => {
    const Q = uid(0x101);
    const b = base().person(P, "Nina", { cpr_number: "010190-1234" }).person(Q, "Nanna", { cpr_number: "0101901234" });
    b.engagement(P, A, "Lærer");
    b.engagement(Q, B, "Pædagog");
    const d = computeDesiredState(b.build(), policy({ syncCpr: true }));
    const shared = d.issues.filter((i) => i.code === "cpr-shared");
    expect(shared).toHaveLength(1);
    expect(shared[0]!.message).toContain("2 persons in OS2mo have the same CPR number:");
    expect(shared[0]!.message).toContain(P);
    expect(shared[0]!.message).toContain(Q);
    expect(JSON.stringify(d.issues)).not.toMatch(/0101901234|010190-1234/);
  });

  it.each([
    ["job function by default", null, "Lærer"],
    ["extension_1", "1", "Ext one"],
    ["extension_3", "3", "Ext three"],
  ] as const)("position name: %s", (_l, field, expected) => {
    const b = base().person(P, "Ole");
    b.engagement(P, A, "Lærer", { extensions: { extension_1: "Ext one", extension_3: "Ext three" } });
    expect(users(b, { extensionFieldAsJobFunction: field }).get(P)?.Positions[0]?.Name).toBe(expected);
  });

  it("an empty extension field falls back to the job function", () => {
    const b = base().person(P, "Ole");
    b.engagement(P, A, "Lærer", { extensions: { extension_3: " " } });
    expect(users(b, { extensionFieldAsJobFunction: "3" }).get(P)?.Positions[0]?.Name).toBe("Lærer");
  });

  describe("addresses", () => {
    function withAddresses(): SnapshotBuilder {
      const b = base().person(P, "Per");
      b.engagement(P, A, "Lærer");
      b.personAddress(P, T.email, "secret@x", { uuid: uid(0x1), visibility: SECRET });
      b.personAddress(P, T.email, "b@x", { uuid: uid(0x3), visibility: PUBLIC });
      b.personAddress(P, T.email, "a@x", { uuid: uid(0x4) });
      b.personAddress(P, T.email2, "work@x", { uuid: uid(0x5) });
      b.personAddress(P, T.phone, "11111111", { uuid: uid(0x6) });
      b.personAddress(P, T.mobile, "22222222", { uuid: uid(0x7) });
      b.personAddress(P, T.landline, "33333333", { uuid: uid(0x8) });
      return b;
    }
    it("no class lists: no Email, PhoneNumber or Landline", () => {
      const u = users(withAddresses()).get(P)!;
      expect([u.Email, u.PhoneNumber, u.Landline]).toEqual([undefined, undefined, undefined]);
    });
    const cases: [string, Partial<SyncPolicy>, Partial<UserRegistration>][] = [
      ["Email: public or unmarked only, then by uuid", { emailScopeClasses: [T.email.uuid] }, { Email: "b@x" }],
      ["Email: list order first", { emailScopeClasses: [T.email2.uuid, T.email.uuid] }, { Email: "work@x" }],
      ["PhoneNumber: list order", { phoneScopeClasses: [T.mobile.uuid, T.phone.uuid] }, { PhoneNumber: "22222222" }],
      ["Landline: from landline classes", { landlineScopeClasses: [T.landline.uuid] }, { Landline: "33333333" }],
    ];
    it.each(cases)("%s", (_l, pol, expected) => {
      const u = users(withAddresses(), pol).get(P)!;
      expect({ Email: u.Email, PhoneNumber: u.PhoneNumber, Landline: u.Landline }).toEqual({
        Email: undefined,
        PhoneNumber: undefined,
        Landline: undefined,
        ...expected,
      });
    });

    it("groupByEngagementUuid: only the addresses tied to the group's engagement count", () => {
      const b = base().person(P, "Rie");
      const e1 = b.engagement(P, A, "Lærer");
      const e2 = b.engagement(P, B, "Pædagog");
      b.itUser({ person: P }, AD, "rie1", { engagement: e1 });
      b.itUser({ person: P }, AD, "rie2", { engagement: e2 });
      b.itUser({ person: P }, FKORG, uid(0xf1), { engagement: e1 });
      b.itUser({ person: P }, FKORG, uid(0xf2), { engagement: e2 });
      b.personAddress(P, T.email, "one@x", { uuid: uid(0x2), engagement: e1 });
      b.personAddress(P, T.email, "two@x", { uuid: uid(0x3), engagement: e2 });
      const pol = { uuidFromItSystems: [FKORG.name], emailScopeClasses: [T.email.uuid] };
      const grouped = users(b, { ...pol, groupByEngagementUuid: true });
      expect([grouped.get(uid(0xf1))?.Email, grouped.get(uid(0xf2))?.Email]).toEqual(["one@x", "two@x"]);
      const plain = users(b, pol);
      expect([plain.get(uid(0xf1))?.Email, plain.get(uid(0xf2))?.Email]).toEqual(["one@x", "one@x"]);
    });

    it("employeeEngagementAddress: the listed address of the primary engagement's unit", () => {
      const workAddr = cls(uid(0xd9), "AdressePost", "DAR", "Arbejdsadresse");
      const b = base().person(P, "Sus");
      b.engagement(P, A, "Lærer");
      b.engagement(P, B, "Pædagog", { is_primary: true });
      b.unitAddress(A, workAddr, "Skolevej 1");
      b.unitAddress(B, workAddr, "Børnevej 2");
      b.unitAddress(B, T.post, "Postvej 3");
      expect(users(b).get(P)?.Location).toBeUndefined();
      expect(users(b, { employeeEngagementAddress: ["Arbejdsadresse"] }).get(P)?.Location).toBe("Børnevej 2");
      expect(users(b, { employeeEngagementAddress: ["Postadresse", "Arbejdsadresse"] }).get(P)?.Location).toBe("Postvej 3");
    });
  });

  it("texts are cut to truncateLength but never below 36, so a uuid UserId stays whole", () => {
    const b = base().person(P, "X".repeat(50));
    b.engagement(P, A, "Y".repeat(50));
    const u = users(b, { truncateLength: 10 }).get(P)!;
    expect(u.UserId).toBe(P);
    expect(u.Person.Name).toBe("X".repeat(36));
    expect(u.Positions[0]).toEqual({ Name: "Y".repeat(36), OrgUnitUuid: A });
  });

  it("positions in a unit with a uuid override use the FK uuid; in the top unit, adminTopUuid", () => {
    const b = base().person(P, "Tom");
    b.engagement(P, A, "Lærer");
    b.engagement(P, TOP, "Direktør");
    b.itUser({ unit: A }, FKORG, uid(0xfa));
    expect(users(b, { uuidFromItSystems: [FKORG.name] }).get(P)?.Positions).toEqual([
      { Name: "Lærer", OrgUnitUuid: uid(0xfa) },
      { Name: "Direktør", OrgUnitUuid: ADMIN_TOP },
    ].sort((x, y) => (x.OrgUnitUuid < y.OrgUnitUuid ? -1 : 1)));
  });
});
