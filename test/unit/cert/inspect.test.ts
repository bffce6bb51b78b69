import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePkcs12, inspectCertificate, pkcs12Kdf, bmpPassword } from "../../../src/cert/index.js";
import { CertificateError } from "../../../src/errors/index.js";
import { CertDir, certificatePem, DAY, FOCES_SUBJECT, OCES3_SUBJECT, rsaKeyPem, type Encoding } from "./certs.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const CVR = "38541013";
let dirs: CertDir;
let key: string;
let otherKey: string;

beforeAll(() => {
  dirs = new CertDir();
  key = rsaKeyPem();
  otherKey = rsaKeyPem();
});
afterAll(() => dirs.remove());

const valid = (subject = FOCES_SUBJECT(CVR)) =>
  certificatePem({ keyPem: key, subject, notBefore: new Date(NOW.getTime() - 100 * DAY), notAfter: new Date(NOW.getTime() + 200 * DAY) });

describe.each<Encoding>(["legacy", "default"])("PKCS#12 in the %s encoding", (encoding) => {
  it("reads a FOCES certificate: subject, issuer, dates, fingerprint, key match and CVR", () => {
    const pem = valid();
    const info = inspectCertificate(dirs.read(dirs.pkcs12(pem, key, "hemmeligt", encoding)), "hemmeligt", NOW);
    const x509 = new X509Certificate(pem);
    expect(info.subject).toBe(`serialNumber=CVR:${CVR}-FID:94731315, CN=OS2sync Korsbæk, O=Korsbæk Kommune // CVR:${CVR}, C=DK`);
    expect(info.issuer).toBe("CN=Test CA Korsbæk");
    expect(info.serialNumber).toBe("0123456789ABCDEF");
    expect(info.sha256Fingerprint).toBe(x509.fingerprint256);
    expect(info.notAfter).toBe(new Date(NOW.getTime() + 200 * DAY).toISOString().replace(/\.\d{3}Z$/, ".000Z"));
    expect(info.daysLeft).toBe(200);
    expect(info.keyMatchesCertificate).toBe(true);
    expect(info.cvr).toBe(CVR);
    expect(info.problems).toEqual([]);
  });

  it("reads an OCES3 certificate's CVR from organizationIdentifier", () => {
    const info = inspectCertificate(dirs.read(dirs.pkcs12(valid(OCES3_SUBJECT("29189846")), key, "pw", encoding)), "pw", NOW);
    expect(info.cvr).toBe("29189846");
    expect(info.subject).toContain("organizationIdentifier=NTRDK-29189846");
  });

  it("says plainly that a wrong password is wrong", () => {
    const bytes = dirs.read(dirs.pkcs12(valid(), key, "right", encoding));
    expect(() => inspectCertificate(bytes, "wrong", NOW)).toThrowError(CertificateError);
    expect(() => inspectCertificate(bytes, "wrong", NOW)).toThrowError(/password .* is wrong/);
  });

  it("opens a file whose password has Danish letters", () => {
    const info = inspectCertificate(dirs.read(dirs.pkcs12(valid(), key, "Rødgrød-med-fløde-på", encoding)), "Rødgrød-med-fløde-på", NOW);
    expect(info.cvr).toBe(CVR);
    expect(info.keyMatchesCertificate).toBe(true);
  });

});

describe.each(["3des", "aes256"] as const)("PKCS#12 written by node-forge (%s)", (algorithm) => {
  it("reads the certificate and its matching key", () => {
    const info = inspectCertificate(dirs.read(dirs.forgePkcs12(valid(), key, "pw", algorithm)), "pw", NOW);
    expect(info.keyMatchesCertificate).toBe(true);
    expect(info.problems).toEqual([]);
  });

  it("reports a key that does not belong to the certificate", () => {
    const info = inspectCertificate(dirs.read(dirs.forgePkcs12(valid(), otherKey, "pw", algorithm)), "pw", NOW);
    expect(info.keyMatchesCertificate).toBe(false);
    expect(info.problems).toContain("the private key does not match the certificate");
  });
});

