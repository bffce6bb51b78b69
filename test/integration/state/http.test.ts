import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError, LockError, RemoteError } from "../../../src/errors/index.js";
import { startStateHttpServer, type StateHttpServer, type StateHttpServerOptions } from "../../../src/sandbox/statehttp/index.js";
import { HttpStateBackend, StateLockedError, withLock, type HttpBackendOptions } from "../../../src/state/index.js";
import { backendConformance, sampleState, TEST_IDENTITY } from "../../unit/state/conformance.js";

const noSleep = async () => undefined;

function conformanceOn(name: string, serverOpts: StateHttpServerOptions, layout: (s: StateHttpServer, env: string) => Partial<HttpBackendOptions>) {
  let n = 0;
  backendConformance(name, async ({ now }) => {
    const server = await startStateHttpServer(serverOpts);
    const env = `conf${++n}`;
    return {
      open: (opts) => new HttpStateBackend({ address: server.address(env), ...layout(server, env), now, identity: opts?.identity, sleep: noSleep }),
      corrupt: async () => {
        const b = new HttpStateBackend({ address: server.address(env), ...layout(server, env) });
        const text = server.stored(`/state/${env}`)!;
        // Stored through the protocol itself, as a broken client would.
        const l = await b.lock({ operation: "corrupt", who: "t@h", ttlMs: 60_000 });
        const auth = serverOpts.username ? { authorization: `Basic ${Buffer.from(`${serverOpts.username}:${serverOpts.password}`).toString("base64")}` } : undefined;
        const res = await fetch(`${server.address(env)}?ID=${l.ID}`, { method: "POST", body: text.slice(0, 40), headers: auth });
        expect(res.status).toBe(200);
        await b.unlock(l.ID);
      },
      cleanup: () => server.close(),
    };
  });
}

// Terraform's default: LOCK/UNLOCK on the address, 423 for a held lock, re-LOCK by the holder allowed.
conformanceOn("http (Terraform layout)", {}, () => ({}));
// GitLab's addresses and methods: POST/DELETE on <address>/lock, 409, basic auth with a token.
conformanceOn("http (GitLab-style addresses and methods)", { lockedStatus: 409, username: "gitlab-ci-token", password: "glpat-x" }, (s, env) => ({
  lockAddress: `${s.address(env)}/lock`,
  unlockAddress: `${s.address(env)}/lock`,
  lockMethod: "POST",
  unlockMethod: "DELETE",
  username: "gitlab-ci-token",
  password: async () => "glpat-x",
}));

