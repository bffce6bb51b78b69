import { describe, expect, it } from "vitest";
import { computeDesiredState } from "../../../src/mapping/index.js";
import { checkConsistency } from "../../../src/mapping/consistency.js";
import type { MappedUser } from "../../../src/mapping/users.js";
import type { ConsistencyIssue, MoOrgUnit, MoPerson, OrgUnitRegistration, SyncPolicy } from "../../../src/model/index.js";
import { AD, ADMIN_TOP, FKORG, SnapshotBuilder, TOP, policy, uid } from "./builder.js";

const A = uid(0xa);
const B = uid(0xb);
const C = uid(0xc);
const P = uid(0x100);
const Q = uid(0x101);

function map(b: SnapshotBuilder, overrides: Partial<SyncPolicy> = {}) {
  return computeDesiredState(b.build(), policy(overrides));
}

function only(issues: ConsistencyIssue[], code: string, severity: ConsistencyIssue["severity"] = "error"): ConsistencyIssue {
  expect(issues.map((i) => i.code)).toEqual([code]);
  const issue = issues[0]!;
  expect(issue.severity).toBe(severity);
  expect(issue.hint).toMatch(/OS2mo|spec\.sync/);
  return issue;
}

describe("consistency of the desired state (listed, never thrown)", () => {
  it("a clean snapshot has no issues", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).person(P, "Per");
    b.engagement(P, A, "Lærer");
    b.itUser({ person: P }, AD, "per");
    expect(map(b).issues).toEqual([]);
  });

  it("a unit without a name is reported and still returned (so it is never deleted for it)", () => {
    const b = new SnapshotBuilder().unit(A, "   ", TOP).unit(B, "B", A);
    const d = map(b);
    const issue = only(d.issues, "unit-without-name");
    expect(issue.objects).toEqual([{ kind: "orgunit", uuid: A, name: "   " }]);
    expect(issue.message).toContain(A);
    expect(d.orgUnits.get(A)?.Name).toBe("");
    expect(d.orgUnits.get(B)?.ParentOrgUnitUuid).toBe(A);
  });

  it("a person without a name is reported with the FK user", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).person(P, "");
    b.engagement(P, A, "Lærer");
    const d = map(b);
    const issue = only(d.issues, "person-without-name");
    expect(issue.objects[0]).toMatchObject({ kind: "person", uuid: P });
    expect(issue.fk).toEqual([{ kind: "user", uuid: P }]);
    expect(d.users.has(P)).toBe(true);
  });

  it("an engagement without a job function is a warning and gives no position; the person is still written", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).person(P, "Per");
    const e = b.engagement(P, A, null);
    b.engagement(P, TOP, "Direktør");
    const d = map(b);
    const issue = only(d.issues, "position-without-name", "warning");
    expect(issue.objects).toEqual([{ kind: "person", uuid: P, name: "Per" }, { kind: "engagement", uuid: e }]);
    expect(d.users.get(P)?.Positions).toEqual([{ Name: "Direktør", OrgUnitUuid: ADMIN_TOP }]);
  });

  it("no two users share a UserId (compared without case)", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).person(P, "Per").person(Q, "Poul");
    b.engagement(P, A, "Lærer");
    b.engagement(Q, A, "Lærer");
    b.itUser({ person: P }, AD, "pp");
    b.itUser({ person: Q }, AD, "PP");
    const d = map(b);
    const issue = only(d.issues, "duplicate-user-id");
    expect(issue.objects.map((o) => o.name)).toEqual(["Per", "Poul"]);
    expect(d.users.size).toBe(2);
  });

  it("two account groups of one person that get one FK uuid are reported, naming the person", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).unit(B, "B", TOP).person(P, "Per");
    const e1 = b.engagement(P, A, "Lærer");
    const e2 = b.engagement(P, B, "Pædagog");
    b.itUser({ person: P }, AD, "per1", { engagement: e1 });
    b.itUser({ person: P }, AD, "per2", { engagement: e2 });
    const d = map(b);
    const issue = only(d.issues, "duplicate-user-uuid");
    expect(issue.objects).toEqual([{ kind: "person", uuid: P, name: "Per" }]);
    expect(issue.fk).toEqual([{ kind: "user", uuid: P }]);
    // The first group (by engagement uuid) is kept.
    expect(d.users.get(P)?.UserId).toBe(e1 < e2 ? "per1" : "per2");
  });

  it("two units with one FK uuid are reported; the first is kept", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).unit(B, "B", TOP);
    b.itUser({ unit: A }, FKORG, uid(0xf00));
    b.itUser({ unit: B }, FKORG, uid(0xf00));
    const d = map(b, { uuidFromItSystems: [FKORG.name] });
    const issue = only(d.issues, "duplicate-unit-uuid");
    expect(issue.objects.map((o) => o.uuid)).toEqual([A, B]);
    expect(d.orgUnits.get(uid(0xf00))?.Name).toBe("A");
  });

  it("a cycle in OS2mo's parents is reported once and its units are left out", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).unit(B, "B", C).unit(C, "C", B);
    const d = map(b);
    const issue = only(d.issues, "cycle");
    expect(issue.objects.map((o) => o.uuid)).toEqual([B, C]);
    expect([...d.orgUnits.keys()].sort()).toEqual([A, ADMIN_TOP].sort());
  });

  it("an override that reuses another unit's MO uuid is no problem when nothing collides", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP).unit(B, "B", A).person(P, "Per");
    b.engagement(P, B, "Lærer");
    // A is written as F00 and B as A's MO uuid: both are distinct FK uuids.
    b.itUser({ unit: A }, FKORG, uid(0xf00));
    b.itUser({ unit: B }, FKORG, A);
    const d = map(b, { uuidFromItSystems: [FKORG.name] });
    expect(d.issues).toEqual([]);
    expect(d.orgUnits.get(A)).toMatchObject({ Name: "B", ParentOrgUnitUuid: uid(0xf00) });
    expect(d.users.get(P)?.Positions).toEqual([{ Name: "Lærer", OrgUnitUuid: A }]);
  });

  it("two units sharing an FK uuid across levels loop FK's tree: both the collision and the cycle are reported", () => {
    // C (deepest, smallest uuid) is kept as F; its parent B hangs under A, which would also be F.
    const [c, bb, a] = [uid(0xa), uid(0xb), uid(0xc)];
    const b = new SnapshotBuilder().unit(a, "Top-level", TOP).unit(bb, "Middle", a).unit(c, "Deep", bb);
    b.itUser({ unit: a }, FKORG, uid(0xf00));
    b.itUser({ unit: c }, FKORG, uid(0xf00));
    const d = map(b, { uuidFromItSystems: [FKORG.name] });
    expect(d.issues.map((i) => i.code)).toEqual(["cycle", "duplicate-unit-uuid"]);
    const cycle = d.issues[0]!;
    expect(cycle.fk?.map((f) => f.uuid)).toEqual([bb, uid(0xf00)]);
    expect(cycle.objects.map((o) => o.name)).toEqual(["Middle", "Deep"]);
  });

  it("a missing top unit leaves no root and is reported", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    const d = computeDesiredState({ ...b.build(), orgUnits: b.build().orgUnits.filter((u) => u.uuid !== TOP) }, policy());
    const issue = only(d.issues, "no-root");
    expect(issue.fk).toEqual([{ kind: "orgunit", uuid: ADMIN_TOP }]);
    expect(d.orgUnits.size).toBe(0);
  });

  it("a unit written as the admin top uuid makes a second root candidate and is reported", () => {
    const b = new SnapshotBuilder().unit(A, "A", TOP);
    b.itUser({ unit: A }, FKORG, ADMIN_TOP);
    const d = map(b, { uuidFromItSystems: [FKORG.name] });
    expect(d.issues.map((i) => i.code)).toEqual(["duplicate-unit-uuid"]);
    expect(d.orgUnits.get(ADMIN_TOP)?.Name).toBe("Kommune");
  });
});

