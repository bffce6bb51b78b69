import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./cli.js";
import { blindResends, recordFkEvents, startWorld, writeCounts, type FkEvent, type World } from "./world.js";

/** `stsorg apply` against an OS2sync that fails in the ways a real one does; each outcome asserted. */
describe("stsorg apply against a failing OS2sync", () => {
  let w: World | undefined;
  let events: FkEvent[];

  beforeAll(() => ensureBuilt(), 300_000);
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it("retries writes answered 500, dropped before or after handling, or timed out, reading back first, and completes", async () => {
    // A one-second request timeout, so that a slow answer counts as lost.
    w = await startWorld({ os2syncExtra: "    timeoutSeconds: 1" });
    events = recordFkEvents(w.sync);
    const faults = [
      { action: "error", status: 500, count: 3 },
      { action: "drop", count: 2 },
      // Handled (queued in OS2sync), then the connection is closed: the answer is lost.
      { action: "drop-after", count: 2 },
      // Handled after the client has given up.
      { action: "delay", delayMs: 1500, count: 2 },
    ] as const;
    for (const f of faults) w.sync.faults.next({ ...f, method: "POST" });

    const r = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.sync.faults.pendingOneShots()).toEqual([]);
    expect(r.stderr.match(/Retrying /g)?.length).toBeGreaterThanOrEqual(9);
    expect(r.stderr).toMatch(/Retrying \S+ \(.*\) in 1s after: .*500/);
    const desired = await w.desired();
    expect(r.stdout).toContain(`Apply complete! Resources: ${desired.orgUnits.size - 1 + desired.users.size} added, 1 changed, 0 destroyed.`);
    expect(await w.fkDifferences()).toEqual([]);
    // The writes that were handled before their answer was lost were found by the read-back and not sent again.
    expect([...writeCounts(events).values()].every((n) => n === 1)).toBe(true);
    expect(blindResends(events)).toEqual([]);
    expect(w.state()!.pending).toEqual([]);
  }, 120_000);

  it("records a write OS2sync refuses with 400, carries on with independent objects, lists every failure and exits 1", async () => {
    w = await startWorld();
    events = recordFkEvents(w.sync);
    // The second unit written (a unit under the root, with units and users below it) is refused.
    w.sync.faults.next({ action: "delay", delayMs: 0, method: "POST", path: "/api/orgUnit$" });
    w.sync.faults.next({ action: "error", status: 400, method: "POST", path: "/api/orgUnit$" });
    const r = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(r.code).toBe(1);
    const failed = /Error: create (orgunit\/[0-9a-f-]{36}) "([^"]+)" failed: (.*)/.exec(r.stderr);
    expect(failed, r.stderr).not.toBeNull();
    const failedUuid = failed![1]!.slice("orgunit/".length);
    // Everything that needs the failed unit waits for the next run; the rest is written.
    const skipped = [...r.stderr.matchAll(/Skipped: create (\S+) ".*" \(depends on (\S+)\)/g)];
    expect(skipped.length).toBeGreaterThan(0);
    const desired = await w.desired();
    const needsFailed = [...desired.users.values()].filter((u) => u.Positions.some((p) => p.OrgUnitUuid === failedUuid)).map((u) => `user/${u.Uuid}`);
    for (const a of needsFailed) expect(skipped.map((m) => m[1])).toContain(a);
    expect(writeCounts(events).size).toBe(desired.orgUnits.size + desired.users.size - 1 - skipped.length);
    expect(w.state()!.pending).toEqual([]);
    expect(w.locked()).toBe(false);

    const { plan } = await w.planJson();
    expect(plan.changes.map((c) => c.address).sort()).toEqual([failed![1]!, ...skipped.map((m) => m[1]!)].sort());
    const again = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
  }, 120_000);

  it("reports a write FK rejected after OS2sync accepted it as not confirmed (apply --wait exits 1); the next plan still has it", async () => {
    w = await startWorld();
    events = recordFkEvents(w.sync);
    const desired = await w.desired();
    const victim = [...desired.users.values()][7]!;
    const reject = await fetch(`${w.sync.origin}/_sandbox/reject`, {
      method: "POST",
      body: JSON.stringify({ uuid: victim.Uuid, message: "Brugeren findes allerede i en anden kommune" }),
      headers: { "content-type": "application/json" },
    });
    expect(reject.status).toBeLessThan(300);

    const r = await w.cli(["apply", "-e", w.name, "--auto-approve", "--wait=3s"]);
    expect(r.code).toBe(1);
    const total = desired.orgUnits.size + desired.users.size;
    expect(r.stderr).toContain(`Confirmed ${total - 1} of ${total} writes in FK.`);
    expect(r.stderr).toContain(`Not confirmed: create user/${victim.Uuid} "${victim.Person.Name} (${victim.UserId})": not found in FK`);
    expect(r.stderr).toContain("OS2sync's queue may have rejected them");
    expect(w.sync.queue.failureList().map((f) => f.uuid)).toEqual([victim.Uuid]);

    const { plan } = await w.planJson(["--detailed-exitcode"]);
    expect(plan.changes.map((c) => `${c.action} ${c.address}`)).toEqual([`create user/${victim.Uuid}`]);

    expect(plan.drift).toEqual([]);

    await fetch(`${w.sync.origin}/_sandbox/reject`, { method: "DELETE" });
    const again = await w.cli(["apply", "-e", w.name, "--auto-approve", "--wait=30s"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
  }, 120_000);

  it("keeps a rejected update and a rejected delete in the next plan, not reported as drift", async () => {
    const world = (w = await startWorld());
    expect((await world.cli(["apply", "-e", world.name, "--auto-approve"])).code).toBe(0);
    const desired = await world.desired();
    const f = world.mo.data.toFixture();
    const unit = [...desired.orgUnits.values()].find((u) => u.ParentOrgUnitUuid === world.adminTopUuid)!;
    // A person with one engagement and one account leaves; FK refuses to deactivate their user.
    const ad = f.itsystems.find((s) => s.name === "Active Directory")!.uuid;
    const managers = new Set(f.managers.map((m) => m.person));
    const leaver = f.persons.find((p) => {
      const accounts = f.itUsers.filter((i) => i.person === p.uuid && i.itsystem === ad);
      return !managers.has(p.uuid) && accounts.length === 1 && f.engagements.filter((e) => e.person === p.uuid).length === 1 && [...desired.users.values()].some((u) => u.UserId === accounts[0]!.user_key);
    })!;
    const userId = f.itUsers.find((i) => i.person === leaver.uuid && i.itsystem === ad)!.user_key;
    const user = [...desired.users.values()].find((u) => u.UserId === userId)!;
    for (const uuid of [unit.Uuid, user.Uuid]) {
      await fetch(`${w.sync.origin}/_sandbox/reject`, { method: "POST", body: JSON.stringify({ uuid }), headers: { "content-type": "application/json" } });
    }
    w.mo.mutate.renameUnit(unit.Uuid, `${unit.Name} (ny)`);
    w.mo.mutate.endEngagement(f.engagements.find((e) => e.person === leaver.uuid)!.uuid, "2000-01-01");

    const r = await w.cli(["apply", "-e", w.name, "--auto-approve", "--wait=3s"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Not confirmed: update orgunit/${unit.Uuid}`);
    expect(r.stderr).toContain(`Not confirmed: delete user/${user.Uuid}`);

    const { plan } = await w.planJson(["--detailed-exitcode"]);
    expect(plan.changes.map((c) => `${c.action} ${c.address}`).sort()).toEqual([`delete user/${user.Uuid}`, `update orgunit/${unit.Uuid}`].sort());
    expect(plan.drift).toEqual([]);

    await fetch(`${w.sync.origin}/_sandbox/reject`, { method: "DELETE" });
    const again = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
  }, 120_000);
});
