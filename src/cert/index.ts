/** PKCS#12 certificate inspection (FOCES / OCES3): what `cert inspect` and `validate` report. */
export { inspectCertificate, cvrFromSubject, CERT_WARNING_DAYS } from "./inspect.js";
export type { CertificateInfo, NameAttribute } from "./inspect.js";
export { decodePkcs12, openPkcs12, pkcs12Kdf, bmpPassword, WrongPasswordError } from "./pkcs12.js";
export type { Pkcs12Contents } from "./pkcs12.js";
