import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

/**
 * Test certificates made at test time: keys from node:crypto, certificates signed by node-forge with
 * chosen dates and subjects, packed into PKCS#12 by the openssl command in both encodings.
 */

export type Encoding = "legacy" | "default";

export interface SubjectAttr {
  type: string;
  value: string;
}

export const FOCES_SUBJECT = (cvr: string): SubjectAttr[] => [
  { type: "2.5.4.6", value: "DK" },
  { type: "2.5.4.10", value: `Korsbæk Kommune // CVR:${cvr}` },
  { type: "2.5.4.3", value: "OS2sync Korsbæk" },
  { type: "2.5.4.5", value: `CVR:${cvr}-FID:94731315` },
];

export const OCES3_SUBJECT = (cvr: string): SubjectAttr[] => [
  { type: "2.5.4.6", value: "DK" },
  { type: "2.5.4.10", value: "Korsbæk Kommune" },
  { type: "2.5.4.97", value: `NTRDK-${cvr}` },
  { type: "2.5.4.3", value: "OS2sync Korsbæk" },
  { type: "2.5.4.5", value: "UI:DK-O:G:0b2bd3a6-6d0e-4b8e-9d0b-6f4a2e1c9b11" },
];

export function rsaKeyPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** A self-signed certificate PEM for `keyPem`, or signed by `signerKeyPem` so it carries another public key. */
export function certificatePem(opts: { keyPem: string; subject: SubjectAttr[]; notBefore: Date; notAfter: Date; publicKeyPem?: string }): string {
  const key = forge.pki.privateKeyFromPem(opts.keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = opts.publicKeyPem
    ? forge.pki.publicKeyFromPem(opts.publicKeyPem)
    : forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = "0123456789abcdef";
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  // forge encodes UTF8String values itself.
  const attrs = opts.subject.map((a) => ({ type: a.type, value: a.value, valueTagClass: forge.asn1.Type.UTF8 as number }));
  cert.setSubject(attrs as forge.pki.CertificateField[]);
  cert.setIssuer([{ type: "2.5.4.3", value: "Test CA Korsbæk", valueTagClass: forge.asn1.Type.UTF8 as number }] as forge.pki.CertificateField[]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export class CertDir {
  readonly dir = mkdtempSync(join(tmpdir(), "stsorg-cert-"));
  private n = 0;

  /** Packs a certificate and key into a PKCS#12 file with openssl; returns its path. */
  pkcs12(certPem: string, keyPem: string, password: string, encoding: Encoding): string {
    const i = this.n++;
    const c = join(this.dir, `c${i}.pem`);
    const k = join(this.dir, `k${i}.pem`);
    const out = join(this.dir, `f${i}-${encoding}.p12`);
    writeFileSync(c, certPem);
    writeFileSync(k, keyPem);
    const args = ["pkcs12", "-export", "-in", c, "-inkey", k, "-out", out, "-passout", "env:STSORG_TEST_P12_PASSWORD"];
    if (encoding === "legacy") args.push("-legacy");
    execFileSync("openssl", args, { env: { ...process.env, STSORG_TEST_P12_PASSWORD: password }, stdio: ["ignore", "ignore", "pipe"] });
    return out;
  }

  /** A PKCS#12 file written by node-forge, which (unlike openssl) packs a key with any certificate. */
  forgePkcs12(certPem: string, keyPem: string, password: string, algorithm: "3des" | "aes256"): string {
    const out = join(this.dir, `forge${this.n++}-${algorithm}.p12`);
    const asn = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(keyPem), forge.pki.certificateFromPem(certPem), password, { algorithm });
    writeFileSync(out, Buffer.from(forge.asn1.toDer(asn).getBytes(), "binary"));
    return out;
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const DAY = 86_400_000;
