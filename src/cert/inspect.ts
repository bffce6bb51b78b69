import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { CertificateError } from "../errors/index.js";
import { openPkcs12 } from "./pkcs12.js";

/** What `cert inspect` reports. Field names are the JSON contract. */
export interface CertificateInfo {
  /** Distinguished name, most specific first (`CN=…+serialNumber=…, O=…, C=DK`). */
  subject: string;
  issuer: string;
  /** Hexadecimal, upper case. */
  serialNumber: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  keyMatchesCertificate: boolean;
  /** CVR found in the subject (FOCES serialNumber or O, OCES3 organizationIdentifier); null when none. */
  cvr: string | null;
  /** Why the certificate cannot be used now; empty when it can. */
  problems: string[];
}

/** How close to expiry a certificate gets a warning. */
export const CERT_WARNING_DAYS = 30;

const asn1 = forge.asn1;
type Asn1 = forge.asn1.Asn1;

const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.42": "GN",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
};

export interface NameAttribute {
  type: string;
  name: string;
  value: string;
}

function decodeString(node: Asn1): string {
  const raw = typeof node.value === "string" ? node.value : "";
  if (node.type === asn1.Type.UTF8) return Buffer.from(raw, "binary").toString("utf8");
  if (node.type === asn1.Type.BMPSTRING) return Buffer.from(raw, "binary").swap16().toString("utf16le");
  // PrintableString, IA5String, TeletexString (treated as Latin-1, as most tools do).
  return Buffer.from(raw, "binary").toString("latin1");
}

/** A Name as RDNs (each a set of attributes), in certificate order (least specific first). */
function readName(name: Asn1): NameAttribute[][] {
  return (name.value as Asn1[]).map((rdn) =>
    (rdn.value as Asn1[]).map((atv) => {
      const [typeNode, valueNode] = atv.value as Asn1[];
      const type = asn1.derToOid(typeNode!.value as string);
      return { type, name: SHORT_NAMES[type] ?? type, value: decodeString(valueNode!) };
    }),
  );
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;])/g, "\\$1").replace(/^([ #])/, "\\$1").replace(/ $/, "\\ ");
}

function formatName(rdns: NameAttribute[][]): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.name}=${escapeDn(a.value)}`).join("+"))
    .join(", ");
}

/** The CVR in a certificate subject: FOCES `serialNumber=CVR:…-FID:…` or `O=… // CVR:…`, OCES3 `NTRDK-…`. */
export function cvrFromSubject(attrs: NameAttribute[]): string | null {
  for (const a of attrs) {
    if (a.type === "2.5.4.97") {
      const m = /^NTRDK-(\d{8})$/.exec(a.value.trim());
      if (m) return m[1]!;
    }
  }
  for (const a of attrs) {
    if (a.type === "2.5.4.5") {
      const m = /^CVR:(\d{8})-/.exec(a.value.trim());
      if (m) return m[1]!;
    }
  }
  for (const a of attrs) {
    if (a.type === "2.5.4.10") {
      const m = /\/\/\s*CVR:\s*(\d{8})\b/.exec(a.value);
      if (m) return m[1]!;
    }
  }
  return null;
}

function timeOf(node: Asn1): Date {
  const v = node.value as string;
  return node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(v) : asn1.generalizedTimeToDate(v);
}

interface ParsedCert {
  der: Buffer;
  x509: X509Certificate;
  subject: NameAttribute[][];
  issuer: NameAttribute[][];
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
}

function parseCertificate(der: Buffer): ParsedCert {
  const root = asn1.fromDer(forge.util.createBuffer(der.toString("binary")), false);
  const tbs = (root.value as Asn1[])[0]!.value as Asn1[];
  // TBSCertificate starts with an optional explicit [0] version.
  const i = tbs[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const validity = tbs[i + 3]!.value as Asn1[];
  return {
    der,
    x509: new X509Certificate(der),
    serialNumber: Buffer.from(tbs[i]!.value as string, "binary").toString("hex").toUpperCase(),
    issuer: readName(tbs[i + 2]!),
    notBefore: timeOf(validity[0]!),
    notAfter: timeOf(validity[1]!),
    subject: readName(tbs[i + 4]!),
  };
}

const DAY_MS = 86_400_000;

/**
 * Opens a PKCS#12 file and describes its certificate. Throws CertificateError for a wrong password or
 * an unreadable file; a certificate that is expired, not yet valid or does not match its key is
 * returned with `problems` saying so (the caller decides the exit code).
 */
export function inspectCertificate(bytes: Buffer, password: string, now: Date, file?: string): CertificateInfo {
  const contents = openPkcs12(bytes, password, file);
  if (contents.certificates.length === 0) {
    throw new CertificateError("the PKCS#12 file holds no certificate", { file, hint: "Export the organisation certificate together with its private key." });
  }
  let certs: ParsedCert[];
  try {
    certs = contents.certificates.map((c) => parseCertificate(c.der));
  } catch (e) {
    throw new CertificateError(`the certificate in the PKCS#12 file cannot be read: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  const keys: { key: KeyObject; localKeyId?: string }[] = [];
  for (const k of contents.keys) {
    try {
      keys.push({ key: createPrivateKey({ key: k.der, format: "der", type: "pkcs8" }), localKeyId: k.localKeyId });
    } catch {
      // An unreadable key counts as no key; reported below.
    }
  }
  // The organisation certificate is the one paired with the key; chain certificates come along in some exports.
  const matches = (c: ParsedCert): boolean =>
    keys.some((k) => {
      try {
        return c.x509.checkPrivateKey(k.key);
      } catch {
        return false; // e.g. an EC key next to an RSA certificate
      }
    });
  const byKeyId = contents.certificates.findIndex((c) => c.localKeyId !== undefined && contents.keys.some((k) => k.localKeyId === c.localKeyId));
  const chosen = certs.find(matches) ?? certs[byKeyId] ?? certs.find((c) => !c.x509.ca) ?? certs[0]!;
  const keyMatchesCertificate = matches(chosen);

  const problems: string[] = [];
  if (keys.length === 0) problems.push("the file holds no private key");
  else if (!keyMatchesCertificate) problems.push("the private key does not match the certificate");
  if (now < chosen.notBefore) problems.push(`the certificate is not valid yet: valid from ${chosen.notBefore.toISOString()}`);
  if (now > chosen.notAfter) problems.push(`the certificate expired on ${chosen.notAfter.toISOString()}`);

  return {
    subject: formatName(chosen.subject),
    issuer: formatName(chosen.issuer),
    serialNumber: chosen.serialNumber,
    notBefore: chosen.notBefore.toISOString(),
    notAfter: chosen.notAfter.toISOString(),
    daysLeft: Math.floor((chosen.notAfter.getTime() - now.getTime()) / DAY_MS),
    sha256Fingerprint: chosen.x509.fingerprint256,
    keyMatchesCertificate,
    cvr: cvrFromSubject(chosen.subject.flat()),
    problems,
  };
}
