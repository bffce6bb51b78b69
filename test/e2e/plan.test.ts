import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Change, Plan, UserRegistration } from "../../src/model/index.js";
import { addDays, isCurrent, type MoFixture } from "../../src/sandbox/fixtures/index.js";
import { ensureBuilt } from "./cli.js";
import { ADMIN_TOP, startWorld, type World } from "./world.js";

/**
 * `stsorg plan` as a user runs it: a child process against the OS2mo and OS2sync sandbox servers. The tests
 * share one world and build on each other (empty FK → applied → OS2mo changed → FK changed behind stsorg's back).
 */

/** A change reduced to what a reviewer checks: what happens to which object, and which fields move. */
function shape(c: Change): string {
  const fields = c.action === "update" ? ` [${(c.fields ?? []).map((f) => f.field).sort().join(",")}]` : "";
  return `${c.action} ${c.address}${fields}`;
}

const current = (today: string) => (x: { validity: { from: string; to: string | null } }) => isCurrent(x.validity, today);

/** The FK user uuids of a person: the desired users whose UserId is one of the person's AD accounts. */
function usersOf(f: MoFixture, personUuid: string, users: Map<string, UserRegistration>, today: string): string[] {
  const ad = f.itsystems.find((s) => s.name === "Active Directory")!.uuid;
  const keys = new Set(f.itUsers.filter((i) => i.person === personUuid && i.itsystem === ad && current(today)(i)).map((i) => i.user_key));
  return [...users.values()].filter((u) => keys.has(u.UserId)).map((u) => u.Uuid);
}

