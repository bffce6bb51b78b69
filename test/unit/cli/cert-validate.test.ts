import { copyFileSync, mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertDir, certificatePem, DAY, FOCES_SUBJECT, OCES3_SUBJECT, rsaKeyPem } from "../cert/certs.js";
import { cleanup, cli, FIXTURE, lineOf, NOW, project, SECRETS } from "../manifest/helpers.js";

const CVR = "12345674"; // the fixture's CVR
let certs: CertDir;
let key: string;
let otherKey: string;
let good: string;
let expired: string;
let future: string;
let otherCvr: string;
let mismatched: string;

beforeAll(() => {
  certs = new CertDir();
  key = rsaKeyPem();
  otherKey = rsaKeyPem();
  const pem = (subject = FOCES_SUBJECT(CVR), from = -10, to = 365) =>
    certificatePem({ keyPem: key, subject, notBefore: new Date(NOW.getTime() + from * DAY), notAfter: new Date(NOW.getTime() + to * DAY) });
  good = certs.pkcs12(pem(), key, SECRETS.FIXTURE_CERT_PASSWORD, "default");
  expired = certs.pkcs12(pem(FOCES_SUBJECT(CVR), -400, -1), key, "pw", "legacy");
  future = certs.pkcs12(pem(FOCES_SUBJECT(CVR), 3, 400), key, "pw", "default");
  otherCvr = certs.pkcs12(pem(OCES3_SUBJECT("38541013")), key, SECRETS.FIXTURE_CERT_PASSWORD, "legacy");
  mismatched = certs.forgePkcs12(pem(), otherKey, "pw", "aes256");
});
afterAll(() => {
  certs.remove();
  cleanup();
});

const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe("stsorg cert inspect", () => {
  it("prints the certificate as JSON with the documented keys and exits 0", async () => {
    const r = await cli(["cert", "inspect", good, "--password-env", "P", "--format", "json"], { cwd: certs.dir, env: { P: SECRETS.FIXTURE_CERT_PASSWORD } });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    for (const k of ["subject", "issuer", "serialNumber", "notBefore", "notAfter", "daysLeft", "sha256Fingerprint", "keyMatchesCertificate", "cvr"]) {
      expect(json, k).toHaveProperty(k);
    }
    expect(json.cvr).toBe(CVR);
    expect(json.daysLeft).toBe(365);
    expect(r.out).not.toContain(SECRETS.FIXTURE_CERT_PASSWORD);
  });

  it("prints a readable summary", async () => {
    const r = await cli(["cert", "inspect", otherCvr, "--password-env", "P"], { cwd: certs.dir, env: { P: SECRETS.FIXTURE_CERT_PASSWORD } });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/CVR:\s+38541013/);
    expect(r.out).toMatch(/Key matches:\s+yes/);
  });

  it.each([
    ["a wrong password", () => good, "P", /Error: .*the password for the certificate file is wrong/],
    ["an expired certificate", () => expired, "Q", /error: the certificate expired on/],
    ["a certificate not valid yet", () => future, "Q", /error: the certificate is not valid yet/],
    ["a key that does not match", () => mismatched, "Q", /error: the private key does not match the certificate/],
  ])("exits 1 for %s", async (_n, file, envName, message) => {
    const r = await cli(["cert", "inspect", file(), "--password-env", envName], { cwd: certs.dir, env: { P: "not-the-password", Q: "pw" } });
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(message);
    noStack(r.err);
  });

  it("names an unset --password-env variable", async () => {
    const r = await cli(["cert", "inspect", good, "--password-env", "UNSET_VAR"], { cwd: certs.dir, env: {} });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/environment variable UNSET_VAR \(named by --password-env\) is not set/);
  });

  it("reports a missing file and a non-certificate without a stack trace", async () => {
    const a = await cli(["cert", "inspect", "nope.p12"], { cwd: certs.dir, env: {} });
    expect(a.err).toBe("Error: nope.p12: the certificate file does not exist\n  Give the path of the organisation certificate (FOCES/OCES3, .p12 or .pfx) exported with its private key.\n");
    const cwd = project({ x: FIXTURE });
    const b = await cli(["cert", "inspect", "environments/x.yaml"], { cwd, env: {} });
    expect(b.err).toMatch(/not a readable PKCS#12/);
    expect([a.code, b.code]).toEqual([1, 1]);
    noStack(a.err + b.err);
  });
});

