import { afterAll, describe, expect, it } from "vitest";
import { hashCpr, ORG_UNIT_FIELDS, type ActualState } from "../../../src/model/index.js";
import { startFkSandbox, type FkSandbox } from "../../../src/sandbox/fk/index.js";
import type { FkStore } from "../../../src/sandbox/fkstore/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { FK_OBSERVED_ORG_UNIT_FIELDS, FK_UNREADABLE_ORG_UNIT_FIELDS, fkObservedUserFields, refreshFromFk } from "../../../src/targets/fk/index.js";
import { Os2syncClient, refreshActual } from "../../../src/targets/os2sync/index.js";
import { CPR_KEY, defaultPolicy, fkWithDesired, richPolicy, stateAfterApply, values } from "./equality.js";
import { clientFor, CVR } from "./helpers.js";

const NOW = new Date("2026-01-15T09:00:00Z");
const running: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

async function sandboxes(store: FkStore): Promise<{ fk: FkSandbox; os2sync: Os2syncSandbox }> {
  const fk = await startFkSandbox({ store, cvr: CVR });
  const os2sync = await startOs2syncSandbox({ store, cvr: CVR });
  running.push(fk, os2sync);
  return { fk, os2sync };
}

async function full(os2sync: Os2syncSandbox, hash: boolean): Promise<ActualState> {
  const client = new Os2syncClient({ url: os2sync.url, cvr: CVR });
  try {
    return await refreshActual("full", { client, state: null, now: () => NOW, concurrency: 8, ...(hash ? { hashCpr: (c) => hashCpr(c, CPR_KEY) } : {}) });
  } finally {
    client.close();
  }
}

describe("--refresh fk against --refresh full on the same FK", () => {
  it("gives the same actual state for the medium municipality, field for field", async () => {
    const { store, desired, policy } = fkWithDesired("medium", defaultPolicy);
    const { fk, os2sync } = await sandboxes(store);
    const client = clientFor(fk);
    const viaFk = await refreshFromFk({ client, now: () => NOW, syncCpr: policy.syncCpr, state: stateAfterApply(desired) });
    const withoutState = await refreshFromFk({ client, now: () => NOW, syncCpr: policy.syncCpr });
    client.close();
    const viaFull = await full(os2sync, false);

    expect(viaFk.users.size).toBe(desired.users.size);
    expect(viaFk.orgUnits.size).toBe(desired.orgUnits.size);
    expect(viaFk.users.size).toBeGreaterThan(3000);
    expect(values(viaFk)).toBe(values(viaFull));
    // Without a state file only the fields FK's schema lacks are missing, and they are marked so.
    expect(values(withoutState)).toBe(values(viaFull, FK_UNREADABLE_ORG_UNIT_FIELDS));
    expect([...withoutState.orgUnits.values()].every((o) => o.observed !== "all" && !o.observed.includes("Type"))).toBe(true);
    expect(FK_OBSERVED_ORG_UNIT_FIELDS.length).toBe(ORG_UNIT_FIELDS.length - FK_UNREADABLE_ORG_UNIT_FIELDS.length);
    // Every user field stsorg writes is read from FK.
    expect([...viaFk.users.values()].every((u) => u.observed !== "all" && u.observed.length === fkObservedUserFields(false).length)).toBe(true);
  }, 120_000);

  it("gives the same actual state with managers, contact tasks, addresses and CPR numbers synchronised", async () => {
    const { store, desired, policy } = fkWithDesired("small", richPolicy);
    const { fk, os2sync } = await sandboxes(store);
    const client = clientFor(fk);
    const viaFk = await refreshFromFk({ client, now: () => NOW, syncCpr: policy.syncCpr, hashCpr: (c) => hashCpr(c, CPR_KEY), state: stateAfterApply(desired) });
    client.close();
    const viaFull = await full(os2sync, true);
    const sample = [...desired.users.values()];
    // The policy really fills the fields compared here.
    expect(sample.some((u) => u.Person.Cpr !== undefined)).toBe(true);
    expect([...desired.orgUnits.values()].some((u) => u.ManagerUuid !== undefined)).toBe(true);
    expect(sample.some((u) => u.Email !== undefined)).toBe(true);
    expect(values(viaFk)).toBe(values(viaFull));
  }, 60_000);
});
