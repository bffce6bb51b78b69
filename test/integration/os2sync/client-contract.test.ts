import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthError, RemoteError } from "../../../src/errors/index.js";
import { normaliseOrgUnit, normaliseUser } from "../../../src/model/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { Os2syncClient, type Os2syncClientOptions } from "../../../src/targets/os2sync/index.js";
import { CVR, eventually, lines, unit, user, uuid } from "./helpers.js";

const API_KEY = "sandbox-key";
let sb: Os2syncSandbox;

function client(extra: Partial<Os2syncClientOptions> = {}): Os2syncClient {
  return new Os2syncClient({
    url: sb.url,
    cvr: CVR,
    apiKey: API_KEY,
    retryBaseMs: 5,
    retryMaxMs: 20,
    hierarchyPollInitialMs: 10,
    hierarchyPollMaxMs: 40,
    ...extra,
  });
}

/** A raw request, for what the client never sends (missing headers, a dashed CPR, odd casing). */
async function raw(method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(sb.origin + path, {
    method,
    headers: { "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}
const auth = { cvr: CVR, apiKey: API_KEY };

beforeAll(async () => {
  sb = await startOs2syncSandbox({ cvr: CVR, apiKey: API_KEY, queueDelayMs: 30, queueIntervalMs: 10, hierarchyDelayMs: 30 });
});
afterAll(async () => {
  await sb.stop();
});
beforeEach(() => {
  sb.reset();
  // Tests apply the queue explicitly with flush(); the scheduler only runs where a test lowers this.
  sb.queue.options.delayMs = 60_000;
});

describe("headers and authorisation", () => {
  it("answers the health check outside /api, without credentials", async () => {
    const c = client();
    await expect(c.health()).resolves.toBe(true);
    expect(sb.log.entries().at(-1)).toMatchObject({ method: "GET", path: "/manage/health", status: 200 });
    expect((await raw("GET", "/api/manage/health")).status).toBe(404);
  });

  it("sends the cvr and apiKey headers on every call", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.listOrgUnits();
    await c.getOrgUnit(uuid(1, "a"));
    await c.deleteOrgUnit(uuid(1, "a"));
    expect(sb.log.entries().map((e) => e.status)).toEqual([200, 200, 404, 200]);
  });

  it("is refused without a cvr, with another municipality's cvr, or without the api key", async () => {
    expect((await raw("GET", "/api/orgUnit/all", { headers: { apiKey: API_KEY } })).status).toBe(401);
    expect((await raw("GET", "/api/orgUnit/all", { headers: { cvr: "11111111", apiKey: API_KEY } })).status).toBe(401);
    expect((await raw("GET", "/api/orgUnit/all", { headers: { cvr: CVR } })).status).toBe(401);
    expect((await raw("GET", "/api/orgUnit/all", { headers: auth })).status).toBe(200);
  });

  it("turns 401 into an AuthError that explains cvr and apiKey, without retrying or leaking the key", async () => {
    const wrongCvr = client({ cvr: "11111111" });
    const e1 = await wrongCvr.listUsers().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AuthError);
    expect((e1 as AuthError).hint).toMatch(/11111111.*cvr header.*Cvr/s);
    expect(wrongCvr.stats.requests).toBe(1);
    const noKey = client({ apiKey: undefined });
    const e2 = await noKey.upsertOrgUnit(unit(1)).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(AuthError);
    expect((e2 as AuthError).hint).toMatch(/no apiKey header.*ApiKey/s);
    const badKey = client({ apiKey: "wrong-secret-value" });
    const e3 = (await badKey.hierarchy().catch((e: unknown) => e)) as AuthError;
    expect(e3).toBeInstanceOf(AuthError);
    expect(`${e3.message} ${e3.hint}`).not.toContain("wrong-secret-value");
  });

  it("matches routes case-insensitively", async () => {
    await client().upsertOrgUnit(unit(1));
    sb.flush();
    expect((await raw("GET", "/API/ORGUNIT/ALL", { headers: auth })).text).toBe(JSON.stringify([uuid(1, "a")]));
    expect((await raw("GET", `/Api/OrgUnit/${uuid(1, "a")}`, { headers: auth })).status).toBe(200);
  });
});

describe("writes go through OS2sync's queue", () => {
  it("POST returns 200 with the object at once; an immediate read does not see it, a later one does", async () => {
    sb.queue.options.delayMs = 300;
    const c = client();
    const res = await raw("POST", "/api/orgUnit", { headers: auth, body: unit(1, undefined, { Email: "a@kommune.dk" }) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ Uuid: uuid(1, "a"), Name: "Enhed 1", Email: "a@kommune.dk", Tasks: [], ParentOrgUnitUuid: null });
    await c.upsertUser(user(1, 1));
    expect(await c.getOrgUnit(uuid(1, "a"))).toBeUndefined();
    expect(await c.getUser(uuid(1, "b"))).toBeUndefined();
    const readBack = await eventually(() => c.getUser(uuid(1, "b")));
    expect(readBack).toEqual(normaliseUser(user(1, 1) as never));
    expect(await c.getOrgUnit(uuid(1, "a"))).toEqual(normaliseOrgUnit(unit(1, undefined, { Email: "a@kommune.dk" }) as never));
  });

  it("GET returns every property with Timestamp and a numeric Status, which the client drops", async () => {
    const c = client();
    await c.upsertUser(user(2, 1, { IsRobot: true, Person: { Name: "P", Cpr: "0101011234" } }));
    await c.upsertOrgUnit(unit(1));
    sb.flush();
    const body = JSON.parse((await raw("GET", `/api/user/${uuid(2, "b")}`, { headers: auth })).text) as Record<string, unknown>;
    expect(body.Status).toBe(1);
    expect(typeof body.Timestamp).toBe("string");
    expect(body.Landline).toBeNull();
    expect(body.Person).toEqual({ Name: "P", Cpr: "0101011234", Uuid: null });
    const read = await c.getUser(uuid(2, "b"));
    expect(read).not.toHaveProperty("Status");
    expect(read).not.toHaveProperty("Timestamp");
    expect(read).toMatchObject({ IsRobot: true, Person: { Name: "P", Cpr: "0101011234" } });
  });

  it("the newest queued row per uuid wins", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1, undefined, { Name: "First" }));
    await c.upsertOrgUnit(unit(1, undefined, { Name: "Second" }));
    await c.deleteOrgUnit(uuid(1, "a"));
    await c.upsertOrgUnit(unit(1, undefined, { Name: "Third" }));
    sb.flush();
    expect((await c.getOrgUnit(uuid(1, "a")))?.Name).toBe("Third");
    expect(sb.queue.stats()).toMatchObject({ succeeded: 1, superseded: 3 });
  });

  it("applies a run's org units before its users, so a user may point at a unit queued after it", async () => {
    const c = client();
    await c.upsertUser(user(1, 5));
    await c.upsertOrgUnit(unit(5));
    sb.queue.runOnce(true);
    expect(await c.getUser(uuid(1, "b"))).toBeDefined();
    expect(sb.queue.failureList()).toEqual([]);
  });

  it("DELETE deactivates: GET 404, gone from /all and from the hierarchy", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.upsertOrgUnit(unit(2, 1));
    await c.upsertUser(user(1, 1));
    sb.flush();
    expect(await c.listOrgUnits()).toEqual([uuid(1, "a"), uuid(2, "a")]);
    await c.deleteOrgUnit(uuid(2, "a"));
    await c.deleteUser(uuid(1, "b"));
    expect(await c.getOrgUnit(uuid(2, "a"))).toBeDefined();
    sb.flush();
    expect(await c.getOrgUnit(uuid(2, "a"))).toBeUndefined();
    expect(await c.getUser(uuid(1, "b"))).toBeUndefined();
    expect(await c.listOrgUnits()).toEqual([uuid(1, "a")]);
    expect(await c.listUsers()).toEqual([]);
    const h = await c.hierarchy();
    expect(h.OUs.map((o) => o.Uuid)).toEqual([uuid(1, "a")]);
    expect(h.Users).toEqual([]);
  });

  it("passiver removes the object; a later POST re-imports it under the same uuid", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.upsertUser(user(1, 1));
    sb.flush();
    await c.passivateUser(uuid(1, "b"));
    await c.passivateOrgUnit(uuid(1, "a"));
    sb.flush();
    expect(await c.getUser(uuid(1, "b"))).toBeUndefined();
    expect(await c.getOrgUnit(uuid(1, "a"))).toBeUndefined();
    expect(sb.store.record("user", uuid(1, "b"))?.lifecycle).toBe("passive");
    await c.upsertOrgUnit(unit(1, undefined, { Name: "Genindlæst" }));
    await c.upsertUser(user(1, 1));
    sb.flush();
    expect((await c.getOrgUnit(uuid(1, "a")))?.Name).toBe("Genindlæst");
    expect(await c.getUser(uuid(1, "b"))).toBeDefined();
  });

  it("drops a ShortKey-only change to a user unless bypassCache is sent", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.upsertUser(user(1, 1, { ShortKey: "A" }));
    sb.flush();
    await c.upsertUser(user(1, 1, { ShortKey: "B" }));
    sb.flush();
    expect((await c.getUser(uuid(1, "b")))?.ShortKey).toBe("A");
    await c.upsertUser(user(1, 1, { ShortKey: "B" }), { bypassCache: true });
    sb.flush();
    expect((await c.getUser(uuid(1, "b")))?.ShortKey).toBe("B");
    expect(sb.log.entries().filter((e) => e.query.includes("bypassCache=true"))).toHaveLength(1);
  });
});

