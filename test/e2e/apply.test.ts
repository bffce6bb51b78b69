import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan, StateFile } from "../../src/model/index.js";
import { ensureBuilt } from "./cli.js";
import { ADMIN_TOP, blindResends, lockIdIn, recordFkEvents, startWorld, until, writeCounts, type FkEvent, type World } from "./world.js";

/**
 * `stsorg apply` and the state file, as a user runs them: child processes against the OS2mo and OS2sync
 * sandbox servers. The tests share one world and build on each other.
 */
describe("stsorg apply and its state", () => {
  let w: World;
  let events: FkEvent[];
  const writes = () => events.filter((e) => e.type === "write").length;
  const renameSomeUnit = async (suffix: string): Promise<string> => {
    const unit = [...(await w.desired()).orgUnits.values()].find((u) => u.Uuid !== ADMIN_TOP && u.ParentOrgUnitUuid === ADMIN_TOP)!;
    w.mo.mutate.renameUnit(unit.Uuid, `${unit.Name} ${suffix}`);
    return unit.Uuid;
  };

  beforeAll(async () => {
    ensureBuilt();
    w = await startWorld();
    events = recordFkEvents(w.sync);
  }, 300_000);
  afterAll(async () => {
    await w?.stop();
  });

  it("refuses to apply without approval when there is no terminal to ask", async () => {
    const r = await w.cli(["apply", "-e", w.name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No terminal to ask for approval, and --auto-approve was not given.");
    expect(writes()).toBe(0);
    expect(w.locked()).toBe(false);
  }, 60_000);

  it("refuses a mistyped option before doing anything: no write, no state, no lock", async () => {
    const r = await w.cli(["apply", "-e", w.name, "--auto-approve", "--wiat=30s"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: Unknown argument: wiat");
    expect(r.stdout).toBe("");
    expect(writes()).toBe(0);
    expect(w.state()).toBeNull();
    expect(w.locked()).toBe(false);
  }, 60_000);

  it("accepts --no-color, which every command's help lists", async () => {
    const r = await w.cli(["plan", "-e", w.name, "--no-color", "--summary", "--refresh", "none"]);
    expect(r.stderr).not.toContain("Unknown argument");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("to add");
    expect(r.stdout).not.toMatch(/\u001b\[/);
  }, 60_000);

  it("applies the plan, after which FK equals OS2mo and plan shows no changes", async () => {
    const desired = await w.desired();
    const r = await w.cli(["apply", "-e", w.name, "--auto-approve", "--summary", "--wait=30s"]);
    expect(r.code, r.stderr).toBe(0);
    // The root unit was in FK with only its name; the refresh could not read the rest, so apply read it
    // back and wrote it rather than recording content FK does not hold.
    expect(r.stdout).toContain(`Apply complete! Resources: ${desired.orgUnits.size - 1 + desired.users.size} added, 1 changed, 0 destroyed.`);
    expect(r.stderr).toMatch(/Confirmed (\d+) of \1 writes in FK\./);
    expect(await w.fkDifferences()).toEqual([]);
    // Every object written once, none twice.
    expect([...writeCounts(events).values()].every((n) => n === 1)).toBe(true);
    expect(writeCounts(events).size).toBe(desired.orgUnits.size + desired.users.size);

    const state = w.state()!;
    expect(state.pending).toEqual([]);
    expect(state.resources).toHaveLength(desired.orgUnits.size + desired.users.size);
    expect(state.resources.every((r) => r.confirmed)).toBe(true);
    expect(w.locked()).toBe(false);

    const before = writes();
    const plan = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("No changes. STS Organisation matches OS2mo.");
    // Reading every field of every object agrees.
    expect((await w.cli(["plan", "-e", w.name, "--refresh", "full", "--detailed-exitcode"])).code).toBe(0);
    const again = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes. STS Organisation matches OS2mo.");
    expect(writes()).toBe(before);
  }, 120_000);

  it("refuses a saved plan once another apply has changed the state (stale), and writes nothing", async () => {
    await renameSomeUnit("(1)");
    const file = join(w.dir, "stale.plan.json");
    expect((await w.cli(["plan", "-e", w.name, "--out", file])).code).toBe(0);
    const other = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(other.code, other.stderr).toBe(0);
    const before = writes();
    const serial = w.state()!.serial;

    const r = await w.cli(["apply", "-e", w.name, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Saved plan is stale: the state changed after the plan was made (plan serial ${(JSON.parse(readFileSync(file, "utf8")) as Plan).state.serial}, state serial ${serial}).`);
    expect(writes()).toBe(before);
    expect(w.state()!.serial).toBe(serial);
    expect(w.locked()).toBe(false);
  }, 60_000);

  it("refuses a saved plan edited after it was made (a value, a change, its serial, its date), and writes nothing", async () => {
    const renamed = await renameSomeUnit("(1b)");
    const file = join(w.dir, "reviewed.plan.json");
    expect((await w.cli(["plan", "-e", w.name, "--out", file])).code).toBe(0);
    const reviewed = readFileSync(file, "utf8");
    const edits: [string, (p: Plan) => void][] = [
      ["a name", (p) => void ((p.changes.find((c) => c.uuid === renamed)!.after as { Name: string }).Name = "Hand Edited Name")],
      ["a change removed", (p) => void p.changes.pop()],
      ["the state serial", (p) => void (p.state.serial += 1)],
    ];
    const before = writes();
    for (const [what, edit] of edits) {
      const plan = JSON.parse(reviewed) as Plan;
      edit(plan);
      const edited = join(w.dir, "edited.plan.json");
      writeFileSync(edited, JSON.stringify(plan, null, 2));
      const r = await w.cli(["apply", "-e", w.name, edited]);
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toContain("plan file was changed after it was made: its content does not match its plan_id.");
    }
    const future = JSON.parse(reviewed) as Plan;
    future.created_at = "2099-01-01T00:00:00.000Z";
    writeFileSync(join(w.dir, "future.plan.json"), JSON.stringify(future, null, 2));
    const r = await w.cli(["apply", "-e", w.name, join(w.dir, "future.plan.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Saved plan is dated in the future: made at 2099-01-01T00:00:00.000Z");
    expect(writes()).toBe(before);
    // The file as reviewed still applies.
    const ok = await w.cli(["apply", "-e", w.name, file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
  }, 60_000);

  it("refuses a saved plan when the manifest changed after it was made, and applies it once the manifest is back", async () => {
    const renamed = await renameSomeUnit("(2)");
    const file = join(w.dir, "manifest.plan.json");
    expect((await w.cli(["plan", "-e", w.name, "--out", file])).code).toBe(0);
    w.writeManifest((y) => y.replace("safety:\n", "# reviewed\n  safety:\n"));
    const before = writes();
    const r = await w.cli(["apply", "-e", w.name, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Saved plan was made with another version of the manifest.");
    expect(writes()).toBe(before);

    w.writeManifest();
    const ok = await w.cli(["apply", "-e", w.name, file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.");
    expect(events.slice(events.length - (writes() - before)).filter((e) => e.type === "write").map((e) => e.key)).toEqual([`orgunit/${renamed}`]);
    expect(await w.fkDifferences()).toEqual([]);
  }, 60_000);

  it("lets one of two concurrent applies run; the other fails on the lock or waits for it, and the state stays consistent", async () => {
    await renameSomeUnit("(3)");
    const from = events.length;
    // The first apply's write takes 8 s to be answered, so it holds the lock while the others start.
    w.sync.faults.next({ action: "delay", method: "POST", delayMs: 8000 });
    const first = w.spawn(["apply", "-e", w.name, "--auto-approve"]);
    await until(() => w.locked(), 30_000, "the first apply's lock");
    const [second, third] = [w.cli(["apply", "-e", w.name, "--auto-approve"]), w.spawn(["apply", "-e", w.name, "--auto-approve", "--lock-timeout", "2m"])];
    const b = await second;
    const a = await first.done;
    const c = await third.done;

    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.");
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("state is locked by");
    expect(b.stderr).toContain('for "apply"');
    expect(b.stderr).toMatch(/ID:\s+[0-9a-f-]{36}/);
    expect(b.stderr).toContain("--lock-timeout");
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain("Waiting for the state lock");
    expect(c.stdout).toContain("No changes. STS Organisation matches OS2mo.");

    const state = w.state()!;
    expect(state.pending).toEqual([]);
    expect(w.locked()).toBe(false);
    expect(await w.fkDifferences()).toEqual([]);
    // One rename, written once, by the apply that held the lock.
    expect(events.slice(from).filter((e) => e.type === "write")).toHaveLength(1);
    expect(blindResends(events.slice(from))).toEqual([]);
  }, 120_000);

  it("refuses a damaged state file, naming the backup, and works again once the backup is restored", async () => {
    const good = readFileSync(w.statePath, "utf8");
    const backup = `${w.statePath}.backup`;
    expect(existsSync(backup)).toBe(true);
    // Still valid JSON, but not what stsorg wrote.
    writeFileSync(w.statePath, good.replace(/"serial": (\d+)/, (_m, n: string) => `"serial": ${Number(n) + 7}`));
    const r = await w.cli(["plan", "-e", w.name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`State ${w.statePath} does not match its checksum`);
    expect(r.stderr).toContain(`The previous version is kept in ${backup}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    writeFileSync(w.statePath, good.slice(0, good.length / 2));
    const truncated = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain("is not valid JSON");
    expect(truncated.stderr).toContain(backup);
    // Nothing was written over the damaged file or the backup.
    expect(readFileSync(w.statePath, "utf8")).toBe(good.slice(0, good.length / 2));

    // The backup is the state as it was before the last apply (which renamed one unit): with it back, the
    // plan writes nothing to FK and only records that unit again.
    copyFileSync(backup, w.statePath);
    const restored = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(restored.code, restored.stderr).toBe(2);
    expect(restored.stdout).toContain("Plan: 0 to add, 0 to change, 0 to destroy, 1 to adopt.");
  }, 60_000);

  it("refuses a state file that belongs to another environment", async () => {
    const otherManifest = readFileSync(join(w.dir, "environments", `${w.name}.yaml`), "utf8")
      .replace(`name: ${w.name}\n`, "name: other\n")
      .replace(`path: state/${w.name}.json`, "path: state/other.json");
    writeFileSync(join(w.dir, "environments", "other.yaml"), otherManifest);
    copyFileSync(w.statePath, join(w.dir, "state", "other.json"));
    const before = writes();
    const r = await w.cli(["apply", "-e", "other", "--auto-approve"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`belongs to environment "${w.name}" (the manifest is "other")`);
    expect(r.stderr).toContain("each environment needs its own state");
    expect(writes()).toBe(before);
    const state = JSON.parse(readFileSync(join(w.dir, "state", "other.json"), "utf8")) as StateFile;
    expect(state.environment).toBe(w.name);
  }, 60_000);
});
