import { describe, expect, it } from "vitest";
import type { Change, Plan } from "../../../src/model/index.js";
import { canonicalJson, cprKeyId, hashCpr, isApplicable } from "../../../src/model/index.js";
import { computePlan, planExitCode } from "../../../src/plan/index.js";
import {
  CPR,
  CPR_KEY,
  META,
  TOP,
  actualOf,
  desiredOf,
  inputOf,
  resource,
  scenario,
  stateOf,
  unit,
  user,
  uuid,
} from "./scenario.js";

const change = (plan: Plan, n: number): Change | undefined => plan.changes.find((c) => c.uuid === uuid(n));
const actions = (plan: Plan): string[] => plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`);

describe("actions", () => {
  it("creates a desired object that FK does not have", () => {
    const u = unit(10, "Borgerservice", TOP, { Email: "bs@example.dk" });
    const plan = computePlan(inputOf(desiredOf([u], []), actualOf([], []), null));
    expect(actions(plan)).toEqual(["create orgunit Borgerservice"]);
    expect(change(plan, 10)).toMatchObject({ action: "create", address: `orgunit/${uuid(10)}`, after: u, parent: TOP });
    expect(change(plan, 10)!.before).toBeUndefined();
  });

  it("updates only the fields that differ and lists each with before and after", () => {
    const before = unit(10, "Borgerservice", TOP, { Email: "old@example.dk", PhoneNumber: "1" });
    const after = unit(10, "Borgerservice", TOP, { Email: "new@example.dk", PhoneNumber: "1" });
    const plan = computePlan(inputOf(desiredOf([after], []), actualOf([before], []), stateOf([resource("orgunit", before)])));
    expect(change(plan, 10)).toMatchObject({
      action: "update",
      fields: [{ field: "Email", before: "old@example.dk", after: "new@example.dk" }],
    });
  });

  it("deletes a managed object OS2mo no longer has", () => {
    const gone = unit(14, "Gammel", TOP);
    const plan = computePlan(inputOf(desiredOf([], []), actualOf([gone], []), stateOf([resource("orgunit", gone)])));
    expect(change(plan, 14)).toMatchObject({ action: "delete", before: gone });
    expect(change(plan, 14)!.after).toBeUndefined();
  });

  it("adopts an FK object that matches OS2mo but is not in state, without fields to write", () => {
    const u = unit(16, "Jobcenter", TOP, { PhoneNumber: "89402000" });
    const plan = computePlan(inputOf(desiredOf([u], []), actualOf([u], []), null));
    expect(change(plan, 16)).toMatchObject({ action: "adopt", before: u, after: u, fields: [] });
    expect(plan.summary.adopt).toBe(1);
  });

  it("updates (not adopts) an unmanaged FK object that differs from OS2mo", () => {
    const fk = unit(16, "Jobcentret", TOP);
    const mo = unit(16, "Jobcenter", TOP);
    const plan = computePlan(inputOf(desiredOf([mo], []), actualOf([fk], []), null));
    expect(change(plan, 16)?.action).toBe("update");
  });

  it("plans nothing for a managed object that FK holds as desired", () => {
    const u = unit(10, "Borgerservice", TOP);
    const plan = computePlan(inputOf(desiredOf([u], []), actualOf([u], []), stateOf([resource("orgunit", u)])));
    expect(plan.changes).toEqual([]);
    expect(plan.drift).toEqual([]);
  });
});

describe("drift", () => {
  it("reports managed fields FK changed since the last apply, and plans to undo them", () => {
    const applied = unit(17, "Kultur", TOP, { PhoneNumber: "1000" });
    const fk = unit(17, "Kultur", TOP, { PhoneNumber: "9999" });
    const plan = computePlan(inputOf(desiredOf([applied], []), actualOf([fk], []), stateOf([resource("orgunit", applied)])));
    expect(plan.drift).toEqual([
      {
        address: `orgunit/${uuid(17)}`,
        kind: "orgunit",
        uuid: uuid(17),
        name: "Kultur",
        type: "changed",
        fields: [{ field: "PhoneNumber", before: "1000", after: "9999" }],
      },
    ]);
    expect(change(plan, 17)).toMatchObject({ action: "update", fields: [{ field: "PhoneNumber", before: "9999", after: "1000" }] });
  });

  it("reports a managed object deleted from FK and re-creates it", () => {
    const u = unit(18, "Bibliotek", TOP);
    const plan = computePlan(inputOf(desiredOf([u], []), actualOf([], []), stateOf([resource("orgunit", u)])));
    expect(plan.drift).toMatchObject([{ uuid: uuid(18), type: "deleted" }]);
    expect(change(plan, 18)).toMatchObject({ action: "create", after: u });
  });

  it("re-records a managed object that FK changed outside stsorg to what OS2mo now says, without a write", () => {
    const applied = unit(19, "Kultur", TOP, { PhoneNumber: "1000" });
    const now = unit(19, "Kultur", TOP, { PhoneNumber: "2000" });
    const plan = computePlan(inputOf(desiredOf([now], []), actualOf([now], []), stateOf([resource("orgunit", applied)])));
    expect(plan.drift).toMatchObject([{ uuid: uuid(19), type: "changed" }]);
    // Adopting refreshes state's record, so the next plan does not report the same drift again.
    expect(change(plan, 19)).toMatchObject({ action: "adopt", after: now, fields: [] });
  });

  it("lets state go of a managed object that is gone from both OS2mo and FK, so the drift is not reported forever", () => {
    const u = unit(20, "Nedlagt", TOP);
    const plan = computePlan(inputOf(desiredOf([], []), actualOf([], []), stateOf([resource("orgunit", u)])));
    expect(plan.drift).toMatchObject([{ uuid: uuid(20), type: "deleted" }]);
    expect(change(plan, 20)).toMatchObject({ action: "delete", before: u });
  });

  it("ignores changes in unmanaged fields", () => {
    const applied = unit(10, "Borgerservice", TOP, { ShortKey: "BS1" });
    const fk = unit(10, "Borgerservice", TOP, { ShortKey: "BS2" });
    const plan = computePlan(inputOf(desiredOf([unit(10, "Borgerservice", TOP)], []), actualOf([fk], []), stateOf([resource("orgunit", applied)])));
    expect(plan.drift).toEqual([]);
    expect(plan.changes).toEqual([]);
  });
});

describe("unmanaged fields", () => {
  it("are never diffed, and an update keeps FK's value so the whole-object POST does not wipe it", () => {
    const fk = unit(11, "Teknik", TOP, { ShortKey: "TM01", SOR: "123", PhoneNumber: "1" });
    const mo = unit(11, "Teknik", TOP, { PhoneNumber: "2", ShortKey: "IGNORED" });
    const plan = computePlan(inputOf(desiredOf([mo], []), actualOf([fk], []), stateOf([resource("orgunit", fk)])));
    const ch = change(plan, 11)!;
    expect(ch.fields!.map((f) => f.field)).toEqual(["PhoneNumber"]);
    expect(ch.after).toMatchObject({ ShortKey: "TM01", SOR: "123", PhoneNumber: "2" });
  });

  it("can be a single person field", () => {
    const fk = user(100, "ahan", "Anna H.", [], {});
    const mo = user(100, "ahan", "Anna Hansen", [], { Email: "a@example.dk" });
    const plan = computePlan(
      inputOf(desiredOf([], [mo]), actualOf([], [fk]), stateOf([resource("user", fk)]), { unmanagedFields: ["Person.Name"] }),
    );
    const ch = change(plan, 100)!;
    expect(ch.fields!.map((f) => f.field)).toEqual(["Email"]);
    expect((ch.after as { Person: { Name: string } }).Person.Name).toBe("Anna H.");
  });
});

describe("fields not observed by the refresh", () => {
  it("are compared against state and flagged unobserved", () => {
    const applied = unit(10, "Borgerservice", TOP, { Email: "bs@example.dk", Location: "Rådhuset" });
    // The hierarchy refresh reads the name and parent only; the refresher fills the rest from state.
    const fk = unit(10, "Borgerservice", TOP, { Email: "bs@example.dk", Location: "Rådhuset" });
    const mo = unit(10, "Borgerservice", TOP, { Email: "bs@example.dk", Location: "Rådhus 2" });
    const actual = actualOf([fk], [], { mode: "hierarchy", observed: new Map([[uuid(10), ["Name", "ParentOrgUnitUuid"]]]) });
    const plan = computePlan(inputOf(desiredOf([mo], []), actual, stateOf([resource("orgunit", applied)])));
    const ch = change(plan, 10)!;
    expect(ch.fields).toEqual([{ field: "Location", before: "Rådhuset", after: "Rådhus 2", unobserved: true }]);
    expect(ch.unobserved).toContain("Location");
    expect(plan.refresh).toMatchObject({ mode: "hierarchy", fully_observed: 0, partially_observed: 1 });
  });

  it("take their before value from state even when the refresh returned something else for them", () => {
    const applied = unit(10, "Borgerservice", TOP, { Email: "applied@example.dk" });
    const fk = unit(10, "Borgerservice", TOP, { Email: "stale@example.dk" });
    const actual = actualOf([fk], [], { observed: new Map([[uuid(10), ["Name", "ParentOrgUnitUuid"]]]) });
    const plan = computePlan(inputOf(desiredOf([applied], []), actual, stateOf([resource("orgunit", applied)])));
    expect(plan.changes).toEqual([]);
    expect(plan.drift).toEqual([]);
  });

  it("do not stop an adoption when the observed fields match, and are listed", () => {
    const fk = unit(16, "Jobcenter", TOP);
    const mo = unit(16, "Jobcenter", TOP, { Email: "job@example.dk" });
    const actual = actualOf([fk], [], { observed: new Map([[uuid(16), ["Name", "ParentOrgUnitUuid"]]]) });
    const plan = computePlan(inputOf(desiredOf([mo], []), actual, null));
    const ch = change(plan, 16)!;
    expect(ch.action).toBe("adopt");
    expect(ch.unobserved).toContain("Email");
    expect(ch.unobserved).not.toContain("Name");
  });
});

describe("lists", () => {
  it("compare sets as sets", () => {
    const fk = unit(10, "Borgerservice", TOP, { Tasks: [uuid(902), uuid(901)] });
    const mo = { ...unit(10, "Borgerservice", TOP), Tasks: [uuid(901), uuid(902), uuid(901)] };
    const plan = computePlan(inputOf(desiredOf([mo], []), actualOf([fk], []), stateOf([resource("orgunit", fk)])));
    expect(plan.changes).toEqual([]);
  });

  it("compare positions by unit, name, start and stop, in any order", () => {
    const a = { name: "Sagsbehandler", unit: uuid(10), start: "2020-01-01" };
    const b = { name: "Mentor", unit: uuid(11), start: "2021-01-01" };
    const fk = user(100, "ahan", "Anna", [a, b]);
    const mo = { ...user(100, "ahan", "Anna", [a, b]) };
    mo.Positions = [...mo.Positions].reverse();
    const same = computePlan(inputOf(desiredOf([], [mo]), actualOf([], [fk]), stateOf([resource("user", fk)])));
    expect(same.changes).toEqual([]);

    const ended = user(100, "ahan", "Anna", [a, { ...b, stop: "2026-02-28" }]);
    const plan = computePlan(inputOf(desiredOf([], [ended]), actualOf([], [fk]), stateOf([resource("user", fk)])));
    expect(change(plan, 100)!.fields!.map((f) => f.field)).toEqual(["Positions"]);
  });
});

describe("ordering", () => {
  it("writes units parents first, then users, then deletes users first and units leaves first, ties by uuid", () => {
    const { input } = scenario();
    const plan = computePlan(input);
    const order = plan.changes.map((c) => `${c.action}:${c.uuid.slice(-3)}`);
    expect(order).toEqual([
      "update:011",
      "adopt:016",
      "update:017",
      "create:012",
      "create:018",
      "create:013",
      "update:100",
      "create:101",
      "adopt:103",
      "update:104",
      "delete:102",
      "delete:015",
      "delete:014",
    ]);
  });

  it("creates a deep chain given in reverse in parent-first order", () => {
    const chain = [1, 2, 3, 4, 5].map((i) => unit(60 - i, `L${i}`, i === 1 ? TOP : uuid(60 - i + 1)));
    const plan = computePlan(inputOf(desiredOf([...chain].reverse(), []), actualOf([], []), null));
    expect(plan.changes.map((c) => c.name)).toEqual(["L1", "L2", "L3", "L4", "L5"]);
  });
});

describe("ownership", () => {
  const outside = uuid(500);
  const fkUnits = [
    unit(1, "Kommunen", undefined),
    unit(30, "Under top", TOP),
    unit(31, "Deeper", uuid(30)),
    unit(32, "Protected", TOP),
    unit(500, "Other root", undefined),
    unit(501, "Under other root", outside),
  ];
  const fkUsers = [
    user(200, "u1", "Under top", [{ name: "X", unit: uuid(31) }]),
    user(201, "u2", "Straddles", [{ name: "X", unit: uuid(30) }, { name: "Y", unit: uuid(501) }]),
    user(202, "u3", "No positions", []),
    user(203, "u4", "In top", [{ name: "X", unit: TOP }]),
  ];

  it("with prune: managed, deletes only objects recorded in state", () => {
    const plan = computePlan(inputOf(desiredOf([], []), actualOf(fkUnits, fkUsers), stateOf([resource("orgunit", fkUnits[2]!)])));
    expect(actions(plan)).toEqual(["delete orgunit Deeper"]);
  });

  it("with prune: all-under-top, deletes every FK object under the top unit but never the top or a protected unit", () => {
    const plan = computePlan(
      inputOf(desiredOf([], []), actualOf(fkUnits, fkUsers), null, {
        prune: "all-under-top",
        protectedUnits: [uuid(32)],
        allowDeletes: 100,
      }),
    );
    expect(plan.changes.map((c) => c.name).sort()).toEqual(["Deeper", "In top (u4)", "No positions (u3)", "Under top", "Under top (u1)"].sort());
    expect(plan.changes.every((c) => c.action === "delete")).toBe(true);
    expect(plan.warnings.map((w) => w.code)).toContain("protected-unit");
    expect(plan.warnings.find((w) => w.code === "protected-unit")!.message).toContain(uuid(32));
  });

  it("never deletes the top unit or a protected unit, even when state records them", () => {
    const plan = computePlan(
      inputOf(desiredOf([], []), actualOf(fkUnits.slice(0, 4), []), stateOf([resource("orgunit", fkUnits[0]!), resource("orgunit", fkUnits[3]!)]), {
        protectedUnits: [uuid(32)],
      }),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.guards).toEqual([]);
    expect(plan.warnings.filter((w) => w.code === "protected-unit")).toHaveLength(2);
  });

  it("warns when a deleted unit would leave FK units beneath it", () => {
    const plan = computePlan(
      inputOf(desiredOf([unit(31, "Deeper", uuid(30))], []), actualOf(fkUnits.slice(0, 3), []), stateOf([resource("orgunit", fkUnits[1]!)])),
    );
    expect(actions(plan)).toContain("delete orgunit Under top");
    expect(plan.warnings.find((w) => w.code === "delete-leaves-children")?.message).toContain(uuid(31));
  });
});

describe("max-deletes guard", () => {
  const units = Array.from({ length: 20 }, (_, i) => unit(300 + i, `U${i}`, TOP));
  const managed = stateOf(units.map((u) => resource("orgunit", u)));
  const planWith = (kept: number, policy: Parameters<typeof inputOf>[3]) =>
    computePlan(inputOf(desiredOf(units.slice(0, kept), []), actualOf(units, []), managed, policy));

  it("refuses more deletes than the count, naming the numbers and the override, and still shows the plan", () => {
    const plan = planWith(14, { maxDeletes: { count: 5, percent: 90 } });
    expect(plan.summary.delete).toBe(6);
    expect(plan.guards).toHaveLength(1);
    expect(plan.guards[0]!.message).toContain("6 objects");
    expect(plan.guards[0]!.message).toContain("5 objects");
    expect(plan.guards[0]!.override).toBe("--allow-deletes 6");
    expect(isApplicable(plan)).toBe(false);
  });

  it("refuses more deletes than the percentage of managed objects", () => {
    const plan = planWith(16, { maxDeletes: { count: 100, percent: 10 } });
    expect(plan.guards).toHaveLength(1);
    expect(plan.guards[0]!.message).toContain("20% of 20 managed objects");
  });

  it("passes at the limit", () => {
    expect(planWith(15, { maxDeletes: { count: 5, percent: 25 } }).guards).toEqual([]);
  });

  it("is lifted by --allow-deletes N only when N covers every delete", () => {
    expect(planWith(14, { maxDeletes: { count: 5, percent: 90 }, allowDeletes: 6 }).guards).toEqual([]);
    const short = planWith(14, { maxDeletes: { count: 5, percent: 90 }, allowDeletes: 5 });
    expect(short.guards).toHaveLength(1);
    expect(short.guards[0]!.message).toContain("--allow-deletes 5 allows only 5");
  });
});

describe("consistency issues", () => {
  it("carries the mapping's errors and warnings, and a plan with errors cannot be applied", () => {
    const { input } = scenario();
    const plan = computePlan({ ...input, policy: { ...input.policy, maxDeletes: { count: 100, percent: 100 } } });
    expect(plan.errors.map((e) => e.code)).toEqual(["duplicate-user-id"]);
    expect(plan.warnings.map((e) => e.code)).toEqual(["unit-without-address"]);
    expect(plan.guards).toEqual([]);
    expect(isApplicable(plan)).toBe(false);
  });
});

describe("CPR numbers", () => {
  it("never appear in clear: only as keyed hashes, flagged sensitive", () => {
    const { input } = scenario();
    const plan = computePlan(input);
    const text = canonicalJson(plan);
    for (const cpr of Object.values(CPR)) expect(text).not.toContain(cpr);
    expect(text).not.toMatch(/(?<![0-9a-f])\d{10}(?![0-9a-f])/);
    expect(plan.cpr).toEqual({ synced: true, key_id: cprKeyId(CPR_KEY) });
    const erik = change(plan, 104)!;
    expect(erik.fields).toEqual([
      { field: "Person.Cpr", before: hashCpr(CPR.erik, CPR_KEY), after: hashCpr(CPR.erikCorrected, CPR_KEY), sensitive: true },
    ]);
    expect(text).not.toContain(CPR_KEY);
  });

  it("are not a managed field at all when CPR sync is off", () => {
    const { input } = scenario();
    const plan = computePlan({ ...input, policy: { ...input.policy, cprHashKey: null } });
    const text = canonicalJson(plan);
    expect(text).not.toContain("Cpr");
    expect(text).not.toContain("hmac-sha256");
    expect(change(plan, 104)).toBeUndefined();
    expect(plan.cpr).toEqual({ synced: false, key_id: null });
  });
});

describe("--target", () => {
  it("limits the plan to the targeted objects and warns that it is partial", () => {
    const { input } = scenario();
    const plan = computePlan({ ...input, policy: { ...input.policy, targets: [`orgunit/${uuid(11)}`, `user/${uuid(101)}`] } });
    expect(plan.changes.map((c) => c.address)).toEqual([`orgunit/${uuid(11)}`, `user/${uuid(101)}`]);
    expect(plan.summary).toMatchObject({ create: 1, update: 1, delete: 0, adopt: 0, drift: 0 });
    expect(plan.warnings[0]!.code).toBe("partial-plan");
    // Bo's position is in a unit that is new and not targeted.
    expect(plan.warnings.find((w) => w.code === "target-needs-unit")?.hint).toBe(`Add --target orgunit/${uuid(13)}.`);
    expect(plan.options.targets).toEqual([`orgunit/${uuid(11)}`, `user/${uuid(101)}`]);
  });
});

describe("--refresh-only", () => {
  it("plans no changes and reports drift only", () => {
    const { input } = scenario();
    const plan = computePlan({ ...input, policy: { ...input.policy, refreshOnly: true } });
    expect(plan.changes).toEqual([]);
    expect(plan.guards).toEqual([]);
    expect(plan.drift.map((d) => `${d.type}:${d.uuid.slice(-3)}`)).toEqual(["changed:017", "deleted:018"]);
    expect(plan.summary).toMatchObject({ create: 0, update: 0, delete: 0, adopt: 0, drift: 2 });
    expect(isApplicable(plan)).toBe(false);
  });
});

describe("summary and identity", () => {
  it("counts per action and kind", () => {
    const plan = computePlan(scenario().input);
    expect(plan.summary).toEqual({
      create: 4,
      update: 4,
      delete: 3,
      adopt: 2,
      drift: 2,
      orgunit: { create: 3, update: 2, delete: 2, adopt: 1 },
      user: { create: 1, update: 2, delete: 1, adopt: 1 },
    });
    expect(plan.state).toEqual({ lineage: "9b2e4c1a-5f6d-4e7a-8b9c-0d1e2f3a4b5c", serial: 7 });
    expect(plan.environment).toEqual(META.environment);
  });

  it("is byte-identical for the same inputs, whatever order the maps were filled in", () => {
    const a = computePlan(scenario().input);
    const { input } = scenario();
    const reversed = {
      ...input,
      desired: { ...input.desired, orgUnits: new Map([...input.desired.orgUnits].reverse()), users: new Map([...input.desired.users].reverse()) },
      actual: { ...input.actual, orgUnits: new Map([...input.actual.orgUnits].reverse()), users: new Map([...input.actual.users].reverse()) },
    };
    const b = computePlan(reversed);
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it("has a plan_id that depends on the content but not on when the plan was made or FK was read", () => {
    const { input } = scenario();
    const a = computePlan(input);
    const later = computePlan({ ...input, meta: { ...input.meta, createdAt: "2030-01-01T00:00:00.000Z" } });
    expect(later.plan_id).toBe(a.plan_id);
    const reread = computePlan({ ...input, actual: { ...input.actual, observedAt: "2030-01-01T00:00:00.000Z" } });
    expect(reread.refresh.observed_at).toBe("2030-01-01T00:00:00.000Z");
    expect(reread.plan_id).toBe(a.plan_id);
    const other = computePlan({ ...input, policy: { ...input.policy, allowDeletes: 3 } });
    expect(other.plan_id).not.toBe(a.plan_id);
    expect(a.plan_id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("plans from an empty FK with no state: everything is created, nothing deleted", () => {
    const { input } = scenario();
    const plan = computePlan({ ...input, actual: actualOf([], []), state: null });
    expect(plan.changes.every((c) => c.action === "create")).toBe(true);
    expect(plan.summary.create).toBe(input.desired.orgUnits.size + input.desired.users.size);
    expect(plan.state).toEqual({ lineage: null, serial: 0 });
  });
});

describe("exit code", () => {
  it("is 1 for a refused plan, 2 for changes with --detailed-exitcode, 0 otherwise", () => {
    const { input } = scenario();
    const refused = computePlan(input);
    expect(planExitCode(refused, true)).toBe(1);
    const clean = computePlan({ ...input, desired: { ...input.desired, issues: [] }, policy: { ...input.policy, allowDeletes: 3 } });
    expect(planExitCode(clean, true)).toBe(2);
    expect(planExitCode(clean, false)).toBe(0);
    const u = unit(10, "Borgerservice", TOP);
    const none = computePlan(inputOf(desiredOf([u], []), actualOf([u], []), stateOf([resource("orgunit", u)])));
    expect(planExitCode(none, true)).toBe(0);
  });

  it("for a refresh-only plan, is 2 on drift and ignores OS2mo's data errors", () => {
    const { input } = scenario();
    const drifted = computePlan({ ...input, policy: { ...input.policy, refreshOnly: true } });
    expect(drifted.errors).not.toEqual([]);
    expect(planExitCode(drifted, true)).toBe(2);
    expect(planExitCode(drifted, false)).toBe(0);
  });
});
