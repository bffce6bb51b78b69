import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import forge from "node-forge";
import { CertificateError } from "../errors/index.js";

/**
 * PKCS#12 (.pfx/.p12) reader. The MAC (any SHA-1/SHA-2 hash, RFC 7292 appendix B key derivation) and
 * PBES2 bags (PBKDF2 + AES-CBC or 3DES, OpenSSL 3's default) are handled with node:crypto; the legacy
 * PKCS#12 PBE bags (SHA-1 + 3DES / RC2-40, `openssl pkcs12 -legacy`, older Windows exports) with
 * node-forge, which still implements RC2. PBES2 takes the password as UTF-8 and the PKCS#12 KDF as
 * BMPString, as OpenSSL does, so passwords with æ, ø, å open files made by OpenSSL.
 */

export interface Pkcs12Contents {
  /** DER certificates, in file order. */
  certificates: { der: Buffer; localKeyId?: string }[];
  /** DER PKCS#8 PrivateKeyInfo, in file order. */
  keys: { der: Buffer; localKeyId?: string }[];
  /** Hash of the integrity MAC, e.g. sha256; undefined when the file has none. */
  macAlgorithm?: string;
  /** Encryption schemes seen, e.g. `PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc`, `pbeWithSHAAnd3-KeyTripleDES-CBC`. */
  encryption: string[];
}

const asn1 = forge.asn1;
type Asn1 = forge.asn1.Asn1;

const OID = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  localKeyId: "1.2.840.113549.1.9.21",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
} as const;

const HASH_BY_OID: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

const PRF_BY_OID: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.8": "sha224",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
};

const CIPHER_BY_OID: Record<string, { name: string; keyLength: number }> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keyLength: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keyLength: 24 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keyLength: 32 },
  "1.2.840.113549.3.7": { name: "des-ede3-cbc", keyLength: 24 },
};

const PKCS12_PBE_NAMES: Record<string, string> = {
  "1.2.840.113549.1.12.1.3": "pbeWithSHAAnd3-KeyTripleDES-CBC",
  "1.2.840.113549.1.12.1.6": "pbeWithSHAAnd40BitRC2-CBC",
};

/** Block sizes (v in RFC 7292 B.2) of the hashes the MAC may use. */
const BLOCK_SIZE: Record<string, number> = { sha1: 64, sha224: 64, sha256: 64, sha384: 128, sha512: 128 };

/** Thrown inside the decoder when the password does not fit; turned into a CertificateError by the caller. */
export class WrongPasswordError extends Error {}

class MalformedError extends Error {}

function fail(what: string): never {
  throw new MalformedError(what);
}

function seq(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) fail(`expected a sequence for ${what}`);
  return node.value as Asn1[];
}

function oidOf(node: Asn1 | undefined, what: string): string {
  if (!node || node.type !== asn1.Type.OID || typeof node.value !== "string") fail(`expected an OID for ${what}`);
  return asn1.derToOid(node.value);
}

/** Content bytes of an OCTET STRING, joining the chunks of a constructed (BER) one. */
function octets(node: Asn1 | undefined, what: string): Buffer {
  if (!node) fail(`missing ${what}`);
  if (typeof node.value === "string") return Buffer.from(node.value, "binary");
  return Buffer.concat((node.value as Asn1[]).map((c) => octets(c, what)));
}

function integer(node: Asn1 | undefined, what: string): number {
  if (!node || typeof node.value !== "string") fail(`expected an integer for ${what}`);
  let n = 0;
  for (const ch of node.value) n = n * 256 + ch.charCodeAt(0);
  return n;
}

/** The single element inside an explicit [n] tag. */
function explicit(node: Asn1 | undefined, what: string): Asn1 {
  const inner = seq(node, what)[0];
  if (!inner) fail(`empty ${what}`);
  return inner;
}

function parse(bytes: Buffer): Asn1 {
  return asn1.fromDer(forge.util.createBuffer(bytes.toString("binary")), false);
}

/** RFC 7292 appendix B.2: derives `n` bytes for purpose `id` (1 key, 2 IV, 3 MAC) from a BMPString password. */
export function pkcs12Kdf(hash: string, password: Buffer, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const v = BLOCK_SIZE[hash];
  if (v === undefined) throw new MalformedError(`unsupported hash ${hash}`);
  const u = createHash(hash).digest().length;
  const D = Buffer.alloc(v, id);
  const repeat = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  let I = Buffer.concat([repeat(salt), repeat(password)]);
  const out: Buffer[] = [];
  let produced = 0;
  while (produced < n) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let i = 1; i < iterations; i++) A = createHash(hash).update(A).digest();
    out.push(A);
    produced += u;
    if (produced >= n) break;
    const B = repeat(A).subarray(0, v);
    const next = Buffer.alloc(I.length);
    for (let j = 0; j < I.length; j += v) {
      // I_j = (I_j + B + 1) mod 2^(8v)
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        next[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
    I = next;
  }
  return Buffer.concat(out).subarray(0, n);
}

