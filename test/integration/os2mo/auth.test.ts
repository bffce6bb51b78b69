import { afterEach, describe, expect, it } from "vitest";
import { AuthError } from "../../../src/errors/index.js";
import type { Os2moSandbox } from "../../../src/sandbox/os2mo/index.js";
import { KeycloakTokenSource, Os2moHttp } from "../../../src/sources/os2mo/index.js";
import { startTiny } from "./helpers.js";

let sandbox: Os2moSandbox | undefined;
let http: Os2moHttp | undefined;
afterEach(async () => {
  http?.close();
  await sandbox?.stop();
  sandbox = http = undefined;
});

function source(sb: Os2moSandbox, now: () => number, secret = sb.clientSecret) {
  http = new Os2moHttp({ timeoutMs: 5000, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  return new KeycloakTokenSource({ authServer: sb.authServer, realm: sb.realm, clientId: sb.clientId, clientSecret: secret }, http, now);
}

const tokenRequests = (sb: Os2moSandbox) => sb.log.entries().filter((e) => e.path.endsWith("/token")).length;

describe("Keycloak client-credentials tokens", () => {
  it("reuses one token and replaces it before it runs out", async () => {
    sandbox = await startTiny({ tokenLifetimeSeconds: 100 });
    let now = 1_000_000;
    const tokens = source(sandbox, () => now);
    const first = await tokens.get();
    now += 70_000;
    expect(await tokens.get()).toBe(first);
    expect(tokenRequests(sandbox)).toBe(1);
    now += 15_000; // 85 s of 100: inside the refresh margin
    const second = await tokens.get();
    expect(second).not.toBe(first);
    expect(tokenRequests(sandbox)).toBe(2);
  });

  it("asks once for all concurrent callers", async () => {
    sandbox = await startTiny({ faults: { latencyMs: 50 } });
    const tokens = source(sandbox, Date.now);
    const all = await Promise.all([tokens.get(), tokens.get(), tokens.get(), tokens.get()]);
    expect(new Set(all).size).toBe(1);
    expect(tokenRequests(sandbox)).toBe(1);
  });

  it("fetches a new token after OS2mo refused the old one", async () => {
    sandbox = await startTiny();
    const tokens = source(sandbox, Date.now);
    const first = await tokens.get();
    tokens.invalidate(first);
    expect(await tokens.get()).not.toBe(first);
    expect(tokenRequests(sandbox)).toBe(2);
  });

  it("remembers a refused client: one request, the same AuthError for every caller", async () => {
    sandbox = await startTiny();
    const tokens = source(sandbox, Date.now, "not-the-secret");
    const results = await Promise.allSettled([tokens.get(), tokens.get()]);
    const again = await tokens.get().catch((e: unknown) => e);
    expect(results.every((r) => r.status === "rejected" && r.reason instanceof AuthError)).toBe(true);
    expect(again).toBeInstanceOf(AuthError);
    expect(tokenRequests(sandbox)).toBe(1);
  });

  it("names the realm setting when the realm does not exist", async () => {
    sandbox = await startTiny();
    http = new Os2moHttp({ timeoutMs: 5000 });
    const tokens = new KeycloakTokenSource({ authServer: sandbox.authServer, realm: "nope", clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }, http);
    const err = await tokens.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toContain("/realms/nope/protocol/openid-connect/token (HTTP 404");
    expect((err as AuthError).hint).toContain("spec.os2mo.auth.realm");
  });
});
