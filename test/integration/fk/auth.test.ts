import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthError, RemoteError } from "../../../src/errors/index.js";
import { createTestCa, issueOrganisationCertificate, startFkSandbox, type FkSandbox } from "../../../src/sandbox/fk/index.js";
import { FkStore } from "../../../src/sandbox/fkstore/index.js";
import { refreshFromFk } from "../../../src/targets/fk/index.js";
import { clientFor, CVR, OTHER_CVR, PASSWORD, rawPost, tokenForm, unit, user } from "./helpers.js";

let sb: FkSandbox;
let goodP12: Buffer;

beforeAll(async () => {
  const store = new FkStore();
  store.put("orgunit", unit(1));
  store.put("user", user(1, 1));
  sb = await startFkSandbox({ store, cvr: CVR });
  goodP12 = sb.issueClientCertificate({ cvr: CVR, password: PASSWORD });
});
afterAll(async () => {
  await sb.stop();
});
beforeEach(() => {
  sb.faults.clear();
  sb.log.clear();
});

async function token(p12: Buffer = goodP12): Promise<string> {
  const r = await rawPost(sb.tokenUrl, { caPem: sb.caPem, p12, body: tokenForm(CVR), headers: { "content-type": "application/x-www-form-urlencoded" } });
  expect(r.status).toBe(200);
  return r.json.access_token as string;
}

function graphqlHeaders(tok: string | undefined, transaction = true): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(tok ? { authorization: `Bearer ${tok}` } : {}),
    ...(transaction ? { "x-TransaktionsId": randomUUID(), "x-TransaktionsTid": new Date().toISOString() } : {}),
  };
}

const SMALL_QUERY = JSON.stringify({ query: `{ brugerListe(cvr: "${CVR}", status: AKTIV) { edges { node { uuid } } pageInfo { hasNextPage } } }` });

describe("the sandbox's token endpoint (KOMBIT Adgangsstyring)", () => {
  it("issues an expiring Holder-of-key token for the municipality's certificate", async () => {
    const r = await rawPost(sb.tokenUrl, { caPem: sb.caPem, p12: goodP12, body: tokenForm(CVR), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(200);
    expect(r.json.token_type).toBe("Holder-of-key");
    expect(r.json.expires_in).toBe(28800);
    expect(typeof r.json.access_token).toBe("string");
  });

  it("answers invalid_client without a client certificate", async () => {
    const r = await rawPost(sb.tokenUrl, { caPem: sb.caPem, body: tokenForm(CVR) });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe("invalid_client");
  });

  it("answers invalid_client to a certificate from another CA, and the client explains it in terms of the certificate", async () => {
    const stranger = issueOrganisationCertificate(createTestCa("someone else's CA"), { cvr: CVR, password: PASSWORD });
    const r = await rawPost(sb.tokenUrl, { caPem: sb.caPem, p12: stranger, body: tokenForm(CVR) });
    expect(r.json.error).toBe("invalid_client");
    const client = clientFor(sb, { p12: stranger });
    const err = await refreshFromFk({ client, now: () => new Date(), syncCpr: false }).catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toMatch(/did not accept the organisation certificate .*CVR 29189846.*invalid_client/);
    expect((err as AuthError).hint).toMatch(/not known to KOMBIT or not allowed/);
    expect(sb.log.count({ path: "/organisation/organisationhent/1" })).toBe(0);
  });

  it("answers invalid_scope when the certificate's CVR is not the one in the scope", async () => {
    const foreign = sb.issueClientCertificate({ cvr: OTHER_CVR, kind: "oces3", password: PASSWORD });
    const r = await rawPost(sb.tokenUrl, { caPem: sb.caPem, p12: foreign, body: tokenForm(CVR) });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe("invalid_scope");
    expect(String(r.json.error_description)).toContain(OTHER_CVR);
  });

  it("answers invalid_scope for a CVR without a service agreement, which the client explains as the agreement", async () => {
    const client = clientFor(sb, { cvr: OTHER_CVR, certCvr: OTHER_CVR });
    const err = await client.accessToken().catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toContain(`for CVR ${OTHER_CVR}: invalid_scope`);
    expect((err as AuthError).hint).toMatch(/no approved service agreement/);
  });

  it("reads the CVR of an OCES3 certificate from organizationIdentifier", async () => {
    const oces3 = sb.issueClientCertificate({ cvr: CVR, kind: "oces3", password: PASSWORD });
    expect(await token(oces3)).not.toBe("");
  });
});

describe("the sandbox's GraphQL endpoint", () => {
  it("answers a request with a token, the transaction headers and the certificate", async () => {
    const r = await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body: SMALL_QUERY, headers: graphqlHeaders(await token()) });
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({ brugerListe: { edges: [{ node: { uuid: user(1, 1).Uuid } }], pageInfo: { hasNextPage: false } } });
  });

  it("answers 400 without the transaction headers", async () => {
    const r = await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body: SMALL_QUERY, headers: graphqlHeaders(await token(), false) });
    expect(r.status).toBe(400);
    expect(String(r.json.message)).toContain("x-TransaktionsId");
  });

  it("answers 401 without a token, with an expired one, and with one issued to another certificate", async () => {
    const other = sb.issueClientCertificate({ cvr: CVR, password: PASSWORD });
    const otherToken = await token(other);
    expect((await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body: SMALL_QUERY, headers: graphqlHeaders(undefined) })).status).toBe(401);
    expect((await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body: SMALL_QUERY, headers: graphqlHeaders(otherToken) })).status).toBe(401);
    const tok = await token();
    sb.expireTokens();
    expect((await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body: SMALL_QUERY, headers: graphqlHeaders(tok) })).status).toBe(401);
  });

  it("refuses pages over 500 with an FK error entry", async () => {
    const body = JSON.stringify({ query: `{ brugerListe(cvr: "${CVR}", status: AKTIV, first: 501) { pageInfo { hasNextPage } } }` });
    const r = await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body, headers: graphqlHeaders(await token()) });
    expect(r.status).toBe(200);
    const errors = r.json.errors as { message: string; extensions: { type: string } }[];
    expect(errors[0]!.message).toMatch(/at most|between 1 and 500/);
    expect(errors[0]!.extensions.type).toBe("ERROR");
  });

  it("treats another municipality's CVR as not found, which the client reports as an FK error", async () => {
    const body = JSON.stringify({ query: `{ brugerListe(cvr: "${OTHER_CVR}", status: AKTIV) { pageInfo { hasNextPage } } }` });
    const r = await rawPost(sb.graphqlUrl, { caPem: sb.caPem, p12: goodP12, body, headers: graphqlHeaders(await token()) });
    const errors = r.json.errors as { extensions: { classification: string } }[];
    expect(errors[0]!.extensions.classification).toBe("NotFound");
  });
});