describe("stsorg plan against the sandbox servers", () => {
  let w: World;
  beforeAll(async () => {
    ensureBuilt();
    w = await startWorld();
  }, 300_000);
  afterAll(async () => {
    await w?.stop();
  });

  it("plans to create everything OS2mo exports when FK holds only the root unit", async () => {
    const desired = await w.desired();
    const { plan, result } = await w.planJson(["--detailed-exitcode"]);
    expect(result.code).toBe(2);
    const creates = plan.changes.filter((c) => c.action === "create");
    // The root unit exists in FK already (the seed guide's precondition): it is taken over, not created.
    expect(plan.summary.orgunit.create).toBe(desired.orgUnits.size - 1);
    expect(plan.summary.user.create).toBe(desired.users.size);
    expect(new Set(creates.map((c) => c.address))).toEqual(
      new Set([...[...desired.orgUnits.keys()].filter((u) => u !== ADMIN_TOP).map((u) => `orgunit/${u}`), ...[...desired.users.keys()].map((u) => `user/${u}`)]),
    );
    expect(plan.changes.filter((c) => c.action !== "create").map((c) => c.address)).toEqual([`orgunit/${ADMIN_TOP}`]);
    expect(plan.summary.delete).toBe(0);
    expect(plan.state).toEqual({ lineage: null, serial: 0 });
    // Parents before children, units before users: no create names a unit that is created later.
    const seen = new Set<string>([ADMIN_TOP]);
    for (const c of creates) {
      const refs = c.kind === "orgunit" ? [(c.after as { ParentOrgUnitUuid?: string }).ParentOrgUnitUuid] : (c.after as UserRegistration).Positions.map((p) => p.OrgUnitUuid);
      for (const r of refs) if (r !== undefined) expect(seen.has(r), `${c.address} before its unit ${r}`).toBe(true);
      if (c.kind === "orgunit") seen.add(c.uuid);
    }

    const human = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain(`Plan: ${creates.length} to add, 0 to change, 0 to destroy`);
    // A plan changes nothing.
    expect(w.state()).toBeNull();
    expect(w.sync.store.activeOrgUnits()).toHaveLength(1);
  }, 60_000);

  it("saves a plan with --out that `show` renders exactly as plan printed it", async () => {
    for (const format of ["json", "markdown"]) {
      const file = join(w.dir, `first-${format}.plan.json`);
      const planned = await w.cli(["plan", "-e", w.name, "--out", file, "--format", format, "--max-chars", "8000"]);
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stderr).toContain(`Saved the plan to ${file}`);
      const shown = await w.cli(["show", file, "--format", format, "--max-chars", "8000", "--full-plan-hint", `run \`stsorg show ${file}\``]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout, `show --format ${format}`).toBe(planned.stdout);
      if (format === "json") expect(readFileSync(file, "utf8")).toBe(planned.stdout);
      if (format === "markdown") {
        expect(shown.stdout.length).toBeLessThanOrEqual(8000);
        expect(shown.stdout).toMatch(/Output truncated:\*\* \d+ entries left out/);
        expect(shown.stdout).toContain(`stsorg show ${file}`);
      }
    }
  }, 120_000);

  it("prints the same bytes for the same inputs; only the plan's own times differ", async () => {
    // created_at is the plan's own time; observed_at is when FK was read, an input, and the plan id is the
    // hash of a body that includes it.
    const mask = (p: Plan, text: string) =>
      text.replaceAll(p.created_at, "<created_at>").replaceAll(p.refresh.observed_at ?? "<none>", "<observed_at>").replaceAll(p.plan_id, "<plan_id>").replaceAll(p.plan_id.slice(0, 12), "<plan_id>");
    const runs = [];
    for (const format of ["json", "json", "markdown", "markdown"]) {
      const file = join(w.dir, `same-${format}.plan.json`);
      const r = await w.cli(["plan", "-e", w.name, "--format", format, "--out", file]);
      runs.push({ text: r.stdout, plan: JSON.parse(readFileSync(file, "utf8")) as Plan });
    }
    const [a, b, c, d] = runs.map((r) => ({ ...r, masked: mask(r.plan, r.text) }));
    expect(a!.plan.created_at).not.toBe(b!.plan.created_at);
    expect(b!.masked).toBe(a!.masked);
    expect(d!.masked).toBe(c!.masked);
    expect(a!.masked).not.toContain(a!.plan.created_at.slice(0, 10) + "T");
  }, 120_000);

  it("after an apply, shows exactly the changes made in OS2mo: rename, move, new unit, ended engagement, new person, leaver", async () => {
    const applied = await w.cli(["apply", "-e", w.name, "--auto-approve", "--summary"]);
    expect(applied.code, applied.stderr).toBe(0);
    const settledPlan = await w.planJson(["--detailed-exitcode"]);
    expect(settledPlan.result.code).toBe(0);

    const today = w.today;
    const yesterday = addDays(today, -1);
    const f = w.mo.data.toFixture();
    const before = await w.desired();
    const isCur = current(today);
    const units = [...before.orgUnits.values()].filter((u) => u.Uuid !== ADMIN_TOP);
    const childrenOf = (uuid: string) => units.filter((u) => u.ParentOrgUnitUuid === uuid);

    const renamed = units.find((u) => u.ParentOrgUnitUuid === ADMIN_TOP)!;
    const moved = units.find((u) => childrenOf(u.Uuid).length === 0 && u.ParentOrgUnitUuid !== renamed.Uuid && u.ParentOrgUnitUuid !== ADMIN_TOP)!;
    const newParent = units.find((u) => u.Uuid !== moved.Uuid && u.Uuid !== moved.ParentOrgUnitUuid)!;

    const managers = new Set(f.managers.filter(isCur).map((m) => m.person));
    const engagementsOf = (p: string) => f.engagements.filter((e) => e.person === p && isCur(e) && before.orgUnits.has(e.org_unit));
    // A person with one FK user holding two positions in two units; one engagement ends.
    const ending = f.persons.find((p) => {
      const users = usersOf(f, p.uuid, before.users, today);
      const es = engagementsOf(p.uuid);
      return !managers.has(p.uuid) && users.length === 1 && es.length === 2 && es[0]!.org_unit !== es[1]!.org_unit && before.users.get(users[0]!)!.Positions.length === 2;
    })!;
    // A person with one engagement and one FK user leaves.
    const leaver = f.persons.find((p) => !managers.has(p.uuid) && p.uuid !== ending.uuid && usersOf(f, p.uuid, before.users, today).length === 1 && engagementsOf(p.uuid).length === 1 && f.engagements.filter((e) => e.person === p.uuid).length === 1)!;
    expect([renamed, moved, newParent, ending, leaver].every(Boolean)).toBe(true);

    w.mo.mutate.renameUnit(renamed.Uuid, `${renamed.Name} og Digitalisering`);
    w.mo.mutate.moveUnit(moved.Uuid, newParent.Uuid);
    const added = w.mo.mutate.addUnit({ uuid: "5e1f0c4a-9b7d-4e2a-8c3f-1d6b2a9e7f40", name: "Center for Klima", parent: w.topUnitUuid, validity: { from: yesterday, to: null } });
    w.mo.mutate.endEngagement(engagementsOf(ending.uuid)[0]!.uuid, yesterday);
    w.mo.mutate.endEngagement(engagementsOf(leaver.uuid)[0]!.uuid, yesterday);
    const template = f.engagements.find((e) => e.job_function !== null && isCur(e) && e.org_unit === newParent.Uuid) ?? f.engagements.find((e) => e.job_function !== null && isCur(e))!;
    const person = w.mo.mutate.addPerson({ uuid: "8d2b6f0e-5a4c-4e1b-9f3d-7c6a5b4e3d21", name: "Nyansat Testesen" });
    const eng = w.mo.mutate.addEngagement({ uuid: "9e3c7a1f-6b5d-4f2c-8a4e-8d7b6c5f4e32", person: person.uuid, org_unit: template.org_unit, job_function: template.job_function, validity: { from: yesterday, to: null } });
    const adSystem = f.itsystems.find((s) => s.name === "Active Directory")!.uuid;
    w.mo.mutate.upsert("itUsers", {
      uuid: "af4d8b2a-7c6e-4a3d-9b5f-9e8c7d6a5f43",
      user_key: "nyt9999",
      external_id: "b05e9c3b-8d7f-4b4e-8c6a-af9d8e7b6a54",
      itsystem: adSystem,
      person: person.uuid,
      org_unit: null,
      engagement: eng.uuid,
      validity: { from: yesterday, to: null },
    });

    const after = await w.desired();
    const newUser = [...after.users.values()].find((u) => u.UserId === "nyt9999");
    expect(newUser, "the new person maps to an FK user").toBeDefined();
    const endingUser = usersOf(f, ending.uuid, before.users, today)[0]!;
    const leaverUser = usersOf(f, leaver.uuid, before.users, today)[0]!;

    const { plan, result } = await w.planJson(["--detailed-exitcode"]);
    expect(result.code).toBe(2);
    expect(plan.changes.map(shape).sort()).toEqual(
      [
        `update orgunit/${renamed.Uuid} [Name]`,
        `update orgunit/${moved.Uuid} [ParentOrgUnitUuid]`,
        `create orgunit/${added.uuid}`,
        `update user/${endingUser} [Positions]`,
        `create user/${newUser!.Uuid}`,
        `delete user/${leaverUser}`,
      ].sort(),
    );
    const rename = plan.changes.find((c) => c.address === `orgunit/${renamed.Uuid}`)!;
    expect(rename.fields).toEqual([{ field: "Name", before: renamed.Name, after: `${renamed.Name} og Digitalisering` }]);
    const move = plan.changes.find((c) => c.address === `orgunit/${moved.Uuid}`)!;
    expect(move.fields).toEqual([{ field: "ParentOrgUnitUuid", before: moved.ParentOrgUnitUuid, after: newParent.Uuid }]);
    expect(plan.drift).toEqual([]);
    expect(plan.guards).toEqual([]);

    const file = join(w.dir, "changes.plan.json");
    const human = await w.cli(["plan", "-e", w.name, "--out", file]);
    expect(human.stdout).toContain("Plan: 2 to add, 3 to change, 1 to destroy.");
    expect(human.stdout).toContain(`~ Name: "${renamed.Name}" -> "${renamed.Name} og Digitalisering"`);
    // A reviewer reading the saved plan sees what plan printed, also where positions name unchanged units.
    expect((await w.cli(["show", file])).stdout).toBe(human.stdout);
    const treeFile = join(w.dir, "changes-tree.plan.json");
    const tree = await w.cli(["plan", "-e", w.name, "--format", "tree", "--out", treeFile]);
    expect(tree.stdout).toContain("unchanged");
    expect((await w.cli(["show", treeFile, "--format", "tree"])).stdout).toBe(tree.stdout);

    const done = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain("Apply complete! Resources: 2 added, 3 changed, 1 destroyed.");
    expect(await w.fkDifferences()).toEqual([]);
  }, 120_000);

  it("reports FK changed behind stsorg's back as drift; --refresh-only plans no writes and exits 2", async () => {
    const state = w.state()!;
    const unit = state.resources.find((r) => r.kind === "orgunit" && r.uuid !== ADMIN_TOP)!;
    const user = state.resources.find((r) => r.kind === "user")!;
    // Through the OS2sync sandbox's admin API, as another tool or a person in FK's admin UI would.
    const put = await fetch(`${w.sync.origin}/_sandbox/fk/orgunit/${unit.uuid}`, {
      method: "PUT",
      body: JSON.stringify({ ...unit.attributes, Name: "Omdøbt i FK" }),
      headers: { "content-type": "application/json" },
    });
    expect(put.status).toBeLessThan(300);
    const gone = await fetch(`${w.sync.origin}/_sandbox/fk/user/${user.uuid}/lifecycle`, {
      method: "POST",
      body: JSON.stringify({ lifecycle: "inactive" }),
      headers: { "content-type": "application/json" },
    });
    expect(gone.status).toBeLessThan(300);

    const refreshOnly = await w.planJson(["--refresh-only", "--detailed-exitcode"]);
    expect(refreshOnly.result.code).toBe(2);
    expect(refreshOnly.plan.changes).toEqual([]);
    expect(refreshOnly.plan.drift.map((d) => `${d.type} ${d.address}`).sort()).toEqual([`changed orgunit/${unit.uuid}`, `deleted user/${user.uuid}`].sort());
    expect(refreshOnly.plan.drift.find((d) => d.type === "changed")!.fields).toEqual([{ field: "Name", before: unit.name, after: "Omdøbt i FK" }]);

    const human = await w.cli(["plan", "-e", w.name, "--refresh-only", "--detailed-exitcode"]);
    expect(human.code).toBe(2);
    expect(human.stdout).toMatch(/changed outside/i);
    expect(human.stdout).not.toMatch(/Plan: \d+ to add/);

    // A refresh-only plan cannot be applied.
    const file = join(w.dir, "drift.plan.json");
    await w.cli(["plan", "-e", w.name, "--refresh-only", "--out", file]);
    const refused = await w.cli(["apply", "-e", w.name, file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refresh-only/);

    // A normal plan repairs both.
    const { plan } = await w.planJson();
    expect(plan.changes.map(shape).sort()).toEqual([`create user/${user.uuid}`, `update orgunit/${unit.uuid} [Name]`].sort());
    const repaired = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
    const clean = await w.cli(["plan", "-e", w.name, "--refresh-only", "--detailed-exitcode"]);
    expect(clean.code).toBe(0);
  }, 120_000);

  it("refuses mass deletes past safety.maxDeletes, naming the numbers and --allow-deletes N, which lets them through", async () => {
    w.writeManifest((y) => y.replace("maxDeletes: { count: 50, percent: 25 }", "maxDeletes: { count: 3, percent: 25 }"));
    const f = w.mo.data.toFixture();
    const desired = await w.desired();
    const isCur = current(w.today);
    const managers = new Set(f.managers.filter(isCur).map((m) => m.person));
    const leavers = f.persons
      .filter((p) => !managers.has(p.uuid) && usersOf(f, p.uuid, desired.users, w.today).length === 1)
      .filter((p) => f.engagements.filter((e) => e.person === p.uuid && isCur(e)).length === 1)
      .slice(0, 5);
    expect(leavers).toHaveLength(5);
    for (const p of leavers) {
      for (const e of f.engagements.filter((e) => e.person === p.uuid && isCur(e))) w.mo.mutate.endEngagement(e.uuid, addDays(w.today, -1));
    }
    const managed = w.state()!.resources.length;

    const refused = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("Plan: 0 to add, 0 to change, 5 to destroy.");
    const message = refused.stdout + refused.stderr;
    expect(message).toContain(`The plan deletes 5 objects (${Math.round((500 / managed) * 10) / 10}% of ${managed} managed objects)`);
    expect(message).toContain("(3 objects or 25%)");
    expect(message).toContain("--allow-deletes 5");

    const applyRefused = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(applyRefused.code).toBe(1);
    expect(w.sync.store.activeUsers()).toHaveLength(desired.users.size);

    // Saved, the refused plan is kept for review, and both plan and apply say that the way on is a new plan.
    const saved = join(w.dir, "refused.plan.json");
    const savedRefused = await w.cli(["plan", "-e", w.name, "--out", saved]);
    expect(savedRefused.code).toBe(1);
    expect(savedRefused.stderr).toContain(`Saved the plan to ${saved} for review. It cannot be applied: a safety guard refused it; check the plan, then plan again with --allow-deletes 5 and apply that plan.`);
    expect(savedRefused.stderr).not.toContain("To carry it out");
    const savedApply = await w.cli(["apply", "-e", w.name, saved, "--allow-deletes", "5"]);
    expect(savedApply.code).toBe(1);
    expect(savedApply.stderr).toContain("plan again with --allow-deletes 5 and apply that plan");
    // Taking the guard out of the file by hand does not get the deletes through either.
    const unguarded = JSON.parse(readFileSync(saved, "utf8")) as Plan;
    unguarded.guards = [];
    writeFileSync(saved, JSON.stringify(unguarded));
    const editedApply = await w.cli(["apply", "-e", w.name, saved]);
    expect(editedApply.code).toBe(1);
    expect(editedApply.stderr).toContain("plan file was changed after it was made");
    expect(w.sync.store.activeUsers()).toHaveLength(desired.users.size);
    for (const bad of ["abc", "-1", "2.5"]) {
      const r = await w.cli(["plan", "-e", w.name, `--allow-deletes=${bad}`]);
      expect(r.code, bad).toBe(1);
      expect(r.stderr, bad).toContain("--allow-deletes must be a whole number of deletes (0 or more).");
      expect(r.stderr, bad).not.toContain("NaN");
    }

    const tooFew = await w.cli(["plan", "-e", w.name, "--allow-deletes", "4"]);
    expect(tooFew.code).toBe(1);

    const allowed = await w.cli(["plan", "-e", w.name, "--allow-deletes", "5", "--detailed-exitcode"]);
    expect(allowed.code).toBe(2);
    const applied = await w.cli(["apply", "-e", w.name, "--auto-approve", "--allow-deletes", "5"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("Apply complete! Resources: 0 added, 0 changed, 5 destroyed.");
    expect(await w.fkDifferences()).toEqual([]);
    expect((await w.cli(["plan", "-e", w.name, "--detailed-exitcode"])).code).toBe(0);
  }, 120_000);

  it("with --refresh fk and an unreadable certificate, fails at once without reading OS2mo or OS2sync", async () => {
    w.writeManifest((y) => y.replace("path: certs/foces.p12", "path: certs/missing.p12"));
    try {
      w.mo.log.clear();
      const before = w.sync.log.entries().length;
      const r = await w.cli(["plan", "-e", w.name, "--refresh", "fk"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/missing\.p12: the organisation certificate cannot be read/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(w.mo.log.entries()).toEqual([]);
      expect(w.sync.log.entries().length).toBe(before);
    } finally {
      w.writeManifest();
    }
  });

  it("when OS2mo refuses it, ends with that error without waiting for OS2sync's hierarchy job", async () => {
    // A real hierarchy job can take many minutes; this one would take ten.
    w.sync.faults.set({ hierarchyDelayMs: 600_000 });
    try {
      const r = await w.cli(["plan", "-e", w.name], { env: { E2E_MO_SECRET: "not-the-secret" }, timeoutMs: 60_000 });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/OS2mo|Keycloak/);
      expect(r.stderr).not.toMatch(/hierarchy job still running/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      w.sync.faults.set({});
    }
  });
});