describe("validation", () => {
  it("turns OS2sync's 400 text into a RemoteError naming the object", async () => {
    const c = client();
    const e = (await c.upsertUser({ ...user(7, 1), Positions: [] }).catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.status).toBe(400);
    expect(e.message).toContain("Positions is null or empty");
    expect(e.uuid).toBe(uuid(7, "b"));
    expect(e.objectName).toBe("Person 7 (user7)");
    const e2 = (await c.upsertOrgUnit({ Uuid: uuid(3, "a"), Name: "" }).catch((x: unknown) => x)) as RemoteError;
    expect(e2.message).toContain("name is null");
    expect(e2.uuid).toBe(uuid(3, "a"));
    expect(c.stats.retries).toBe(0);
  });

  it("rejects each missing required field with OS2sync's message", async () => {
    const post = async (path: string, body: unknown) => (await raw("POST", path, { headers: auth, body })).text;
    expect(await post("/api/orgUnit", { Name: "x" })).toBe("uuid is null");
    expect(await post("/api/user", { ...user(1, 1), Person: null })).toBe("Person.Name is null or empty");
    expect(await post("/api/user", { ...user(1, 1), UserId: "" })).toBe("UserId is null or empty");
    expect(await post("/api/user", { ...user(1, 1), Uuid: null })).toBe("Uuid is null empty");
    expect(await post("/api/user", { ...user(1, 1), Positions: [{ Name: "x" }] })).toBe("Position Name or OrgUnitUUID is null");
    expect(sb.queue.stats().pending).toBe(0);
  });

  it("refuses a CPR with a dash at POST time; the client sends 10 digits", async () => {
    const res = await raw("POST", "/api/user", { headers: auth, body: user(1, 1, { Person: { Name: "P", Cpr: "010101-1234" } }) });
    expect(res).toMatchObject({ status: 400, text: "Data too long for column 'cpr'" });
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.upsertUser(user(1, 1, { Person: { Name: "P", Cpr: "010101-1234" } }));
    sb.flush();
    expect((await c.getUser(uuid(1, "b")))?.Person.Cpr).toBe("0101011234");
  });
});