/** The password as PKCS#12 wants it for its own KDF: big-endian UTF-16 with a terminating NUL. */
export function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

function verifyMac(macData: Asn1, content: Buffer, password: string): string {
  const [digestInfo, saltNode, iterNode] = seq(macData, "MacData");
  const [algId, digestNode] = seq(digestInfo, "MAC DigestInfo");
  const hashOid = oidOf(seq(algId, "MAC algorithm")[0], "MAC algorithm");
  const hash = HASH_BY_OID[hashOid];
  if (!hash) fail(`unsupported MAC algorithm ${hashOid}`);
  const expected = octets(digestNode, "MAC digest");
  const salt = octets(saltNode, "MAC salt");
  const iterations = iterNode ? integer(iterNode, "MAC iterations") : 1;
  const macKeyLength = createHash(hash).digest().length;
  // An empty password is encoded either as an empty BMPString or as none at all, depending on the tool.
  const candidates = password === "" ? [bmpPassword(""), Buffer.alloc(0)] : [bmpPassword(password)];
  for (const pw of candidates) {
    const key = pkcs12Kdf(hash, pw, salt, 3, iterations, macKeyLength);
    const actual = createHmac(hash, key).update(content).digest();
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return hash;
  }
  throw new WrongPasswordError("MAC mismatch");
}

/** Decrypts data encrypted under an AlgorithmIdentifier; records the scheme in `seen`. */
function decrypt(algId: Asn1, data: Buffer, password: string, seen: Set<string>): Buffer {
  const [oidNode, params] = seq(algId, "encryption algorithm");
  const oid = oidOf(oidNode, "encryption algorithm");
  if (oid === OID.pbes2) {
    const [kdf, scheme] = seq(params, "PBES2 parameters");
    const [kdfOid, kdfParams] = seq(kdf, "PBES2 key derivation");
    if (oidOf(kdfOid, "key derivation") !== OID.pbkdf2) fail("PBES2 with a key derivation other than PBKDF2");
    const kp = seq(kdfParams, "PBKDF2 parameters");
    const salt = octets(kp[0], "PBKDF2 salt");
    const iterations = integer(kp[1], "PBKDF2 iterations");
    let prf = "sha1";
    for (const extra of kp.slice(2)) {
      if (extra.type === asn1.Type.SEQUENCE) {
        const prfOid = oidOf(seq(extra, "PBKDF2 prf")[0], "PBKDF2 prf");
        const p = PRF_BY_OID[prfOid];
        if (!p) fail(`unsupported PBKDF2 PRF ${prfOid}`);
        prf = p;
      }
    }
    const [encOid, ivNode] = seq(scheme, "PBES2 encryption scheme");
    const cipherOid = oidOf(encOid, "PBES2 cipher");
    const cipher = CIPHER_BY_OID[cipherOid];
    if (!cipher) fail(`unsupported PBES2 cipher ${cipherOid}`);
    seen.add(`PBES2/PBKDF2-hmacWith${prf.toUpperCase()}/${cipher.name}`);
    const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, cipher.keyLength, prf);
    try {
      const d = createDecipheriv(cipher.name, key, octets(ivNode, "PBES2 IV"));
      return Buffer.concat([d.update(data), d.final()]);
    } catch {
      throw new WrongPasswordError("bad padding");
    }
  }
  const name = PKCS12_PBE_NAMES[oid];
  if (!name) fail(`unsupported encryption algorithm ${oid}`);
  seen.add(name);
  // forge implements the PKCS#12 PBE ciphers (and RC2) but does not declare `pki.pbe` in its types.
  const pbe = (forge.pki as unknown as { pbe: { getCipher(oid: string, params: Asn1, password: string): forge.cipher.BlockCipher } }).pbe;
  if (!params) fail("PBE without parameters");
  const cipher = pbe.getCipher(oid, params, password);
  cipher.update(forge.util.createBuffer(data.toString("binary")));
  if (!cipher.finish()) throw new WrongPasswordError("bad padding");
  return Buffer.from(cipher.output.getBytes(), "binary");
}

