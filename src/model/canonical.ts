import { createHash, createHmac } from "node:crypto";

/** JSON with object keys sorted at every level: the basis of hashes and of byte-identical output. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Map) return sortKeys(Object.fromEntries(value));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export const CPR_HASH_PREFIX = "hmac-sha256:";

/** A CPR number as it may appear in plans and state: HMAC-SHA256 under the environment's key. */
export function hashCpr(cpr: string, key: string): string {
  return CPR_HASH_PREFIX + createHmac("sha256", key).update(cpr).digest("hex");
}

export function isHashedCpr(value: unknown): boolean {
  return typeof value === "string" && value.startsWith(CPR_HASH_PREFIX);
}

/** Identifies a hash key without revealing it (so a plan made with another key is detected). */
export function cprKeyId(key: string): string {
  return createHmac("sha256", key).update("stsorg/cpr-key-id").digest("hex").slice(0, 16);
}