describe("certificate validity", () => {
  it.each([
    ["expired", -400, -10, /expired on/],
    ["not valid yet", 5, 400, /not valid yet/],
  ])("reports a certificate that is %s", (_label, fromDays, toDays, problem) => {
    const pem = certificatePem({ keyPem: key, subject: FOCES_SUBJECT(CVR), notBefore: new Date(NOW.getTime() + fromDays * DAY), notAfter: new Date(NOW.getTime() + toDays * DAY) });
    const info = inspectCertificate(dirs.read(dirs.pkcs12(pem, key, "pw", "default")), "pw", NOW);
    expect(info.problems.join("\n")).toMatch(problem);
  });

  it("counts days left down to negative once expired", () => {
    const pem = certificatePem({ keyPem: key, subject: FOCES_SUBJECT(CVR), notBefore: new Date(NOW.getTime() - 400 * DAY), notAfter: new Date(NOW.getTime() - 3 * DAY) });
    expect(inspectCertificate(dirs.read(dirs.pkcs12(pem, key, "pw", "legacy")), "pw", NOW).daysLeft).toBe(-3);
  });
});

describe("file formats", () => {
  it("reads a multi-valued RDN made by openssl (CN + serialNumber, FOCES style)", () => {
    const c = join(dirs.dir, "mv.pem");
    const k = join(dirs.dir, "mvk.pem");
    writeFileSync(k, key);
    execFileSync("openssl", ["req", "-x509", "-key", k, "-out", c, "-days", "30", "-utf8", "-multivalue-rdn", "-subj", `/C=DK/O=Korsbæk Kommune \\/\\/ CVR:${CVR}/CN=OS2sync+serialNumber=CVR:${CVR}-FID:1234`], { stdio: "ignore" });
    const file = join(dirs.dir, "mv.p12");
    execFileSync("openssl", ["pkcs12", "-export", "-in", c, "-inkey", k, "-out", file, "-passout", "pass:pw"], { stdio: "ignore" });
    const info = inspectCertificate(dirs.read(file), "pw", new Date());
    expect(info.subject).toMatch(/^(CN=OS2sync\+serialNumber=CVR:38541013-FID:1234|serialNumber=CVR:38541013-FID:1234\+CN=OS2sync), O=Korsbæk Kommune \/\/ CVR:38541013, C=DK$/);
    expect(info.cvr).toBe(CVR);
  });

  it("rejects a file that is not PKCS#12 with a CertificateError", () => {
    expect(() => inspectCertificate(Buffer.from("not a certificate"), "pw", NOW)).toThrowError(/not a readable PKCS#12/);
  });

  it("reports which encryption each file used", () => {
    const pem = valid();
    expect(decodePkcs12(dirs.read(dirs.pkcs12(pem, key, "pw", "default")), "pw")).toMatchObject({
      macAlgorithm: "sha256",
      encryption: ["PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc"],
    });
    expect(decodePkcs12(dirs.read(dirs.pkcs12(pem, key, "pw", "legacy")), "pw")).toMatchObject({
      macAlgorithm: "sha1",
      encryption: ["pbeWithSHAAnd3-KeyTripleDES-CBC", "pbeWithSHAAnd40BitRC2-CBC"],
    });
  });
});

describe("PKCS#12 key derivation (RFC 7292 appendix B)", () => {
  const salt = Buffer.from("0a58cf64530d823f", "hex");
  it.each([
    ["sha1", 1, 24],
    ["sha1", 3, 20],
    ["sha256", 3, 32],
    ["sha256", 1, 70],
    ["sha512", 2, 16],
  ])("agrees with node-forge's implementation for %s, id %i, %i bytes", (hash, id, n) => {
    const md = forge.md[hash as "sha1" | "sha256" | "sha512"].create();
    const pbe = (forge.pki as unknown as { pbe: { generatePkcs12Key(p: string, s: forge.util.ByteStringBuffer, id: number, iter: number, n: number, md: forge.md.MessageDigest): forge.util.ByteStringBuffer } }).pbe;
    const expected = pbe.generatePkcs12Key("smeg", forge.util.createBuffer(salt.toString("binary")), id, 1000, n, md).getBytes();
    expect(pkcs12Kdf(hash, bmpPassword("smeg"), salt, id, 1000, n).toString("hex")).toBe(Buffer.from(expected, "binary").toString("hex"));
  });
});
