import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.js";
import { canonicalJson, canonicalValue } from "../../../src/model/index.js";

// canonicalJson is what plan ids, attribute hashes and state checksums are computed from: its bytes must
// not depend on the order keys were set in, and must stay what they were when plans and states already
// written were hashed.

/** The definition: copy every object with its keys sorted, then serialise. */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference);
  if (value instanceof Map) return reference(Object.fromEntries(value));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = reference(v);
    }
    return out;
  }
  return value;
}

const KEYS = ["Uuid", "Name", "a", "b", "ParentOrgUnitUuid", "10", "9", "0", "æble", "Zeta", "_x", ""];

function randomValue(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth <= 0 || pick < 0.3) {
    const leaves = [null, 0, -1.5, true, false, "tekst", "", undefined, new Date(0)];
    return leaves[Math.floor(r() * leaves.length)];
  }
  if (pick < 0.5) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth - 1));
  if (pick < 0.55) return new Map([["k" + Math.floor(r() * 3), randomValue(r, depth - 1)], ["a", 1]]);
  const keys = KEYS.filter(() => r() < 0.4);
  // Half the objects get their keys in sorted order (as JSON read back from a canonical file has them).
  if (r() < 0.5) keys.sort();
  const o: Record<string, unknown> = {};
  for (const k of keys) o[k] = randomValue(r, depth - 1);
  return o;
}

describe("canonicalJson", () => {
  it("gives the bytes of the sorted copy for any value, also when parts are already sorted (seeded random values)", () => {
    const r = seededRandom(20261206);
    for (let n = 0; n < 3000; n++) {
      const v = randomValue(r, 4);
      const expected = JSON.stringify(reference(v));
      expect(canonicalJson(v)).toBe(expected);
      expect(canonicalJson(v, 2)).toBe(JSON.stringify(reference(v), null, 2));
      // Also for the same value read back from canonical JSON, where every object is already in order.
      if (expected !== undefined) expect(canonicalJson(JSON.parse(expected))).toBe(expected);
    }
  });

  it("does not depend on the order keys were set in", () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: undefined } })).toBe('{"a":{"d":[{"x":2,"y":1}]},"b":1}');
  });

  it("returns parts already in canonical form as they are, and never changes its input", () => {
    const sorted = { a: 1, b: { c: [1, { d: 2, e: 3 }] } };
    expect(canonicalValue(sorted)).toBe(sorted);
    const unsorted = { a: 1, z: sorted.b, m: { y: 1, x: 2 } };
    const before = JSON.stringify(unsorted);
    const out = canonicalValue(unsorted) as Record<string, unknown>;
    expect(out).not.toBe(unsorted);
    expect(out.z).toBe(sorted.b);
    expect(Object.keys(out.m as object)).toEqual(["x", "y"]);
    expect(JSON.stringify(unsorted)).toBe(before);
  });
});