function localKeyIdOf(attrs: Asn1 | undefined): string | undefined {
  if (!attrs || !Array.isArray(attrs.value)) return undefined;
  for (const attr of attrs.value as Asn1[]) {
    const [typeNode, values] = seq(attr, "bag attribute");
    if (oidOf(typeNode, "bag attribute") === OID.localKeyId) {
      const first = seq(values, "localKeyId values")[0];
      return first ? octets(first, "localKeyId").toString("hex") : undefined;
    }
  }
  return undefined;
}

function readSafeContents(bytes: Buffer, password: string, out: Pkcs12Contents, seen: Set<string>): void {
  for (const bag of seq(parse(bytes), "SafeContents")) {
    const [idNode, valueNode, attrs] = seq(bag, "SafeBag");
    const bagId = oidOf(idNode, "SafeBag type");
    const value = explicit(valueNode, "SafeBag value");
    const localKeyId = localKeyIdOf(attrs);
    if (bagId === OID.keyBag) {
      out.keys.push({ der: Buffer.from(asn1.toDer(value).getBytes(), "binary"), localKeyId });
    } else if (bagId === OID.shroudedKeyBag) {
      const [algId, enc] = seq(value, "EncryptedPrivateKeyInfo");
      out.keys.push({ der: decrypt(algId!, octets(enc, "encrypted key"), password, seen), localKeyId });
    } else if (bagId === OID.certBag) {
      const [certType, certValue] = seq(value, "CertBag");
      if (oidOf(certType, "certificate type") !== OID.x509Certificate) continue;
      out.certificates.push({ der: octets(explicit(certValue, "certificate"), "certificate"), localKeyId });
    }
  }
}

/** Opens a PKCS#12 file. Throws WrongPasswordError for a wrong password, Error for anything malformed. */
export function decodePkcs12(bytes: Buffer, password: string): Pkcs12Contents {
  let pfx: Asn1[];
  try {
    pfx = seq(parse(bytes), "PFX");
  } catch {
    throw new MalformedError("not DER-encoded ASN.1");
  }
  const [version, authSafe, macData] = pfx;
  if (integer(version, "PFX version") !== 3) fail("PFX version is not 3");
  const [ctype, ccontent] = seq(authSafe, "authSafe");
  if (oidOf(ctype, "authSafe type") !== OID.data) fail("authSafe is not plain data (public-key integrity mode is not supported)");
  const content = octets(explicit(ccontent, "authSafe content"), "authSafe content");
  const out: Pkcs12Contents = { certificates: [], keys: [], encryption: [] };
  if (macData) out.macAlgorithm = verifyMac(macData, content, password);
  const seen = new Set<string>();
  for (const ci of seq(parse(content), "AuthenticatedSafe")) {
    const [t, c] = seq(ci, "ContentInfo");
    const type = oidOf(t, "ContentInfo type");
    if (type === OID.data) {
      readSafeContents(octets(explicit(c, "data"), "data"), password, out, seen);
    } else if (type === OID.encryptedData) {
      const [, encInfo] = seq(explicit(c, "EncryptedData"), "EncryptedData");
      const [, algId, encContent] = seq(encInfo, "EncryptedContentInfo");
      if (!algId || !encContent) fail("EncryptedContentInfo without content");
      readSafeContents(decrypt(algId, octets(encContent, "encrypted content"), password, seen), password, out, seen);
    } else {
      fail(`unsupported content type ${type} (public-key privacy mode is not supported)`);
    }
  }
  out.encryption = [...seen].sort();
  return out;
}

/** decodePkcs12 with user-facing errors. */
export function openPkcs12(bytes: Buffer, password: string, file?: string): Pkcs12Contents {
  try {
    return decodePkcs12(bytes, password);
  } catch (e) {
    if (e instanceof WrongPasswordError) {
      throw new CertificateError(password === "" ? "the certificate file needs a password, and none was given" : "the password for the certificate file is wrong", {
        file,
        hint: "Give the PKCS#12 file's password (for cert inspect: --password-env NAME; in a manifest: certificate.password).",
      });
    }
    if (e instanceof MalformedError) {
      throw new CertificateError(`not a readable PKCS#12 (.pfx/.p12) file: ${e.message}`, {
        file,
        hint: "Export the certificate with its private key as PKCS#12 (e.g. openssl pkcs12 -export).",
      });
    }
    throw new CertificateError(`not a readable PKCS#12 (.pfx/.p12) file: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}
