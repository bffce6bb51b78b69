import { afterAll, describe, expect, it } from "vitest";
import { applyPlan, settleBackend } from "../../../src/apply/index.js";
import type { StateFile } from "../../../src/model/index.js";
import { startOs2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { startStateHttpServer } from "../../../src/sandbox/statehttp/index.js";
import { HttpStateBackend, StateLockedError, withLock } from "../../../src/state/index.js";
import { Os2syncClient } from "../../../src/targets/os2sync/index.js";
import { create, ENV, makePlan, TOP, unit } from "../../unit/apply/fake-fk.js";
import { sampleState, TEST_IDENTITY } from "../../unit/state/conformance.js";
import { startChild, waitFor } from "./child.js";
import { dropSchema, PG_URL, pgBackend, pgUnavailable, sql, testSchema, uniqueEnv } from "./pg.js";

/** Separate processes sharing one state, as CI runners do. */

const skipPg = pgUnavailable("test/integration/state/processes.test.ts");
const SCHEMA = testSchema("stsorg_procs");
afterAll(() => dropSchema(SCHEMA));

async function race(target: Record<string, unknown>, read: () => Promise<StateFile | null>) {
  const startAt = Date.now() + 1_500;
  const children = await Promise.all(
    ["ci@runner-a", "ci@runner-b"].map((who) => startChild("lock-and-write.mjs", { ...target, who, startAt, holdMs: 400 })),
  );
  const exits = await Promise.all(children.map((c) => c.done));
  const events = children.flatMap((c) => c.events);
  for (const c of children) expect(c.stderr()).toBe("");
  const winners = events.filter((e) => e.event === "wrote");
  const losers = events.filter((e) => e.event === "refused");
  expect(exits.map((e) => e.code).sort()).toEqual([0, 3]);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(1);
  expect(losers[0]).toMatchObject({ name: "LockError" });
  // The loser names the winner as the holder.
  expect(String(losers[0]!.message)).toContain(`state is locked by ${String(winners[0]!.who)}`);
  const final = (await read())!;
  expect(final.serial).toBe(2);
  expect(final.resources[0]!.name).toBe(winners[0]!.who);
}

describe("two applies on the same environment in separate processes", () => {
  it.skipIf(skipPg)("postgres: exactly one takes the lock and writes; the other is refused naming it", async () => {
    const environment = uniqueEnv("race");
    const b = pgBackend({ schema: SCHEMA, environment });
    await b.write(sampleState(), { lineage: null, serial: null });
    try {
      await race({ kind: "postgres", url: PG_URL, schema: SCHEMA, environment }, () => b.read());
      expect(await b.currentLock()).toBeNull();
    } finally {
      await b.close();
    }
  });

  it("http: exactly one takes the lock and writes; the other is refused naming it", async () => {
    const server = await startStateHttpServer({ lockedStatus: 409 });
    try {
      const b = new HttpStateBackend({ address: server.address("prod") });
      await b.write(sampleState(), { lineage: null, serial: null });
      await race({ kind: "http", address: server.address("prod") }, () => b.read());
      expect(server.heldLock("/state/prod")).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(skipPg)("an apply killed with SIGKILL, state in PostgreSQL", () => {
  it("leaves a readable state and a live-looking lock; after expiry the next run takes it over, settles the journal and finishes without sending any write twice", async () => {
    const sb = await startOs2syncSandbox({ cvr: ENV.cvr, queueDelayMs: 5, queueIntervalMs: 5, faults: { latencyMs: 25 } });
    const environment = uniqueEnv("crash");
    const identity = { ...TEST_IDENTITY, environment: ENV.name, cvr: ENV.cvr, admin_top_uuid: TOP };
    const backend = pgBackend({ schema: SCHEMA, environment, identity });
    try {
      sb.store.put("orgunit", { Uuid: TOP, Name: "Kommune" });
      const units = Array.from({ length: 30 }, (_, i) => unit(i + 1, TOP));
      const plan = makePlan(units.map(create), { lineage: null, serial: 0 });
      const ttlMs = 3_000;
      const child = await startChild("apply.mjs", { url: PG_URL, schema: SCHEMA, environment, identity, os2syncUrl: sb.url, cvr: ENV.cvr, plan, ttlMs });
      const posts = () => sb.log.count({ method: "POST", path: /\/orgUnit$/ });
      await waitFor("a third of the writes", () => posts() >= 10 || child.events.some((e) => e.event === "finished"));
      child.kill("SIGKILL");
      const exit = await child.done;
      expect(exit.signal).toBe("SIGKILL");
      expect(child.events.some((e) => e.event === "finished")).toBe(false);

      // The state is whole (the checksum verifies) and its journal names the writes in flight.
      const crashed = (await backend.read())!;
      expect(crashed).not.toBeNull();
      expect(crashed.resources.length + crashed.pending.length).toBeGreaterThan(0);
      expect(crashed.resources.length).toBeLessThan(units.length);
      // The versions after the first are journal rows, read with the state row.
      expect((await sql(`SELECT serial FROM "${SCHEMA}".states_journal WHERE environment = $1`, [environment])).length).toBeGreaterThan(0);

      // The dead run's lock is still live by its expiry: not taken over yet.
      const dead = (await backend.currentLock())!;
      expect(dead.Who).toBe("ci@doomed-runner");
      await expect(backend.lock({ operation: "apply", who: "ci@next", ttlMs: 60_000 })).rejects.toBeInstanceOf(StateLockedError);

      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(dead.Expires) - Date.now() + 50)));
      sb.flush();
      const client = new Os2syncClient({ url: sb.url, cvr: ENV.cvr, retries: 0 });
      await withLock(backend, { operation: "apply", who: "ci@next" }, async (lock) => {
        expect(lock.TakenOver).toMatchObject({ ID: dead.ID, Who: "ci@doomed-runner" });
        const report = await settleBackend(backend, client, { lockId: lock.ID });
        if (crashed.pending.length > 0) expect(report?.complete).toBe(true);
        const settled = (await backend.read())!;
        expect(settled.pending).toEqual([]);
        // What state records is exactly what reached FK.
        const inFk = sb.store.activeUuids("orgunit").filter((u) => u !== TOP).sort();
        expect(settled.resources.map((r) => r.uuid).sort()).toEqual(inFk);
        // The next run applies only what is left.
        const done = new Set(settled.resources.map((r) => r.uuid));
        const rest = makePlan(units.filter((u) => !done.has(u.Uuid)).map(create), { lineage: settled.lineage, serial: settled.serial });
        await applyPlan(rest, { backend, writer: client, lockId: lock.ID, parallelism: 4 });
      });
      sb.flush();
      const final = (await backend.read())!;
      expect(final.pending).toEqual([]);
      expect(final.resources.map((r) => r.uuid).sort()).toEqual(units.map((u) => u.Uuid).sort());
      expect(sb.store.activeUuids("orgunit").filter((u) => u !== TOP).sort()).toEqual(units.map((u) => u.Uuid).sort());
      // No write accepted twice for one object.
      const accepted = sb.log.entries().filter((e) => e.method === "POST" && /\/orgUnit$/.test(e.path) && e.status >= 200 && e.status < 300);
      expect(accepted).toHaveLength(units.length);
    } finally {
      await backend.close();
      await sb.stop();
    }
  });
});