describe("stsorg validate checks the certificate unless --offline", () => {
  const withCert = (file: string, text = FIXTURE): string => {
    const cwd = project({ x: text });
    mkdirSync(`${cwd}/certs`, { recursive: true });
    copyFileSync(file, `${cwd}/certs/foces.p12`);
    return cwd;
  };
  const diagnostics = (out: string) => (JSON.parse(out) as { diagnostics: { code: string; message: string; line: number; severity: string }[] }).diagnostics;

  it("accepts a matching, valid certificate and shows it", async () => {
    const r = await cli(["validate", "-e", "x"], { cwd: withCert(good) });
    expect(r.out).toMatch(/Certificate: .*CVR 12345674; valid until/);
    expect(r.code).toBe(0);
  });

  it("reports a certificate for another CVR at certificate.path", async () => {
    const r = await cli(["validate", "-e", "x", "--format", "json"], { cwd: withCert(otherCvr) });
    const d = diagnostics(r.out).find((x) => x.code === "certificate.cvr");
    expect(d?.message).toMatch(/belongs to CVR 38541013, but municipality\.cvr is 12345674/);
    expect(d?.line).toBe(lineOf(FIXTURE, "path: certs/foces.p12"));
    expect(r.code).toBe(1);
  });

  it("reports a wrong password at certificate.password", async () => {
    const r = await cli(["validate", "-e", "x", "--format", "json"], { cwd: withCert(good), env: { ...SECRETS, FIXTURE_CERT_PASSWORD: "wrong" } });
    const d = diagnostics(r.out).find((x) => x.code === "certificate.password");
    expect(d?.message).toMatch(/password for the certificate file is wrong/);
    expect(d?.line).toBe(lineOf(FIXTURE, "password: \"${env:FIXTURE_CERT_PASSWORD}\""));
    expect(r.code).toBe(1);
  });

  it("reports an expired certificate", async () => {
    const r = await cli(["validate", "-e", "x", "--format", "json"], { cwd: withCert(expired), env: { ...SECRETS, FIXTURE_CERT_PASSWORD: "pw" } });
    expect(diagnostics(r.out).find((x) => x.code === "certificate.invalid")?.message).toMatch(/expired on/);
    expect(r.code).toBe(1);
  });

  it("warns about a certificate that expires within 30 days", async () => {
    const r = await cli(["validate", "-e", "x", "--format", "json"], { cwd: withCert(good), now: new Date(NOW.getTime() + 350 * DAY) });
    expect(diagnostics(r.out).find((x) => x.code === "certificate.expires-soon")?.severity).toBe("warning");
    expect(r.code).toBe(0);
  });

  it("reports a missing certificate file, and skips it with --offline", async () => {
    const cwd = project({ x: FIXTURE });
    const r = await cli(["validate", "-e", "x"], { cwd });
    expect(r.out).toMatch(/certificate file .*certs\/foces\.p12 does not exist; use --offline/);
    expect(r.code).toBe(1);
    const offline = await cli(["validate", "-e", "x", "--offline"], { cwd });
    expect(offline.code).toBe(0);
    expect(offline.out).toMatch(/Certificate: not checked \(--offline\)/);
  });
});

describe("the shipped examples on the command line", () => {
  it.each(["test", "prod"])("stsorg validate -e %s --offline exits 0", async (name) => {
    const { REPO } = await import("../manifest/helpers.js");
    const r = await cli(["validate", "-e", name, "--offline"], {
      cwd: REPO,
      env: { STSORG_FOCES_PASSWORD: "a", STSORG_MO_SECRET: "b", STSORG_OS2SYNC_APIKEY: "c" },
    });
    expect(r.out).toMatch(new RegExp(`environments/${name}\\.yaml is valid: 0 errors, 0 warnings`));
    expect(r.code).toBe(0);
  });
});

