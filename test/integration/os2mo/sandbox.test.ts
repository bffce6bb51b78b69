import { afterEach, describe, expect, it } from "vitest";
import type { Os2moSandbox } from "../../../src/sandbox/os2mo/index.js";
import { E, P, U } from "../../fixtures/os2mo/tiny.js";
import { gql, startTiny, tokenFor } from "./helpers.js";

let sandbox: Os2moSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

const tokenUrl = (sb: Os2moSandbox, realm = sb.realm) => `${sb.authServer}/realms/${realm}/protocol/openid-connect/token`;
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields),
});

const ENGAGEMENTS = `query E($filter: EngagementFilter, $limit: int, $cursor: Cursor) {
  engagements(filter: $filter, limit: $limit, cursor: $cursor) {
    objects { uuid current { validity { from to } } }
    page_info { next_cursor }
  }
}`;

type EngagementPage = { engagements: { objects: { uuid: string; current: unknown }[]; page_info: { next_cursor: string | null } } };

describe("OS2mo sandbox: Keycloak token endpoint", () => {
  it("issues bearer tokens for the configured client and refuses others as Keycloak does", async () => {
    sandbox = await startTiny({ tokenLifetimeSeconds: 42 });
    const ok = await fetch(tokenUrl(sandbox), form({ grant_type: "client_credentials", client_id: sandbox.clientId, client_secret: sandbox.clientSecret }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ access_token: expect.any(String), expires_in: 42, token_type: "Bearer" });

    const bad = await fetch(tokenUrl(sandbox), form({ grant_type: "client_credentials", client_id: sandbox.clientId, client_secret: "x" }));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: "unauthorized_client" });

    const realm = await fetch(tokenUrl(sandbox, "other"), form({ grant_type: "client_credentials", client_id: sandbox.clientId, client_secret: sandbox.clientSecret }));
    expect(realm.status).toBe(404);
    const grant = await fetch(tokenUrl(sandbox), form({ grant_type: "password", client_id: sandbox.clientId, client_secret: sandbox.clientSecret }));
    expect(grant.status).toBe(400);
  });
});

