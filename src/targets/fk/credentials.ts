import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { inspectCertificate, openPkcs12 } from "../../cert/index.js";
import { CertificateError } from "../../errors/index.js";

/**
 * The organisation certificate as TLS wants it: key and certificate in PEM, taken from the PKCS#12
 * file in memory only (never written anywhere), plus what error messages need to name it.
 */
export interface ClientCredentials {
  keyPem: string;
  /** The organisation certificate, followed by any chain certificates from the file. */
  certPem: string;
  subject: string;
  /** The CVR the certificate was issued to (FOCES serialNumber or OCES3 organizationIdentifier). */
  cvr: string | null;
  notAfter: string;
}

export function credentialsFromPkcs12(bytes: Buffer, password: string, now: Date, file?: string): ClientCredentials {
  // Same choice of certificate as `cert inspect`, so what a person inspects is what is sent.
  const info = inspectCertificate(bytes, password, now, file);
  const contents = openPkcs12(bytes, password, file);
  const keys: KeyObject[] = [];
  for (const k of contents.keys) {
    try {
      keys.push(createPrivateKey({ key: k.der, format: "der", type: "pkcs8" }));
    } catch {
      // an unreadable key is no key
    }
  }
  const certs = contents.certificates.map((c) => new X509Certificate(c.der));
  const leaf = certs.find((c) => c.fingerprint256 === info.sha256Fingerprint);
  const key = leaf ? keys.find((k) => safeMatches(leaf, k)) : undefined;
  if (!leaf || !key) {
    throw new CertificateError("the PKCS#12 file holds no private key that belongs to its certificate", {
      file,
      hint: "Export the organisation certificate together with its private key (PKCS#12, .p12/.pfx).",
    });
  }
  if (info.problems.some((p) => /expired|not valid yet/.test(p))) {
    throw new CertificateError(`the organisation certificate cannot be used: ${info.problems.join("; ")}`, {
      file,
      hint: "Renew the FOCES/OCES3 certificate, register the new one on the IT system in the service agreement, and point spec.certificate at it.",
    });
  }
  const chain = certs.filter((c) => c !== leaf);
  return {
    keyPem: key.export({ format: "pem", type: "pkcs8" }).toString(),
    certPem: [leaf, ...chain].map((c) => c.toString()).join(""),
    subject: info.subject,
    cvr: info.cvr,
    notAfter: info.notAfter,
  };
}

function safeMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}
