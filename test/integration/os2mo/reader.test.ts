import { afterEach, describe, expect, it } from "vitest";
import { AuthError, formatError, RemoteError } from "../../../src/errors/index.js";
import { generateMunicipality, snapshotFromFixture } from "../../../src/sandbox/fixtures/index.js";
import type { Os2moSandbox } from "../../../src/sandbox/os2mo/index.js";
import { readMoSnapshot, type ReadMoOptions } from "../../../src/sources/os2mo/index.js";
import { A, C, E, I, K, M, P, S, TINY_TODAY, tinyFixture, U } from "../../fixtures/os2mo/tiny.js";
import { FAST_RETRY, readerConfig, startTiny } from "./helpers.js";
import { startOs2moSandbox } from "../../../src/sandbox/os2mo/index.js";
import type { Os2moReadConfig } from "../../../src/sources/os2mo/index.js";

let sandbox: Os2moSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

async function read(sb: Os2moSandbox, config: Partial<Os2moReadConfig> = {}, opts: Partial<ReadMoOptions> = {}) {
  return readMoSnapshot(readerConfig(sb, config), { topUnitUuid: sb.data.topUnitUuid, today: TINY_TODAY, retry: FAST_RETRY, ...opts });
}

const graphqlRequests = (sb: Os2moSandbox) => sb.log.entries().filter((e) => e.path === "/graphql/v25");