/**
 * The mapping never builds these shapes itself (parents and positions always name a written unit), so
 * the checker is exercised on hand-made desired states: it is the safety net if that ever changes.
 */
describe("checkConsistency on a hand-made desired state", () => {
  const mo = (uuid: string, name: string): MoOrgUnit => ({
    uuid,
    name,
    user_key: name,
    parent: null,
    unit_type: null,
    org_unit_level: null,
    org_unit_hierarchy_model: null,
    validity: { from: "2000-01-01", to: null },
  });
  const units = (...regs: OrgUnitRegistration[]) => new Map(regs.map((r) => [r.Uuid, r]));
  const sources = (...us: MoOrgUnit[]) => new Map(us.map((u) => [u.uuid, u]));
  const person: MoPerson = { uuid: P, name: "Per", nickname: "", cpr_number: null };

  it("a second unit without a parent is a second root", () => {
    const issues = checkConsistency(
      units({ Uuid: ADMIN_TOP, Name: "Top" }, { Uuid: A, Name: "A" }),
      sources(mo(A, "A")),
      new Map(),
      ADMIN_TOP,
      undefined,
    );
    expect(issues.map((i) => [i.code, i.objects])).toEqual([["multiple-roots", [{ kind: "orgunit", uuid: A, name: "A" }]]]);
  });

  it("a parent that is not desired is reported", () => {
    const issues = checkConsistency(
      units({ Uuid: ADMIN_TOP, Name: "Top" }, { Uuid: A, Name: "A", ParentOrgUnitUuid: B }),
      sources(mo(A, "A")),
      new Map(),
      ADMIN_TOP,
      undefined,
    );
    expect(issues.map((i) => i.code)).toEqual(["missing-parent"]);
    expect(issues[0]!.message).toContain(B);
  });

  it("a position in a unit that is not desired is reported, naming the person and engagement", () => {
    const user: MappedUser = {
      user: { Uuid: P, UserId: "per", Positions: [{ Name: "Lærer", OrgUnitUuid: B }], Person: { Name: "Per" } },
      person,
      group: { engagement: null, accounts: [] },
      engagements: [
        {
          uuid: uid(0xe),
          person: P,
          org_unit: B,
          job_function: null,
          extensions: {},
          is_primary: true,
          validity: { from: "2000-01-01", to: null },
        },
      ],
    };
    const issues = checkConsistency(units({ Uuid: ADMIN_TOP, Name: "Top" }), sources(), new Map([[P, user]]), ADMIN_TOP, undefined);
    expect(issues.map((i) => [i.code, i.objects.map((o) => o.uuid)])).toEqual([["position-unit-missing", [P, uid(0xe)]]]);
  });
});