describe("the client's TLS", () => {
  it("speaks TLS 1.2 to both endpoints by default, as KOMBIT advises, and 1.3 when allowed", async () => {
    const client = clientFor(sb);
    await refreshFromFk({ client, now: () => new Date(), syncCpr: false });
    client.close();
    expect(new Set(sb.log.entries().map((e) => e.tls))).toEqual(new Set(["TLSv1.2"]));
    sb.log.clear();
    const modern = clientFor(sb, { tlsMaxVersion: "TLSv1.3" });
    await refreshFromFk({ client: modern, now: () => new Date(), syncCpr: false });
    modern.close();
    expect(new Set(sb.log.entries().map((e) => e.tls))).toEqual(new Set(["TLSv1.3"]));
  });
});

describe("the client's token handling", () => {
  it("uses one token for many requests and fetches a new one when FK refuses an expired token", async () => {
    const client = clientFor(sb);
    await refreshFromFk({ client, now: () => new Date(), syncCpr: false });
    await refreshFromFk({ client, now: () => new Date(), syncCpr: false });
    expect(client.stats.tokenRequests).toBe(1);
    sb.expireTokens();
    const actual = await refreshFromFk({ client, now: () => new Date(), syncCpr: false });
    expect(client.stats.tokenRequests).toBe(2);
    // Units and users are read at the same time: both reads meet the expired token, one new token serves both.
    expect(sb.log.count({ status: 401 })).toBe(2);
    expect([...actual.users.keys()]).toEqual([user(1, 1).Uuid]);
    client.close();
  });

  it("renews a token before it expires, by expires_in minus a margin", async () => {
    const shortLived = await startFkSandbox({ store: sb.store, cvr: CVR, ca: sb.ca, tokenLifetimeSeconds: 600 });
    let clock = Date.parse("2025-03-01T12:00:00Z");
    const client = clientFor(shortLived, { now: () => new Date(clock), tokenMarginSeconds: 120 });
    try {
      await client.accessToken();
      clock += 479_000;
      await client.accessToken();
      expect(client.stats.tokenRequests).toBe(1);
      clock += 2_000; // 481 s: within 120 s of the 600 s lifetime
      await client.accessToken();
      expect(client.stats.tokenRequests).toBe(2);
    } finally {
      client.close();
      await shortLived.stop();
    }
  });

  it("sends the configured authorization scheme and gives a clear error when FK keeps refusing the token", async () => {
    const client = clientFor(sb, { authScheme: "Holder-of-key" });
    await expect(refreshFromFk({ client, now: () => new Date(), syncCpr: false })).resolves.toBeDefined();
    client.close();
    const wrong = clientFor(sb, { authScheme: "Basic" });
    const err = await refreshFromFk({ client: wrong, now: () => new Date(), syncCpr: false }).catch((e: unknown) => e);
    wrong.close();
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).hint).toContain('spec.fk.authScheme ("Basic")');
    expect(err).not.toBeInstanceOf(RemoteError);
  });
});
