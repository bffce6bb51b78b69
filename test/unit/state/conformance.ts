import { describe, expect, it } from "vitest";
import { LockError, StateError } from "../../../src/errors/index.js";
import type { StateFile, StateResource } from "../../../src/model/index.js";
import {
  attributesSha256,
  newState,
  putResource,
  StateLockedError,
  withLock,
  type StateBackend,
  type StateIdentity,
} from "../../../src/state/index.js";

/**
 * The behaviour every state backend must show. Each backend's test file calls `backendConformance` with
 * a factory; a backend that passes can be used by apply and the state commands without special cases.
 */

export interface ConformanceClock {
  now(): Date;
  advance(ms: number): void;
}

export interface ConformanceFixture {
  /** A new handle on the same stored state, as a second process would open it. */
  open(opts?: { identity?: StateIdentity }): Promise<StateBackend> | StateBackend;
  /** Damages the stored state so that it can no longer be read (backends that can be damaged). */
  corrupt?(): Promise<void>;
  cleanup?(): Promise<void>;
}

export const TEST_IDENTITY: StateIdentity = {
  environment: "test",
  cvr: "12345678",
  admin_top_uuid: "aaaaaaaa-0000-4000-8000-000000000001",
};

/** An org unit as recorded by a created write; `n` gives it a uuid easy to tell apart. */
export function orgUnitResource(n: number, name: string, parent: string = TEST_IDENTITY.admin_top_uuid): StateResource {
  const uuid = `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const attributes = { Uuid: uuid, Name: name, ParentOrgUnitUuid: parent } as StateResource["attributes"];
  return {
    address: `orgunit/${uuid}`,
    kind: "orgunit",
    uuid,
    name,
    attributes,
    attributes_sha256: attributesSha256(attributes),
    applied_at: "2025-01-02T03:04:05.000Z",
    confirmed: false,
    origin: "created",
  };
}

export function sampleState(lineage = "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c"): StateFile {
  const s = newState({ lineage, ...TEST_IDENTITY, tool_version: "0.1.0" });
  const attributes = { Uuid: "bbbbbbbb-0000-4000-8000-000000000002", Name: "Borgerservice", ParentOrgUnitUuid: TEST_IDENTITY.admin_top_uuid };
  return putResource(s, {
    address: `orgunit/${attributes.Uuid}`,
    kind: "orgunit",
    uuid: attributes.Uuid,
    name: attributes.Name,
    attributes,
    attributes_sha256: attributesSha256(attributes),
    applied_at: "2025-01-02T03:04:05.000Z",
    confirmed: false,
    origin: "created",
  });
}

function bump(s: StateFile, name: string): StateFile {
  const r = s.resources[0]!;
  const attributes = { ...r.attributes, Name: name };
  return putResource(s, { ...r, name, attributes, attributes_sha256: attributesSha256(attributes) });
}

export interface ConformanceOptions {
  /**
   * The backend decides concurrent compare-and-swap writes atomically (default true). A backend whose
   * protocol cannot (Terraform's HTTP protocol overwrites on POST) relies on the lock instead and sets false.
   */
  atomicCompareAndSwap?: boolean;
}

export function backendConformance(
  name: string,
  makeFixture: (clock: { now: () => Date }) => Promise<ConformanceFixture> | ConformanceFixture,
  options: ConformanceOptions = {},
): void {
  describe(`state backend conformance: ${name}`, () => {
    async function setup(): Promise<{ fx: ConformanceFixture; clock: ConformanceClock; a: StateBackend; b: StateBackend }> {
      let t = Date.parse("2025-03-01T10:00:00.000Z");
      const clock: ConformanceClock = { now: () => new Date(t), advance: (ms) => void (t += ms) };
      const fx = await makeFixture({ now: () => clock.now() });
      return { fx, clock, a: await fx.open(), b: await fx.open() };
    }

    async function withFixture(fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>): Promise<void> {
      const ctx = await setup();
      try {
        await fn(ctx);
      } finally {
        await ctx.fx.cleanup?.();
      }
    }

    it("reads null before anything is written", () =>
      withFixture(async ({ a }) => {
        expect(await a.read()).toBeNull();
        expect(await a.currentLock()).toBeNull();
        expect(a.describe()).not.toBe("");
      }));

    it("stores a new state and gives it back, also to another handle", () =>
      withFixture(async ({ a, b }) => {
        const s = sampleState();
        await a.write(s, { lineage: null, serial: null });
        expect(await a.read()).toEqual(s);
        expect(await b.read()).toEqual(s);
      }));

    it("does not let a caller alias the stored state", () =>
      withFixture(async ({ a }) => {
        const s = sampleState();
        await a.write(s, { lineage: null, serial: null });
        s.resources[0]!.name = "changed after write";
        const read = await a.read();
        expect(read!.resources[0]!.name).toBe("Borgerservice");
        read!.serial = 99;
        expect((await a.read())!.serial).toBe(1);
      }));

    it("compare-and-swap: accepts the expected version and refuses every other", () =>
      withFixture(async ({ a, b }) => {
        const s1 = sampleState();
        await a.write(s1, { lineage: null, serial: null });
        const s2 = bump(s1, "Borgerservice 2");
        // A second "new" state over an existing one.
        await expect(b.write(newState({ lineage: "11111111-1111-4111-8111-111111111111", ...TEST_IDENTITY, tool_version: "x" }), { lineage: null, serial: null })).rejects.toBeInstanceOf(StateError);
        // Stale serial and other lineage.
        await expect(b.write(s2, { lineage: s1.lineage, serial: s1.serial - 1 })).rejects.toBeInstanceOf(StateError);
        await expect(b.write(s2, { lineage: "22222222-2222-4222-8222-222222222222", serial: s1.serial })).rejects.toBeInstanceOf(StateError);
        // A next state that does not raise the serial.
        await expect(b.write({ ...s2, serial: s1.serial }, { lineage: s1.lineage, serial: s1.serial })).rejects.toThrow(/serial/);
        expect(await a.read()).toEqual(s1);
        await b.write(s2, { lineage: s1.lineage, serial: s1.serial });
        expect(await a.read()).toEqual(s2);
        // The first handle's idea of the version is now stale.
        await expect(a.write(bump(s1, "lost update"), { lineage: s1.lineage, serial: s1.serial })).rejects.toThrow(/serial/);
        expect((await b.read())!.resources[0]!.name).toBe("Borgerservice 2");
      }));

    it("interim writes are read back like whole writes, by another handle too, and checked the same way", () =>
      withFixture(async ({ a, b }) => {
        const s1 = sampleState();
        await a.write(s1, { lineage: null, serial: null });
        let s = s1;
        for (const name of ["Borgerservice 2", "Borgerservice 3", "Borgerservice 4"]) {
          const next = { ...bump(s, name), pending: [...s.pending, { id: `p-${name}`, address: s.resources[0]!.address, action: "update" as const, started_at: "2025-03-01T10:00:00.000Z", plan_id: "0".repeat(64) }] };
          await a.write(next, { lineage: s.lineage, serial: s.serial }, { interim: true });
          s = next;
          expect(await b.read()).toEqual(s);
        }
        await expect(b.write(bump(s1, "stale"), { lineage: s1.lineage, serial: s1.serial }, { interim: true })).rejects.toThrow(/serial/);
        const whole = { ...bump(s, "whole"), pending: [] };
        await b.write(whole, { lineage: s.lineage, serial: s.serial });
        expect(await a.read()).toEqual(whole);
        expect(await b.read()).toEqual(whole);
      }));

    it.skipIf(options.atomicCompareAndSwap === false)("of two concurrent writers expecting the same version, exactly one wins", () =>
      withFixture(async ({ a, b }) => {
        const s1 = sampleState();
        await a.write(s1, { lineage: null, serial: null });
        const results = await Promise.allSettled([
          a.write(bump(s1, "from a"), { lineage: s1.lineage, serial: s1.serial }),
          b.write(bump(s1, "from b"), { lineage: s1.lineage, serial: s1.serial }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const winner = results[0]!.status === "fulfilled" ? "from a" : "from b";
        expect((await a.read())!.resources[0]!.name).toBe(winner);
      }));

    it("refuses a state that belongs to another environment", () =>
      withFixture(async ({ fx, a }) => {
        await a.write(sampleState(), { lineage: null, serial: null });
        const prod = await fx.open({ identity: { ...TEST_IDENTITY, environment: "prod" } });
        await expect(prod.read()).rejects.toThrow(/environment "test" \(the manifest is "prod"\)/);
        const otherCvr = await fx.open({ identity: { ...TEST_IDENTITY, cvr: "87654321" } });
        await expect(otherCvr.read()).rejects.toThrow(/CVR 12345678/);
        const same = await fx.open({ identity: TEST_IDENTITY });
        expect(await same.read()).not.toBeNull();
      }));

    it("refuses a damaged state with a StateError", () =>
      withFixture(async ({ fx, a }) => {
        if (!fx.corrupt) return;
        await a.write(sampleState(), { lineage: null, serial: null });
        await fx.corrupt();
        await expect(a.read()).rejects.toBeInstanceOf(StateError);
      }));

    it("locks: records who holds it and refuses a second locker while it lives", () =>
      withFixture(async ({ a, b, clock }) => {
        const lock = await a.lock({ operation: "apply", who: "alice@host1", info: "plan abc", ttlMs: 60_000 });
        expect(lock).toMatchObject({ Operation: "apply", Who: "alice@host1", Info: "plan abc", Created: clock.now().toISOString() });
        expect(Date.parse(lock.Expires)).toBe(clock.now().getTime() + 60_000);
        expect(lock.ID).not.toBe("");
        expect(lock.Path).not.toBe("");
        expect(await b.currentLock()).toMatchObject({ ID: lock.ID, Who: "alice@host1", Operation: "apply" });
        clock.advance(59_000);
        const err = await b.lock({ operation: "plan", who: "bob@host2", ttlMs: 60_000 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StateLockedError);
        expect((err as StateLockedError).holder.ID).toBe(lock.ID);
        expect((err as Error).message).toMatch(/state is locked/);
      }));

    it("lets an expired lock be taken over; the old holder can then neither renew, write nor unlock", () =>
      withFixture(async ({ a, b, clock }) => {
        const s1 = sampleState();
        await a.write(s1, { lineage: null, serial: null });
        const old = await a.lock({ operation: "apply", who: "ci@runner1", ttlMs: 60_000 });
        clock.advance(60_001);
        const fresh = await b.lock({ operation: "apply", who: "ci@runner2", ttlMs: 60_000 });
        expect(fresh.ID).not.toBe(old.ID);
        expect(fresh.TakenOver).toMatchObject({ ID: old.ID, Who: "ci@runner1" });
        expect((await a.currentLock())!.ID).toBe(fresh.ID);
        await expect(a.refreshLock(old.ID, 60_000)).rejects.toBeInstanceOf(LockError);
        await expect(a.write(bump(s1, "zombie"), { lineage: s1.lineage, serial: s1.serial, lockId: old.ID })).rejects.toBeInstanceOf(LockError);
        await expect(a.unlock(old.ID)).rejects.toBeInstanceOf(LockError);
        await b.write(bump(s1, "new holder"), { lineage: s1.lineage, serial: s1.serial, lockId: fresh.ID });
        expect((await a.read())!.resources[0]!.name).toBe("new holder");
        await b.unlock(fresh.ID);
      }));

    it("refreshLock extends the expiry from now", () =>
      withFixture(async ({ a, b, clock }) => {
        const lock = await a.lock({ operation: "apply", who: "a@h", ttlMs: 10_000 });
        clock.advance(8_000);
        const refreshed = await a.refreshLock(lock.ID, 10_000);
        expect(Date.parse(refreshed.Expires)).toBe(clock.now().getTime() + 10_000);
        clock.advance(8_000);
        // 16 s after creation: without the refresh it would have expired.
        await expect(b.lock({ operation: "plan", who: "b@h", ttlMs: 10_000 })).rejects.toBeInstanceOf(StateLockedError);
      }));

    it("unlock needs the current ID; afterwards the state can be locked again", () =>
      withFixture(async ({ a, b }) => {
        const lock = await a.lock({ operation: "apply", who: "a@h", ttlMs: 60_000 });
        await expect(b.unlock("not-the-id")).rejects.toThrow(lock.ID);
        // Another handle may release it with the right ID (`state unlock ID`).
        await b.unlock(lock.ID);
        expect(await a.currentLock()).toBeNull();
        await expect(b.unlock(lock.ID)).rejects.toBeInstanceOf(LockError);
        const again = await b.lock({ operation: "state rm", who: "b@h", ttlMs: 60_000 });
        expect(again.TakenOver).toBeUndefined();
      }));

    it("withLock keeps the lock alive with a heartbeat and releases it afterwards", () =>
      withFixture(async ({ a, b, clock }) => {
        const seen = await withLock(a, { operation: "apply", who: "a@h", ttlMs: 1_000, heartbeatMs: 5, now: clock.now }, async (lock) => {
          const firstExpiry = Date.parse(lock.Expires);
          clock.advance(900);
          for (let i = 0; i < 200; i++) {
            const cur = await b.currentLock();
            if (cur && Date.parse(cur.Expires) > firstExpiry) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          clock.advance(900);
          // 1.8 s after creation with a 1 s TTL: still held thanks to the heartbeat.
          await expect(b.lock({ operation: "plan", who: "b@h", ttlMs: 1_000 })).rejects.toBeInstanceOf(StateLockedError);
          return lock.ID;
        });
        expect(seen).not.toBe("");
        expect(await b.currentLock()).toBeNull();
      }));

    it("withLock releases the lock when the work fails", () =>
      withFixture(async ({ a, b }) => {
        await expect(withLock(a, { operation: "apply", who: "a@h" }, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
        expect(await b.currentLock()).toBeNull();
      }));
  });
}
