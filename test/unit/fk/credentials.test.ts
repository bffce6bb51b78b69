import { describe, expect, it } from "vitest";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { CertificateError } from "../../../src/errors/index.js";
import { createTestCa, issueOrganisationCertificate } from "../../../src/sandbox/fk/index.js";
import { credentialsFromPkcs12 } from "../../../src/targets/fk/index.js";

const NOW = new Date();
const ca = createTestCa("credentials test CA", NOW);

describe("the organisation certificate as TLS credentials", () => {
  it.each(["foces", "oces3"] as const)("takes key and certificate from a %s PKCS#12 in memory, with the CVR", (kind) => {
    const p12 = issueOrganisationCertificate(ca, { cvr: "29189846", kind, password: "Kørekort æøå" }, NOW);
    const c = credentialsFromPkcs12(p12, "Kørekort æøå", NOW);
    expect(c.cvr).toBe("29189846");
    const cert = new X509Certificate(c.certPem);
    // The key is the certificate's own.
    expect(cert.checkPrivateKey(createPrivateKey(c.keyPem))).toBe(true);
    expect(createPublicKey(c.keyPem).export({ format: "pem", type: "spki" })).toEqual(cert.publicKey.export({ format: "pem", type: "spki" }));
    expect(c.subject).toContain(kind === "foces" ? "serialNumber=CVR:29189846-FID:" : "organizationIdentifier=NTRDK-29189846");
  });

  it("refuses a wrong password as a certificate error, without echoing it", () => {
    const p12 = issueOrganisationCertificate(ca, { cvr: "29189846", password: "right" }, NOW);
    let err: unknown;
    try {
      credentialsFromPkcs12(p12, "wrong-one", NOW, "org.p12");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CertificateError);
    expect((err as Error).message).toMatch(/password .* wrong/);
    expect((err as Error).message).not.toContain("wrong-one");
  });

  it("refuses an expired certificate before any request is made", () => {
    const p12 = issueOrganisationCertificate(
      ca,
      { cvr: "29189846", password: "pw", notBefore: new Date(NOW.getTime() - 10 * 86_400_000), notAfter: new Date(NOW.getTime() - 86_400_000) },
      NOW,
    );
    expect(() => credentialsFromPkcs12(p12, "pw", NOW, "old.p12")).toThrow(/expired/);
  });
});
