import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/**
 * A throw-away PKI for the FK sandbox, made in memory: a CA, a server certificate for 127.0.0.1 and
 * localhost, and organisation certificates in PKCS#12 shaped like the real ones (FOCES: the CVR in
 * serialNumber `CVR:…-FID:…`; OCES3: organizationIdentifier `NTRDK-…`).
 */

export interface TestCa {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

export interface OrganisationCertificateOptions {
  cvr: string;
  /** `foces` (default) or `oces3`: where the CVR sits in the subject. */
  kind?: "foces" | "oces3";
  organisation?: string;
  password: string;
  notBefore?: Date;
  notAfter?: Date;
}

const OID_ORGANIZATION_IDENTIFIER = "2.5.4.97";

function newKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privatePem: string } {
  // Node's generator is native and fast; forge then works with the PEM.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), privatePem };
}

function serial(): string {
  // Positive, non-zero leading nibble.
  return "1" + randomBytes(15).toString("hex");
}

function sign(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): void {
  cert.sign(key, forge.md.sha256.create());
}

export function createTestCa(name = "stsorg sandbox CA", now = new Date()): TestCa {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 86_400_000);
  cert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const subject = [{ name: "commonName", value: name }, { name: "countryName", value: "DK" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  sign(cert, keys.privateKey);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem, cert, key: keys.privateKey };
}

export function issueServerCertificate(ca: TestCa, now = new Date()): ServerCertificate {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 86_400_000);
  cert.validity.notAfter = new Date(now.getTime() + 365 * 86_400_000);
  cert.setSubject([{ name: "commonName", value: "localhost" }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
  ]);
  sign(cert, ca.key);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

/** An organisation certificate with its key as a PKCS#12 file (DER bytes), signed by `ca`. */
export function issueOrganisationCertificate(ca: TestCa, opts: OrganisationCertificateOptions, now = new Date()): Buffer {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = opts.notBefore ?? new Date(now.getTime() - 86_400_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(now.getTime() + 2 * 365 * 86_400_000);
  const org = opts.organisation ?? "Sandbox Kommune";
  const subject: forge.pki.CertificateField[] =
    (opts.kind ?? "foces") === "foces"
      ? [
          { name: "countryName", value: "DK" },
          { name: "organizationName", value: `${org} // CVR:${opts.cvr}` },
          { name: "commonName", value: `${org} - stsorg` },
          { name: "serialNumber", value: `CVR:${opts.cvr}-FID:${randomBytes(4).readUInt32BE(0)}` },
        ]
      : [
          { name: "countryName", value: "DK" },
          { name: "organizationName", value: org },
          { type: OID_ORGANIZATION_IDENTIFIER, value: `NTRDK-${opts.cvr}`, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField,
          { name: "commonName", value: `${org} - stsorg` },
        ];
  cert.setSubject(subject);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
  sign(cert, ca.key);
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], opts.password, { algorithm: "3des", generateLocalKeyId: true, friendlyName: "stsorg" });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), "binary");
}

/** The attributes of a certificate's subject (DER), as OIDs and text, for finding the CVR in it. */
export function subjectAttributes(der: Buffer): { type: string; name: string; value: string }[] {
  const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary"))));
  return cert.subject.attributes.map((a) => ({
    type: String(a.type ?? ""),
    name: String(a.shortName ?? a.name ?? a.type ?? ""),
    value: Buffer.from(String(a.value ?? ""), "binary").toString("utf8"),
  }));
}
