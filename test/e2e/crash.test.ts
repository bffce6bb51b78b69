import { existsSync, readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./cli.js";
import { blindResends, lockIdIn, recordFkEvents, startWorld, until, writeCounts, type FkEvent, type Running, type World } from "./world.js";

/**
 * Crash safety of `stsorg apply`: the CLI as a child process, killed (SIGKILL) or interrupted (SIGINT) at
 * several points of a first apply (about 340 writes) against the sandbox servers. What must hold afterwards:
 * the next run settles what the dead run left in its journal and says so, FK ends up equal to the desired
 * state, and no object was written twice without a read of it in between.
 */
describe("stsorg apply when the process dies or is interrupted", () => {
  let w: World | undefined;
  let events: FkEvent[];
  const writes = () => events.filter((e) => e.type === "write").length;

  beforeAll(() => ensureBuilt(), 300_000);
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  async function world(): Promise<World> {
    w = await startWorld();
    events = recordFkEvents(w.sync);
    return w;
  }

  async function killWhen(run: Running, ready: () => boolean, signal: NodeJS.Signals = "SIGKILL") {
    await until(ready, 60_000, "the kill point");
    run.child.kill(signal);
    return run.done;
  }

  /**
   * After a SIGKILL the dead run's lock stays until it expires; the user releases it with `state unlock ID`
   * (the "state is locked" message names the ID, checked once). Then apply again and check the outcome.
   */
  async function recover(w: World, expectSettle: RegExp | null, opts: { showLocked?: boolean } = {}): Promise<void> {
    let id = (JSON.parse(readFileSync(`${w.statePath}.lock`, "utf8")) as { ID: string }).ID;
    if (opts.showLocked) {
      const locked = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain("state is locked by");
      expect(locked.stderr).toContain('for "apply"');
      expect(lockIdIn(locked.stderr)).toBe(id);
      id = lockIdIn(locked.stderr)!;
    }
    const unlocked = await w.cli(["state", "unlock", id, "-e", w.name, "--force"]);
    expect(unlocked.code, unlocked.stderr).toBe(0);

    const applied = await w.cli(["apply", "-e", w.name, "--auto-approve", "--summary"]);
    expect(applied.code, applied.stderr).toBe(0);
    if (expectSettle) expect(applied.stderr).toMatch(expectSettle);
    else expect(applied.stderr).not.toContain("Settled");

    const plan = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(plan.code, plan.stdout).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
    expect(w.state()!.pending).toEqual([]);
    expect(w.locked()).toBe(false);
    expect(blindResends(events)).toEqual([]);
    const desired = await w.desired();
    expect(writeCounts(events).size).toBe(desired.orgUnits.size + desired.users.size);
  }

  it("before any write: the next run finds no journal and writes everything once", async () => {
    const w = await world();
    const run = w.spawn(["apply", "-e", w.name, "--auto-approve"]);
    // Killed while it reads FK's hierarchy, holding the lock, before it has journaled anything.
    const r = await killWhen(run, () => w.sync.log.count({ method: "GET", path: /hierarchy/i }) > 0);
    expect(r.signal).toBe("SIGKILL");
    expect(writes()).toBe(0);
    expect(w.state()).toBeNull();
    await recover(w, null, { showLocked: true });
    expect([...writeCounts(events).values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it("during writes: the next run reads the journaled objects back and settles them", async () => {
    const w = await world();
    w.sync.faults.set({ latencyMs: 15 });
    const run = w.spawn(["apply", "-e", w.name, "--auto-approve"]);
    await killWhen(run, () => writes() >= 40);
    w.sync.faults.clear();
    // The apply's latest versions are in the journal beside the file, which the next run must read.
    expect(existsSync(`${w.statePath}.journal`)).toBe(true);
    const left = w.state()!;
    expect(left.pending.length).toBeGreaterThan(0);
    await recover(w, /Settled \d+ write\(s\) left by an interrupted run: \d+ applied[.,]/);
  }, 120_000);

  it("with responses lost in flight: writes that landed after the crash are settled as applied, not sent again", async () => {
    const w = await world();
    // Every write reaches OS2sync 1.5 s after it was sent; the run is killed before any answer comes back,
    // so it never learns that the writes in flight were queued.
    w.sync.faults.next({ action: "delay", method: "POST", delayMs: 1500, count: 1000 });
    const run = w.spawn(["apply", "-e", w.name, "--auto-approve"]);
    let journaledAt = 0;
    await killWhen(run, () => {
      if (journaledAt === 0 && (w.state()?.pending.length ?? 0) > 0) journaledAt = Date.now();
      return journaledAt > 0 && Date.now() - journaledAt > 300;
    });
    expect(writes()).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    w.sync.faults.clear();
    const landed = writes();
    expect(landed).toBeGreaterThan(0);
    await recover(w, new RegExp(`Settled \\d+ write\\(s\\) left by an interrupted run: ${landed} applied[.,]`));
    expect([...writeCounts(events).values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it("after the writes, while confirming them: nothing is left to settle or to write", async () => {
    const w = await world();
    const run = w.spawn(["apply", "-e", w.name, "--auto-approve", "--wait=2m"]);
    await killWhen(run, () => run.stderr().includes("written objects back from FK"));
    const total = writes();
    expect(w.state()!.pending).toEqual([]);
    await recover(w, null);
    expect(writes()).toBe(total);
  }, 120_000);

  it("SIGINT during writes finishes the writes in flight, saves the state, releases the lock and exits 130", async () => {
    const w = await world();
    w.sync.faults.set({ latencyMs: 15 });
    const run = w.spawn(["apply", "-e", w.name, "--auto-approve"]);
    const r = await killWhen(run, () => writes() >= 40, "SIGINT");
    w.sync.faults.clear();
    expect(r.code).toBe(130);
    expect(r.stderr.match(/received/g)).toEqual(["received"]);
    expect(r.stderr).toContain("SIGINT received: no new writes are started");
    expect(r.stderr).toMatch(/Interrupted: \d+ changes were not started/);
    expect(r.stdout).not.toContain("Apply complete!");
    expect(r.stdout).toMatch(/Apply interrupted! Resources: \d+ added, [01] changed, 0 destroyed; \d+ not started\./);
    const state = w.state()!;
    expect(state.pending).toEqual([]);
    expect(w.locked()).toBe(false);
    // The state holds exactly what FK accepted.
    expect(state.resources.map((x) => x.address).sort()).toEqual([...writeCounts(events).keys()].sort());

    const plan = await w.cli(["plan", "-e", w.name, "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).not.toContain("Settled");
    const applied = await w.cli(["apply", "-e", w.name, "--auto-approve"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await w.fkDifferences()).toEqual([]);
    expect(blindResends(events)).toEqual([]);
    expect([...writeCounts(events).values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
