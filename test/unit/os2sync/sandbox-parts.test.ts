import { describe, expect, it } from "vitest";
import { customRule, FkStore, parentUnitMustExist } from "../../../src/sandbox/fkstore/index.js";
import { Os2syncQueue } from "../../../src/sandbox/os2sync/index.js";
import { bindUser, columnOverflow, validateOrgUnit, validateUser } from "../../../src/sandbox/os2sync/dto.js";

const U = (n: number) => `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, "0")}`;
const B = (n: number) => `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, "0")}`;

function setup(now = { t: 0 }) {
  const store = new FkStore({ now: () => new Date(now.t) });
  const queue = new Os2syncQueue(store, { delayMs: 100, usersPerRun: 2, now: () => new Date(now.t) });
  return { store, queue, now };
}
const userRow = (n: number, unit: number, extra: Record<string, unknown> = {}) => ({
  kind: "user" as const,
  operation: "UPDATE" as const,
  uuid: B(n),
  payload: bindUser({ Uuid: B(n), UserId: `u${n}`, Person: { Name: `P${n}` }, Positions: [{ Name: "X", OrgUnitUuid: U(unit) }], ...extra }),
  bypassCache: false,
  priority: 10,
});
const unitRow = (n: number, name = `Unit ${n}`) => ({
  kind: "orgunit" as const,
  operation: "UPDATE" as const,
  uuid: U(n),
  payload: { Uuid: U(n), Name: name },
  bypassCache: false,
  priority: 10,
});

describe("OS2sync queue", () => {
  it("waits for the delay, then applies units before users, a limited number of users per run", () => {
    const { store, queue, now } = setup();
    queue.enqueue(userRow(1, 1));
    queue.enqueue(userRow(2, 1));
    queue.enqueue(userRow(3, 1));
    queue.enqueue(unitRow(1));
    now.t = 99;
    expect(queue.runOnce()).toBe(0);
    now.t = 100;
    expect(queue.runOnce()).toBe(3);
    expect(store.activeUuids("orgunit")).toEqual([U(1)]);
    expect(store.activeUuids("user")).toEqual([B(1), B(2)]);
    expect(queue.runOnce()).toBe(1);
    expect(store.activeUuids("user")).toHaveLength(3);
    expect(queue.failureList()).toEqual([]);
  });

  it("keeps a row queued after a run began for the next run", () => {
    const { store, queue, now } = setup();
    queue.enqueue(unitRow(1, "Old"));
    now.t = 150;
    queue.enqueue(unitRow(1, "New"));
    queue.runOnce();
    expect(store.record("orgunit", U(1))?.registration.Name).toBe("Old");
    now.t = 250;
    queue.runOnce();
    expect(store.record("orgunit", U(1))?.registration.Name).toBe("New");
  });

  it("skips a user identical to the last success (ShortKey aside) unless bypassCache; a delete resets that", () => {
    const { store, queue } = setup();
    queue.enqueue(unitRow(1));
    queue.enqueue(userRow(1, 1, { ShortKey: "A" }));
    queue.drain();
    queue.enqueue(userRow(1, 1, { ShortKey: "B" }));
    queue.drain();
    expect(store.record("user", B(1))?.registration.ShortKey).toBe("A");
    expect(queue.stats().skippedIdentical).toBe(1);
    queue.enqueue({ kind: "user", operation: "DELETE", uuid: B(1), bypassCache: false, priority: 10 });
    queue.drain();
    queue.enqueue(userRow(1, 1, { ShortKey: "A" }));
    queue.drain();
    expect(store.isActive("user", B(1))).toBe(true);
  });
});

describe("FK store rules", () => {
  it("refuses by default: bad uuids, unknown delete targets, positions in missing units", () => {
    const store = new FkStore();
    expect(store.apply({ kind: "orgunit", op: "upsert", registration: { Uuid: "nope", Name: "x" } })).toMatchObject({ ok: false, rejection: { status: 40 } });
    expect(store.apply({ kind: "user", op: "deactivate", uuid: B(1) })).toMatchObject({ ok: false, rejection: { status: 44, rule: "target-must-exist" } });
    const user = { Uuid: B(1), UserId: "u", Person: { Name: "P" }, Positions: [{ Name: "X", OrgUnitUuid: U(1) }] };
    expect(store.apply({ kind: "user", op: "upsert", registration: user })).toMatchObject({ ok: false, rejection: { rule: "position-unit-must-exist" } });
    store.put("orgunit", { Uuid: U(1), Name: "Unit" });
    store.setLifecycle("orgunit", U(1), "inactive");
    expect(store.apply({ kind: "user", op: "upsert", registration: user }).ok).toBe(false);
    store.setLifecycle("orgunit", U(1), "active");
    expect(store.apply({ kind: "user", op: "upsert", registration: user }).ok).toBe(true);
  });

  it("takes optional and custom rules", () => {
    const store = new FkStore({
      rules: [parentUnitMustExist, customRule("no-test-names", (w) => (w.op === "upsert" && w.kind === "orgunit" && w.registration.Name.startsWith("TEST") ? "no test units" : undefined))],
    });
    expect(store.apply({ kind: "orgunit", op: "upsert", registration: { Uuid: U(2), Name: "A", ParentOrgUnitUuid: U(1) } })).toMatchObject({ ok: false, rejection: { rule: "parent-unit-must-exist" } });
    expect(store.apply({ kind: "orgunit", op: "upsert", registration: { Uuid: U(1), Name: "TEST 1" } })).toEqual({ ok: false, rejection: { status: 40, message: "no test units", rule: "no-test-names" } });
    expect(store.apply({ kind: "orgunit", op: "upsert", registration: { Uuid: U(1), Name: "Root" } }).ok).toBe(true);
  });
});

describe("OS2sync DTO binding and validation", () => {
  it("binds property names case-insensitively and fills absent ones with null", () => {
    const u = bindUser({ uuid: B(1), userid: "x", person: { name: "P" }, positions: [{ name: "N", orgunituuid: U(1) }] });
    expect(u).toMatchObject({ Uuid: B(1), UserId: "x", Email: null, IsRobot: false, Person: { Name: "P", Cpr: null, Uuid: null } });
    expect(validateUser(u)).toBeUndefined();
    expect(validateOrgUnit({ Uuid: U(1), Name: null })).toBe("name is null");
  });

  it("refuses values wider than the queue's columns", () => {
    expect(columnOverflow("user", bindUser({ Person: { Name: "P", Cpr: "010101-1234" } }))).toBe("Data too long for column 'cpr'");
    expect(columnOverflow("user", bindUser({ Person: { Name: "P", Cpr: "0101011234" } }))).toBeUndefined();
    expect(columnOverflow("orgunit", { ShortKey: "x".repeat(51) })).toBe("Data too long for column 'shortkey'");
  });
});