describe("FK-side rejection", () => {
  it("sends a user whose position points at a unit FK lacks to the failure list, unseen through the API", async () => {
    const c = client();
    await c.upsertUser(user(1, 99));
    sb.flush();
    expect(await c.getUser(uuid(1, "b"))).toBeUndefined();
    expect(await c.listUsers()).toEqual([]);
    const failures = JSON.parse((await raw("GET", "/_sandbox/failures")).text) as { uuid: string; status: number; rule: string }[];
    expect(failures).toMatchObject([{ uuid: uuid(1, "b"), status: 40, rule: "position-unit-must-exist" }]);
  });

  it("leaves the object as it was when an update is refused, and the read-back shows it", async () => {
    const c = client();
    await c.upsertOrgUnit(unit(1, undefined, { Name: "Før" }));
    sb.flush();
    const res = await raw("POST", "/_sandbox/reject", { body: { uuid: uuid(1, "a"), message: "Status 40: Ugyldigt input" } });
    expect(res.status).toBe(204);
    await c.upsertOrgUnit(unit(1, undefined, { Name: "Efter" }));
    sb.flush();
    expect((await c.getOrgUnit(uuid(1, "a")))?.Name).toBe("Før");
    expect(sb.queue.failureList()).toMatchObject([{ uuid: uuid(1, "a"), message: "Status 40: Ugyldigt input", name: "Efter" }]);
  });
});

