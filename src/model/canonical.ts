import { createHash, createHmac } from "node:crypto";

/** JSON with object keys sorted at every level: the basis of hashes and of byte-identical output. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(canonicalValue(value), null, indent);
}

/**
 * `value` with object keys sorted at every level (what canonicalJson serialises). Parts that are already
 * in that form — plain objects with their keys in order, arrays of such — are
 * returned as they are instead of copied: data read back from canonical JSON (a plan, a state) is
 * hashed and written many times over, and copying it each time was most of the cost.
 */
export function canonicalValue(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = canonicalValue(v);
      if (out === undefined && c !== v) out = value.slice(0, i);
      out?.push(c);
    }
    return out ?? value;
  }
  if (value instanceof Map) return canonicalValue(Object.fromEntries(value));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const proto: unknown = Object.getPrototypeOf(record);
  let same = proto === Object.prototype || proto === null;
  const values: unknown[] = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]!];
    const c = v === undefined ? undefined : canonicalValue(v);
    values[i] = c;
    if (same && (c !== v || (i > 0 && keys[i - 1]! > keys[i]!))) same = false;
  }
  if (same) return value;
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const i of order) if (values[i] !== undefined) out[keys[i]!] = values[i];
  return out;
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