describe("http backend against the Terraform-protocol test server", () => {
  let server: StateHttpServer;
  beforeEach(async () => {
    server = await startStateHttpServer({ lockedStatus: 409 });
  });
  afterEach(() => server.close());
  const backend = (o: Partial<HttpBackendOptions> = {}) =>
    new HttpStateBackend({ address: server.address("prod"), identity: TEST_IDENTITY, sleep: noSleep, ...o });

  it("speaks the protocol: GET, LOCK with lock info, POST ?ID=<lock id>, UNLOCK", async () => {
    const b = backend();
    const s = sampleState();
    const lockId = await withLock(b, { operation: "apply", who: "ci@runner" }, async (lock) => {
      await b.write(s, { lineage: null, serial: null, lockId: lock.ID });
      expect(server.heldLock("/state/prod")).toMatchObject({ ID: lock.ID, Operation: "apply", Who: "ci@runner", Path: expect.stringContaining("/state/prod") });
      return lock.ID;
    });
    const ops = server.log.map((e) => `${e.method} ${e.op}${e.id ? " ID" : ""}`);
    expect(ops).toEqual(["LOCK lock", "GET read", "POST write ID", "UNLOCK unlock"]);
    expect(server.log.find((e) => e.method === "POST")!.id).toBe(lockId);
    expect(JSON.parse(server.stored("/state/prod")!)).toMatchObject({ lineage: s.lineage, serial: 1 });
    expect(await b.read()).toEqual(s);
  });

  it("a held lock (409) is refused with the holder's info in the message", async () => {
    const a = backend();
    const held = await a.lock({ operation: "apply", who: "alice@runner1", ttlMs: 600_000 });
    const err = (await backend().lock({ operation: "plan", who: "bob@laptop", ttlMs: 60_000 }).catch((e: unknown) => e)) as StateLockedError;
    expect(err).toBeInstanceOf(StateLockedError);
    expect(err.holder.ID).toBe(held.ID);
    expect(err.message).toContain("state is locked by alice@runner1 for \"apply\"");
    expect(err.message).toContain(`ID:        ${held.ID}`);
    // The backend does not know the environment's name: the command says where it goes.
    expect(err.hint).toContain(`stsorg state unlock -e ENV ${held.ID}`);
    expect(server.log.at(-1)).toMatchObject({ method: "LOCK", status: 409 });
  });

  it("a write without the lock is refused while someone else holds it", async () => {
    const a = backend();
    await a.write(sampleState(), { lineage: null, serial: null });
    await a.lock({ operation: "apply", who: "alice@runner1", ttlMs: 600_000 });
    const s1 = sampleState();
    const next = { ...s1, serial: 2 };
    await expect(backend().write(next, { lineage: s1.lineage, serial: 1 })).rejects.toBeInstanceOf(LockError);
    expect((await a.read())!.serial).toBe(1);
  });

  it("retries a 500 and succeeds; the request log shows both attempts", async () => {
    const b = backend();
    await b.write(sampleState(), { lineage: null, serial: null });
    server.log.length = 0;
    server.failNext({ status: 500, method: "GET" });
    expect((await b.read())!.serial).toBe(1);
    expect(server.log.map((e) => [e.method, e.status])).toEqual([
      ["GET", 500],
      ["GET", 200],
    ]);
  });

  it("gives up after retryMax retries with a RemoteError naming the status", async () => {
    const sleeps: number[] = [];
    const b = backend({ retryMax: 3, retryWaitMinMs: 100, retryWaitMaxMs: 250, sleep: async (ms) => void sleeps.push(ms) });
    server.failNext({ status: 503, count: 10 });
    const err = (await b.read().catch((e: unknown) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.status).toBe(503);
    expect(server.log).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 250]);
  });

  it("retries a dropped connection, and a LOCK whose answer was lost still ends with our lock", async () => {
    const b = backend();
    server.failNext({ method: "LOCK", dropAfter: true });
    const lock = await b.lock({ operation: "apply", who: "a@h", ttlMs: 60_000 });
    expect(server.heldLock("/state/prod")).toMatchObject({ ID: lock.ID });
    server.failNext({ method: "UNLOCK", dropAfter: true });
    await b.unlock(lock.ID);
    expect(server.heldLock("/state/prod")).toBeUndefined();
    server.failNext({ drop: true });
    expect(await b.read()).toBeNull();
  });

  it("under a standing 30% error rate, a locked apply of several writes still lands exactly", async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    await server.close();
    server = await startStateHttpServer({ errorRate: 0.3, random });
    const b = backend({ retryMax: 8, retryWaitMinMs: 1 });
    let s = sampleState();
    await withLock(b, { operation: "apply", who: "a@h", ttlMs: 60_000 }, async (lock) => {
      await b.write(s, { lineage: null, serial: null, lockId: lock.ID });
      for (let i = 0; i < 5; i++) {
        const next = { ...s, serial: s.serial + 1 };
        await b.write(next, { lineage: s.lineage, serial: s.serial, lockId: lock.ID });
        s = next;
      }
    });
    expect(server.log.some((e) => e.status === 500)).toBe(true);
    expect((await b.read())!.serial).toBe(6);
    expect(server.heldLock("/state/prod")).toBeUndefined();
  });

  it("a lock without Expires (taken by another tool) is never taken over", async () => {
    server.plantLock("/state/prod", { ID: "tf-1", Operation: "OperationTypeApply", Who: "terraform@ci", Created: "2025-01-01T00:00:00Z" });
    const err = (await backend().lock({ operation: "apply", who: "a@h", ttlMs: 1 }).catch((e: unknown) => e)) as StateLockedError;
    expect(err).toBeInstanceOf(StateLockedError);
    expect(err.message).toContain("terraform@ci");
    expect(err.message).toContain("Expires:   never");
    expect(server.heldLock("/state/prod")).toMatchObject({ ID: "tf-1" });
  });

  it("an expired lock is taken over (UNLOCK with the holder's ID, then LOCK); a live one is not", async () => {
    let t = Date.parse("2025-03-01T10:00:00Z");
    const now = () => new Date(t);
    const crashed = await backend({ now }).lock({ operation: "apply", who: "ci@crashed", ttlMs: 60_000 });
    await expect(backend({ now }).lock({ operation: "apply", who: "ci@next", ttlMs: 60_000 })).rejects.toBeInstanceOf(StateLockedError);
    t += 60_001;
    server.log.length = 0;
    const fresh = await backend({ now }).lock({ operation: "apply", who: "ci@next", ttlMs: 60_000 });
    expect(fresh.TakenOver).toMatchObject({ ID: crashed.ID, Who: "ci@crashed" });
    expect(server.log.map((e) => `${e.method} ${e.status}`)).toEqual(["LOCK 409", "UNLOCK 200", "LOCK 200"]);
    expect(server.heldLock("/state/prod")).toMatchObject({ ID: fresh.ID, TakenOver: { ID: crashed.ID } });
  });

  it("basic auth: a wrong password is an AuthError that does not show the password", async () => {
    await server.close();
    server = await startStateHttpServer({ username: "stsorg", password: "right-pw" });
    const wrong = backend({ username: "stsorg", password: "wrong-pw" });
    const err = (await wrong.read().catch((e: unknown) => e)) as AuthError;
    expect(err).toBeInstanceOf(AuthError);
    expect(`${err.message} ${err.hint}`).not.toContain("wrong-pw");
    expect(await backend({ username: "stsorg", password: async () => "right-pw" }).read()).toBeNull();
  });

  it("a bearer token is sent as Authorization: Bearer", async () => {
    await server.close();
    server = await startStateHttpServer({ token: "tok-123" });
    await expect(backend().read()).rejects.toBeInstanceOf(AuthError);
    const b = backend({ token: async () => "tok-123" });
    await b.write(sampleState(), { lineage: null, serial: null });
    expect((await b.read())!.serial).toBe(1);
  });

  it("GitLab's lock semantics: held-lock bodies without Expires, no re-LOCK by the holder — locks never expire, the heartbeat keeps them, unlock by ID works", async () => {
    await server.close();
    server = await startStateHttpServer({ lockedStatus: 409, relock: "refuse", lockBody: "gitlab" });
    const gitlab = (o: Partial<HttpBackendOptions> = {}) =>
      backend({ lockAddress: `${server.address("prod")}/lock`, unlockAddress: `${server.address("prod")}/lock`, lockMethod: "POST", unlockMethod: "DELETE", ...o });
    let t = Date.parse("2025-03-01T10:00:00Z");
    const now = () => new Date(t);
    const a = gitlab({ now });
    const b = gitlab({ now });
    await withLock(a, { operation: "apply", who: "ci@runner1", ttlMs: 1_000, heartbeatMs: 5, now }, async (lock, lost) => {
      await a.write(sampleState(), { lineage: null, serial: null, lockId: lock.ID });
      t += 10_000;
      await new Promise((r) => setTimeout(r, 50));
      expect(lost.aborted).toBe(false);
      const err = (await b.lock({ operation: "plan", who: "dev@laptop", ttlMs: 1_000 }).catch((e: unknown) => e)) as StateLockedError;
      expect(err).toBeInstanceOf(StateLockedError);
      expect(err.holder).toMatchObject({ ID: lock.ID, Who: "ci@runner1", Expires: "" });
      expect(err.message).toContain("Expires:   never");
    });
    expect(server.log.filter((e) => e.method === "POST" && e.path.endsWith("/lock") && e.status === 409).length).toBeGreaterThan(1);
    const stuck = await a.lock({ operation: "apply", who: "ci@crashed", ttlMs: 1_000 });
    t += 3_600_000;
    await expect(b.lock({ operation: "apply", who: "ci@next", ttlMs: 1_000 })).rejects.toBeInstanceOf(StateLockedError);
    expect((await b.currentLock())!.ID).toBe(stuck.ID);
    await b.unlock(stuck.ID);
    expect(await b.currentLock()).toBeNull();
  });

  it("never prints user info of the address", () => {
    const b = new HttpStateBackend({ address: "https://user:pw@state.example/state/prod" });
    expect(b.describe()).toBe("http https://state.example/state/prod");
  });
});