describe("OS2mo sandbox: GraphQL v25", () => {
  it("answers an unauthenticated or expired call with HTTP 200 and 'User is not authenticated'", async () => {
    let now = Date.parse("2025-03-01T10:00:00Z");
    sandbox = await startTiny({ tokenLifetimeSeconds: 60, tokenGraceSeconds: 5, clock: () => new Date(now) });
    const q = "query { org_units(limit: 1) { objects { uuid } } }";
    const none = await gql(sandbox, q, {}, "not-a-token");
    expect(none).toEqual({ status: 200, body: { data: null, errors: [{ message: "User is not authenticated" }] } });

    const token = await tokenFor(sandbox);
    now += 63_000; // expired 3 s ago: inside the grace period
    expect((await gql(sandbox, q, {}, token)).body.errors).toBeUndefined();
    now += 5_000;
    expect((await gql(sandbox, q, {}, token)).body).toEqual({ data: null, errors: [{ message: "User is not authenticated" }] });
  });

  it("rejects queries that OS2mo v25 would reject", async () => {
    sandbox = await startTiny();
    const intLimit = await gql(sandbox, "query Q($limit: Int) { org_units(limit: $limit) { objects { uuid } } }", { limit: 2 });
    expect(intLimit.status).toBe(200);
    expect(intLimit.body.data).toBeNull();
    expect(intLimit.body.errors?.[0]?.message).toMatch(/Int/);
    const unknown = await gql(sandbox, "query { org_units { objects { uuid current { nonsense } } } }");
    expect(unknown.body.errors?.[0]?.message).toBe('Cannot query field "nonsense" on type "OrganisationUnit".');
    const badUuid = await gql(sandbox, "query { org_units(filter: {uuids: [\"x\"]}) { objects { uuid } } }");
    expect(badUuid.body.errors?.length).toBe(1);
  });

  it("pages in uuid order with opaque cursors until next_cursor is null", async () => {
    sandbox = await startTiny();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await gql(sandbox, ENGAGEMENTS, { filter: { from_date: null, to_date: null }, limit: 3, cursor });
      const page = (r.body.data as EngagementPage).engagements;
      seen.push(...page.objects.map((o) => o.uuid));
      cursor = page.page_info.next_cursor;
      if (cursor !== null) expect(cursor).not.toMatch(/^e0000000-/);
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(4);
    expect(seen).toEqual(sandbox.data.sortedUuids("engagements"));
  });

  it("serves short and empty pages before the end in fault mode", async () => {
    sandbox = await startTiny({ faults: { shortPages: true } });
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const r = await gql(sandbox, ENGAGEMENTS, { filter: { from_date: null, to_date: null }, limit: 4, cursor });
      const page = (r.body.data as EngagementPage).engagements;
      sizes.push(page.objects.length);
      cursor = page.page_info.next_cursor;
    } while (cursor !== null);
    expect(sizes).toContain(0);
    expect(sizes.slice(0, -1).some((n) => n < 4)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it("applies OS2mo's date windows: unset is now, explicit null is open", async () => {
    sandbox = await startTiny();
    const uuids = async (filter: Record<string, unknown>) =>
      ((await gql(sandbox as Os2moSandbox, ENGAGEMENTS, { filter })).body.data as EngagementPage).engagements.objects.map((o) => o.uuid);
    const now = await uuids({});
    expect(now).toEqual([E(1), E(2), E(3), E(6), E(7), E(8), E(9)]);
    expect(await uuids({ from_date: null, to_date: null })).toHaveLength(10);
    expect(await uuids({ from_date: "2025-03-01T00:00:00+01:00", to_date: null })).toEqual([...now, E(4), E(10)].sort());
    expect(await uuids({ from_date: "2025-01-15", to_date: "2025-01-15" })).toContain(E(5));
  });

  it("answers current as null for an object not valid now, and validities for the asked window", async () => {
    sandbox = await startTiny();
    const r = await gql(
      sandbox,
      `query { engagements(filter: {uuids: ["${E(4)}"], from_date: null, to_date: null}) {
        objects { uuid current { uuid } validities(start: null, end: null) { validity { from to } } } } }`,
    );
    const obj = (r.body.data as { engagements: { objects: { current: unknown; validities: unknown[] }[] } }).engagements.objects[0];
    expect(obj?.current).toBeNull();
    expect(obj?.validities).toEqual([{ validity: { from: "2025-04-01T00:00:00+02:00", to: null } }]);
  });

  it("follows nested filters: units by ancestor (itself included), engagements by person", async () => {
    sandbox = await startTiny();
    const units = await gql(sandbox, `query { org_units(filter: {ancestor: {uuids: ["${U(3)}"]}}) { objects { uuid } } }`);
    expect((units.body.data as { org_units: { objects: { uuid: string }[] } }).org_units.objects.map((o) => o.uuid)).toEqual([U(3), U(4)]);
    const byPerson = await gql(sandbox, ENGAGEMENTS, { filter: { employee: { uuids: [P(1)] } } });
    expect((byPerson.body.data as EngagementPage).engagements.objects.map((o) => o.uuid)).toEqual([E(1), E(2)]);
    const tree = await gql(sandbox, ENGAGEMENTS, { filter: { org_unit: { ancestor: { uuids: [U(1)] } } } });
    expect((tree.body.data as EngagementPage).engagements.objects.map((o) => o.uuid)).toEqual([E(1), E(2), E(3), E(9)]);
  });

  it("answers reference filters from data changed after an earlier answer", async () => {
    sandbox = await startTiny();
    const byUnit = async (unit: string) =>
      ((await gql(sandbox as Os2moSandbox, ENGAGEMENTS, { filter: { org_unit: { uuids: [unit] } } })).body.data as EngagementPage).engagements.objects.map((o) => o.uuid);
    const from = sandbox.data.get("engagements", E(1))?.org_unit as string;
    expect(await byUnit(from)).toContain(E(1));
    const before = await byUnit(U(4));
    expect(before).not.toContain(E(1));
    sandbox.mutate.moveEngagement(E(1), U(4));
    expect(await byUnit(U(4))).toEqual([...before, E(1)].sort());
    expect(await byUnit(from)).not.toContain(E(1));
    const added = sandbox.mutate.addEngagement({ person: P(1), org_unit: U(4) });
    expect(await byUnit(U(4))).toContain(added.uuid);
    const byPerson = await gql(sandbox, ENGAGEMENTS, { filter: { employee: { uuids: [P(1)] }, org_unit: { uuids: [U(4)] } } });
    const both = sandbox.data
      .all("engagements")
      .filter((e) => e.person === P(1) && e.org_unit === U(4))
      .map((e) => e.uuid);
    expect(both).toEqual(expect.arrayContaining([E(1), added.uuid]));
    expect((byPerson.body.data as EngagementPage).engagements.objects.map((o) => o.uuid)).toEqual(both);
  });

  it("serves only v25", async () => {
    sandbox = await startTiny();
    const res = await fetch(`${sandbox.url}/graphql/v22`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
  });
});

describe("OS2mo sandbox: admin endpoints", () => {
  it("changes data, injects faults and lists requests over HTTP", async () => {
    sandbox = await startTiny();
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${sandbox?.url}/_sandbox${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

    const rename = await admin("POST", "/mutate", { op: "renameUnit", args: [U(2), "Borgerservice Nord"] });
    expect(rename.status).toBe(200);
    expect(sandbox.data.get("orgUnits", U(2))?.name).toBe("Borgerservice Nord");
    expect((await admin("POST", "/mutate", { op: "renameUnit", args: ["00000000-0000-4000-8000-00000000dead", "x"] })).status).toBe(404);
    expect((await admin("POST", "/mutate", { op: "dropDatabase", args: [] })).status).toBe(400);

    await admin("PUT", "/faults", { failNext: 1, errorStatus: 500 });
    const failed = await gql(sandbox, "query Failing { org_units(limit: 1) { objects { uuid } } }").catch(() => "not json");
    expect(failed).toBe("not json");
    await gql(sandbox, "query Fine { org_units(limit: 1) { objects { uuid } } }");

    const { requests } = (await (await admin("GET", "/requests")).json()) as { requests: { operation: string | null; status: number; method: string; path: string; durationMs: number }[] };
    const graphql = requests.filter((r) => r.path === "/graphql/v25");
    expect(graphql.map((r) => [r.operation, r.status])).toEqual([
      ["Failing", 500],
      ["Fine", 200],
    ]);
    expect(requests.every((r) => typeof r.durationMs === "number" && r.method === "POST")).toBe(true);

    await admin("POST", "/expire-tokens");
    expect((await gql(sandbox, "query { org_units(limit: 1) { objects { uuid } } }", {}, "stale")).body.errors?.[0]?.message).toBe(
      "User is not authenticated",
    );
  });
});
