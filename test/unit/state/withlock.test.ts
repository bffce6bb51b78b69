import { describe, expect, it } from "vitest";
import { LockError } from "../../../src/errors/index.js";
import { MemoryStateBackend, memoryStore, StateLockedError, withLock } from "../../../src/state/index.js";

function fakeClock(start = "2025-03-01T10:00:00.000Z") {
  let t = Date.parse(start);
  const slept: number[] = [];
  return {
    now: () => new Date(t),
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    advance: (ms: number) => void (t += ms),
    slept,
  };
}

describe("withLock", () => {
  it("retries a held lock with backoff 1 s doubling to 16 s until --lock-timeout, then names the holder", async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const other = new MemoryStateBackend({ store, now: clock.now });
    const held = await other.lock({ operation: "apply", who: "ci@runner-7", ttlMs: 3_600_000 });
    clock.advance(90_000);
    const me = new MemoryStateBackend({ store, now: clock.now });
    let waitedFor: string | undefined;
    const err = (await withLock(
      me,
      { operation: "plan", environment: "prod", who: "me@laptop", lockTimeoutMs: 60_000, now: clock.now, sleep: clock.sleep, onWait: (h) => (waitedFor = h.ID) },
      async () => "never",
    ).catch((e: unknown) => e)) as StateLockedError;
    expect(clock.slept).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 13_000]);
    expect(waitedFor).toBe(held.ID);
    expect(err).toBeInstanceOf(LockError);
    expect(err.message).toContain("state is locked");
    expect(err.message).toContain(held.ID);
    expect(err.message).toContain("ci@runner-7");
    expect(err.message).toContain('"apply"');
    // 90 s before we started plus the minute we waited.
    expect(err.message).toContain("since 2m30s ago");
    // A command that can be run as printed.
    expect(err.hint).toContain(`stsorg state unlock -e prod ${held.ID}`);
  });

  it("fails at once without --lock-timeout", async () => {
    const clock = fakeClock();
    const store = memoryStore();
    await new MemoryStateBackend({ store, now: clock.now }).lock({ operation: "apply", who: "a@h", ttlMs: 60_000 });
    await expect(
      withLock(new MemoryStateBackend({ store, now: clock.now }), { operation: "plan", who: "b@h", now: clock.now, sleep: clock.sleep }, async () => 1),
    ).rejects.toBeInstanceOf(StateLockedError);
    expect(clock.slept).toEqual([]);
  });

  it("gets the lock once the holder releases it while we wait", async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const other = new MemoryStateBackend({ store, now: clock.now });
    const held = await other.lock({ operation: "apply", who: "a@h", ttlMs: 600_000 });
    const sleep = async (ms: number) => {
      await clock.sleep(ms);
      if (clock.slept.length === 3) await other.unlock(held.ID);
    };
    const me = new MemoryStateBackend({ store, now: clock.now });
    const result = await withLock(me, { operation: "apply", who: "b@h", lockTimeoutMs: 300_000, now: clock.now, sleep }, async (lock) => {
      expect((await me.currentLock())!.ID).toBe(lock.ID);
      return "done";
    });
    expect(result).toBe("done");
    expect(clock.slept).toEqual([1_000, 2_000, 4_000]);
    expect(await me.currentLock()).toBeNull();
  });

  it("takes over an expired lock and says whose it was", async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const crashed = await new MemoryStateBackend({ store, now: clock.now }).lock({ operation: "apply", who: "ci@runner-7", ttlMs: 60_000 });
    clock.advance(120_000);
    const taken: string[] = [];
    const result = await withLock(
      new MemoryStateBackend({ store, now: clock.now }),
      { operation: "plan", who: "me@laptop", now: clock.now, sleep: clock.sleep, heartbeatMs: 60_000, onTakeOver: (p) => taken.push(`${p.Who} ${p.Operation} ${p.ID}`) },
      async () => "done",
    );
    expect(result).toBe("done");
    expect(taken).toEqual([`ci@runner-7 apply ${crashed.ID}`]);
  });

  it("signals a lost lock when the heartbeat finds it taken away", async () => {
    const store = memoryStore();
    const me = new MemoryStateBackend({ store });
    let sawLoss: unknown;
    const outcome = await withLock(me, { operation: "apply", who: "a@h", ttlMs: 60_000, heartbeatMs: 5 }, async (lock, lost) => {
      await new MemoryStateBackend({ store }).unlock(lock.ID);
      await Promise.race([
        new Promise<void>((resolve) => lost.addEventListener("abort", () => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 2_000)),
      ]);
      sawLoss = lost.reason;
      return "finished";
    }).catch((e: unknown) => e);
    expect(sawLoss).toBeInstanceOf(LockError);
    // Releasing a lock that is gone is reported too, not silently ignored.
    expect(outcome).toBeInstanceOf(LockError);
  });
});