describe("readMoSnapshot against the OS2mo sandbox", () => {
  it("returns exactly the relevant content of the fixture", async () => {
    sandbox = await startTiny();
    const { snapshot, stats } = await read(sandbox);

    expect(snapshot).toEqual(snapshotFromFixture(tinyFixture(), { today: TINY_TODAY }));
    expect(snapshot.orgUnits.map((u) => u.uuid)).toEqual([U(1), U(2), U(3), U(4), U(5)]);
    expect(snapshot.persons.map((p) => p.uuid)).toEqual([P(1), P(2), P(3), P(7)]);
    expect(snapshot.engagements.map((e) => e.uuid)).toEqual([E(1), E(2), E(3), E(4), E(9)]);
    expect(snapshot.addresses).toHaveLength(15);
    expect(snapshot.itUsers.map((i) => i.uuid)).toEqual([I(1), I(2), I(3), I(4), I(5), I(7)]);
    expect(snapshot.managers.map((m) => m.uuid)).toEqual([M(1), M(2)]);
    expect(snapshot.kles.map((k) => k.uuid)).toEqual([K(1), K(2)]);

    // Specific objects, as the mapping will see them.
    expect(snapshot.orgUnits[0]).toMatchObject({ name: "Solby Kommune", parent: null, org_unit_level: { user_key: "N1" } });
    expect(snapshot.orgUnits.find((u) => u.uuid === U(3))).toMatchObject({ name: "Børn og Unge", parent: U(1) });
    expect(snapshot.engagements.find((e) => e.uuid === E(4))).toEqual({
      uuid: E(4),
      person: P(3),
      org_unit: U(4),
      job_function: { uuid: C(23), user_key: "paedagog", name: "Pædagog", scope: null },
      extensions: {},
      is_primary: true,
      validity: { from: "2025-04-01", to: null },
    });
    expect(snapshot.engagements[0]?.extensions).toEqual({ extension_1: "Borgerrådgiver", extension_3: "Kontor" });
    expect(snapshot.persons.find((p) => p.uuid === P(2))).toEqual({ uuid: P(2), name: "Bjørn Østergård", nickname: "Bo", cpr_number: "0202802345" });
    expect(snapshot.persons.find((p) => p.uuid === P(7))?.cpr_number).toBeNull();
    expect(snapshot.addresses.find((a) => a.uuid === A(6))).toEqual({
      uuid: A(6),
      address_type: { uuid: C(4), user_key: "Location", name: "Lokation", scope: "DAR" },
      visibility: null,
      name: "Rådhuspladsen 1, 9999 Solby",
      value: "0a3f50a0-23c9-32b8-e044-0003ba298018",
      org_unit: U(1),
      person: null,
      engagement: null,
      ituser: null,
    });
    expect(snapshot.addresses.find((a) => a.uuid === A(15))).toMatchObject({ person: P(1), engagement: E(1), visibility: { scope: "PUBLIC" } });
    expect(snapshot.itUsers.find((i) => i.uuid === I(1))).toEqual({
      uuid: I(1),
      user_key: "anne1",
      external_id: "a1b2c3d4-0000-4000-8000-000000000001",
      itsystem: { uuid: S(1), name: "Active Directory", user_key: "Active Directory" },
      person: P(1),
      org_unit: null,
      engagement: E(1),
    });
    expect(snapshot.managers.find((m) => m.uuid === M(2))).toMatchObject({ person: null, org_unit: U(1) });
    expect(snapshot.managers.find((m) => m.uuid === M(1))?.responsibilities.map((r) => r.user_key)).toEqual(["personale", "budget"]);
    expect(snapshot.kles.find((k) => k.uuid === K(1))?.kle_aspects.map((a) => a.name)).toEqual(["Udførende", "Ansvarlig"]);

    expect(stats.tokenRequests).toBe(1);
    expect(stats.requests).toBe(graphqlRequests(sandbox).length + stats.tokenRequests);
    expect(stats.objects).toBe(39);
  });

  it("follows cursors across page boundaries: limit 7 reads the same as limit 1000", async () => {
    sandbox = await startTiny();
    const big = await read(sandbox, { pageSize: 1000 });
    sandbox.log.clear();
    const small = await read(sandbox, { pageSize: 7 });
    expect(small.snapshot).toEqual(big.snapshot);
    expect(small.stats.requests).toBeGreaterThan(big.stats.requests);
    // 15 addresses: 11 of units in 2 pages of 7, 4 of persons in one batch.
    expect(small.stats.pages.addresses).toBe(3);
    expect(graphqlRequests(sandbox).every((e) => e.objects <= 7)).toBe(true);
  });

  it("keeps paging through short and empty pages until the cursor is null", async () => {
    sandbox = await startTiny({ faults: { shortPages: true } });
    const { snapshot } = await read(sandbox, { pageSize: 4 });
    expect(graphqlRequests(sandbox).some((e) => e.objects === 0)).toBe(true);
    expect(snapshot).toEqual(snapshotFromFixture(tinyFixture(), { today: TINY_TODAY }));
  });

  it("gets a new token once when OS2mo stops accepting the old one mid-read", async () => {
    sandbox = await startTiny({ faults: { expireTokensAfter: 3 } });
    const { snapshot, stats } = await read(sandbox, { pageSize: 3 }, { concurrency: 1 });
    expect(snapshot).toEqual(snapshotFromFixture(tinyFixture(), { today: TINY_TODAY }));
    expect(stats.tokenRequests).toBe(2);
    const refused = graphqlRequests(sandbox).filter((e) => e.fault === "unauthenticated");
    expect(refused).toHaveLength(1);
    expect(refused[0]?.status).toBe(200);
  });

  it("retries injected 503 answers and dropped connections, then succeeds", async () => {
    sandbox = await startTiny({ faults: { failNext: 3, errorStatus: 503, dropNext: 2 } });
    const { snapshot, stats } = await read(sandbox);
    expect(snapshot).toEqual(snapshotFromFixture(tinyFixture(), { today: TINY_TODAY }));
    expect(stats.retries).toBe(5);
    const log = graphqlRequests(sandbox);
    expect(log.filter((e) => e.status === 503)).toHaveLength(3);
    expect(log.filter((e) => e.fault === "drop")).toHaveLength(2);
  });

  it("stops with a clear error naming the query when OS2mo keeps answering 500", async () => {
    sandbox = await startTiny({ faults: { errorRate: 1, errorStatus: 500 } });
    const err = await read(sandbox, {}, { concurrency: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    const text = formatError(err);
    expect(text).toMatch(/^Error: query Mo\w+ failed: OS2mo answered HTTP 500/);
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    // Bounded: five attempts for the first query, and the others stop instead of starting their own.
    expect(graphqlRequests(sandbox).length).toBeLessThanOrEqual(5);
  });

  it("stops sending queries when its signal is aborted, and throws the signal's reason", async () => {
    sandbox = await startTiny({ faults: { latencyMs: 50 } });
    const stop = new AbortController();
    const reason = new Error("the FK read failed");
    const reading = read(sandbox, { pageSize: 2 }, { concurrency: 1, signal: stop.signal }).catch((e: unknown) => e);
    while (graphqlRequests(sandbox).length < 2) await new Promise((r) => setTimeout(r, 5));
    const atAbort = graphqlRequests(sandbox).length;
    stop.abort(reason);
    expect(await reading).toBe(reason);
    await new Promise((r) => setTimeout(r, 200));
    // At most the query under way when the signal came; a whole read with pages of 2 takes dozens.
    expect(graphqlRequests(sandbox).length).toBeLessThanOrEqual(atAbort + 1);
  });

  it("reports a bad client secret once, without retrying or querying OS2mo", async () => {
    sandbox = await startTiny();
    const err = await read(sandbox, { clientSecret: "wrong" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(formatError(err)).toContain('Keycloak refused the OS2mo client "stsorg" (HTTP 401, unauthorized_client');
    expect(formatError(err)).toContain("${env:STSORG_MO_SECRET}");
    expect(formatError(err)).not.toContain("wrong");
    const log = sandbox.log.entries();
    expect(log.filter((e) => e.path.includes("/token"))).toHaveLength(1);
    expect(graphqlRequests(sandbox)).toHaveLength(0);
  });

  it("says so when the top unit is not a current unit", async () => {
    sandbox = await startTiny();
    const err = await readMoSnapshot(readerConfig(sandbox), { topUnitUuid: U(7), today: TINY_TODAY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(formatError(err)).toContain(`the top unit ${U(7)} is not a current unit in OS2mo`);
  });

  it("sees changes made to the running sandbox", async () => {
    sandbox = await startTiny();
    sandbox.mutate.renameUnit(U(2), "Borgerservice og Ydelser");
    sandbox.mutate.moveUnit(U(9), U(3));
    const person = sandbox.mutate.addPerson({ name: "Ny Medarbejder" });
    sandbox.mutate.addEngagement({ person: person.uuid, org_unit: U(9), job_function: C(21) });
    sandbox.mutate.endEngagement(E(3), "2025-02-28");
    const { snapshot } = await read(sandbox);
    expect(snapshot).toEqual(snapshotFromFixture(sandbox.data.toFixture(), { today: TINY_TODAY }));
    expect(snapshot.orgUnits.find((u) => u.uuid === U(2))?.name).toBe("Borgerservice og Ydelser");
    expect(snapshot.orgUnits.some((u) => u.uuid === U(9))).toBe(true);
    expect(snapshot.persons.some((p) => p.uuid === person.uuid)).toBe(true);
    expect(snapshot.persons.some((p) => p.uuid === P(5))).toBe(true);
    expect(snapshot.engagements.some((e) => e.uuid === E(3))).toBe(false);
  });

  it("reads the generated small municipality exactly as snapshotFromFixture says", async () => {
    const today = "2025-03-01";
    const fixture = generateMunicipality({ size: "small", seed: 1, today });
    sandbox = await startOs2moSandbox({ fixture, clock: () => new Date(`${today}T10:00:00Z`) });
    const expected = snapshotFromFixture(fixture, { today });
    for (const pageSize of [7, 1000]) {
      const { snapshot } = await readMoSnapshot(readerConfig(sandbox, { pageSize }), { topUnitUuid: fixture.topUnitUuid, today });
      expect(snapshot).toEqual(expected);
    }
  });

  it("writes a progress line only to a terminal", async () => {
    sandbox = await startTiny();
    let tty = "";
    let pipe = "";
    await read(sandbox, {}, { progress: { isTTY: true, columns: 80, write: (s) => void (tty += s) } });
    await read(sandbox, {}, { progress: { isTTY: false, write: (s) => void (pipe += s) } });
    expect(tty).toContain("Reading OS2mo:");
    expect(tty).toMatch(/Read 39 objects from OS2mo in \d+ requests\n$/);
    expect(pipe).toBe("");
  });
});