describe("hierarchy", () => {
  async function seed(): Promise<void> {
    const c = client();
    await c.upsertOrgUnit(unit(1));
    await c.upsertOrgUnit(unit(2, 1));
    await c.upsertUser(user(1, 2, { Email: "u1@kommune.dk", PhoneNumber: "12345678", Landline: "87654321" }));
    sb.flush();
  }

  it("returns OUs with parents and users with positions, email and telephone", async () => {
    await seed();
    const out = lines();
    const c = client({ progress: out });
    const h = await c.hierarchy();
    expect(h.OUs).toEqual([
      { Uuid: uuid(1, "a"), Name: "Enhed 1", ParentOU: null },
      { Uuid: uuid(2, "a"), Name: "Enhed 2", ParentOU: uuid(1, "a") },
    ]);
    expect(h.Users).toEqual([
      {
        Uuid: uuid(1, "b"),
        UserId: "user1",
        Name: "Person 1",
        Positions: [{ Uuid: uuid(2, "a"), Name: "Medarbejder" }],
        Email: "u1@kommune.dk",
        Telephone: "12345678",
        Status: 1,
      },
    ]);
    expect(h.jobs).toBe(1);
    expect(out.text()).toMatch(/hierarchy job .* started\n[\s\S]*hierarchy read: 2 org units, 1 users/);
    expect(sb.log.count({ path: /^\/api\/hierarchy\/.+/ })).toBeGreaterThanOrEqual(1);
  });

  it("answers 404 until ready, serves the result once, and gives the id as text unless JSON is asked for", async () => {
    await seed();
    const start = await raw("GET", "/api/hierarchy", { headers: auth });
    expect(start.type).toMatch(/^text\/plain/);
    const id = start.text;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await raw("GET", `/api/hierarchy/${id}`, { headers: auth })).status).toBe(404);
    const first = await eventually(async () => {
      const r = await raw("GET", `/api/hierarchy/${id}`, { headers: auth });
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(first.text)).toMatchObject({ Status: 0, Result: { OUs: [{}, {}], Users: [{}] } });
    expect((await raw("GET", `/api/hierarchy/${id}`, { headers: auth })).status).toBe(404);
    const asJson = await raw("GET", "/api/hierarchy", { headers: { ...auth, accept: "application/json" } });
    expect(JSON.parse(asJson.text)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("leaves users out with onlyOUs", async () => {
    await seed();
    const h = await client().hierarchy({ onlyOUs: true });
    expect(h.OUs).toHaveLength(2);
    expect(h.Users).toEqual([]);
  });

  it("starts a new job when the response carrying the result is lost", async () => {
    await seed();
    sb.faults.next({ action: "drop-after", method: "GET", path: "^/api/hierarchy/[^/]+$" });
    sb.faults.set({ hierarchyDelayMs: 0 });
    const out = lines();
    const c = client({ progress: out });
    const h = await c.hierarchy();
    expect(h.jobs).toBe(2);
    expect(h.OUs).toHaveLength(2);
    expect(out.text()).toMatch(/result not received .*; starting a new job/);
    const starts = sb.log.entries().filter((e) => e.path === "/api/hierarchy");
    expect(starts).toHaveLength(2);
    // The lost response consumed the first job's result: OS2sync no longer has it.
    expect(sb.log.entries().filter((e) => e.status === 0)).toHaveLength(1);
  });

  it("starts a new job when the poll times out, and gives up after the configured number of jobs", async () => {
    await seed();
    sb.faults.set({ hierarchyDelayMs: 0 });
    sb.faults.next({ action: "delay", delayMs: 300, method: "GET", path: "^/api/hierarchy/[^/]+$", count: 10 });
    const c = client({ timeoutMs: 100, hierarchyMaxRestarts: 1 });
    const e = (await c.hierarchy().catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.message).toMatch(/failed 2 times.*no answer within 100 ms/);
    expect(sb.log.count({ path: /^\/api\/hierarchy$/ })).toBeGreaterThanOrEqual(2);
  });

  it("stops waiting for the job at once when its signal is aborted, and throws the signal's reason", async () => {
    await seed();
    sb.faults.set({ hierarchyDelayMs: 600_000 });
    const stop = new AbortController();
    const reason = new Error("the OS2mo read failed");
    const c = client({ hierarchyPollInitialMs: 3_000 });
    const reading = c.hierarchy({ signal: stop.signal }).catch((x: unknown) => x);
    await eventually(async () => (sb.log.count({ path: /^\/api\/hierarchy$/ }) === 1 ? true : undefined));
    stop.abort(reason);
    // The first poll is 3 s away: an abort that took effect only then would leave the read pending.
    const settled = await Promise.race([reading, new Promise((r) => setTimeout(() => r("still waiting"), 1_000))]);
    expect(settled).toBe(reason);
    expect(sb.log.count({ path: /^\/api\/hierarchy\/[^/]+$/ })).toBe(0);
  });

  it("gives up with a clear error when the job outlasts the configured limit", async () => {
    await seed();
    sb.faults.set({ hierarchyDelayMs: 5_000 });
    const c = client({ hierarchyTimeoutMs: 200 });
    const e = (await c.hierarchy().catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.message).toMatch(/did not finish within/);
    expect(e.hint).toMatch(/hierarchyTimeoutMs/);
  });
});

describe("retries, timeouts and concurrency", () => {
  it("retries reads after 5xx answers and dropped connections", async () => {
    const c = client();
    sb.faults.next({ action: "error", status: 503, path: "/all$" });
    sb.faults.next({ action: "drop", path: "/all$" });
    expect(await c.listOrgUnits()).toEqual([]);
    expect(c.stats).toMatchObject({ requests: 3, retries: 2 });
    // Only this test's requests: on a loaded machine an earlier test's timed-out request can arrive late.
    expect(sb.log.entries().filter((e) => e.path.endsWith("/all")).map((e) => e.status)).toEqual([503, 0, 200]);
  });

  it("retries a POST whose response was lost; the repeated upsert collapses in the queue", async () => {
    const c = client();
    sb.faults.next({ action: "drop-after", method: "POST" });
    await c.upsertOrgUnit(unit(1));
    expect(sb.queue.pending()).toHaveLength(2);
    sb.flush();
    expect(sb.queue.stats()).toMatchObject({ succeeded: 1, superseded: 1 });
    expect(await c.listOrgUnits()).toEqual([uuid(1, "a")]);
  });

  it("retries DELETE after a timeout", async () => {
    const c = client({ timeoutMs: 200 });
    sb.faults.next({ action: "delay", delayMs: 500, method: "DELETE" });
    await c.deleteUser(uuid(1, "b"));
    expect(c.stats.retries).toBeGreaterThanOrEqual(1);
  });

  it("gives up after the configured retries with an error naming the object and the URL", async () => {
    const c = client({ retries: 2 });
    sb.faults.next({ action: "error", status: 502, count: 3 });
    const e = (await c.getUser(uuid(4, "b")).catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.status).toBe(502);
    expect(e.uuid).toBe(uuid(4, "b"));
    expect(c.stats.requests).toBe(3);
    const down = new Os2syncClient({ url: "http://127.0.0.1:1/api", cvr: CVR, retries: 1, retryBaseMs: 1 });
    const e2 = (await down.health().catch((x: unknown) => x)) as RemoteError;
    expect(e2.message).toMatch(/failed after 2 attempt\(s\): ECONNREFUSED/);
    expect(e2.hint).toContain("http://127.0.0.1:1/api");
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    sb.faults.set({ latencyMs: 60 });
    const c = client({ concurrency: 2 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => c.getOrgUnit(uuid(i, "a"))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(170);
    expect(c.stats.byEndpoint["GET /orgUnit/{uuid}"]).toBe(6);
  });
});
