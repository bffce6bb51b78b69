import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex, type StateFile, type StateResource } from "../../../src/model/index.js";
import { attributesSha256, encodeState, newState, sealResource, stateChecksum } from "../../../src/state/index.js";
import { TEST_IDENTITY } from "./conformance.js";

/** The stored form by its definition: canonical JSON of the state plus its checksum, indented by two. */
function reference(state: StateFile): string {
  const checksum = "sha256:" + sha256Hex(canonicalJson(state));
  expect(stateChecksum(state)).toBe(checksum);
  return canonicalJson({ ...state, checksum }, 2) + "\n";
}

type Attributes = StateResource["attributes"];

function resource(n: number, extra: Record<string, unknown> = {}): StateResource {
  const uuid = `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const attributes = {
    Uuid: uuid,
    Name: `Enhed ${n} — Ærø/Østergade "å"\n`,
    ParentOrgUnitUuid: TEST_IDENTITY.admin_top_uuid,
    Phone: n % 2 === 0 ? null : "12345678",
    Kle: { Interest: [], Performing: ["00.01", "00.02"] },
    ...extra,
  } as unknown as Attributes;
  return {
    address: `orgunit/${uuid}`,
    kind: "orgunit",
    uuid,
    name: `Enhed ${n}`,
    attributes,
    attributes_sha256: attributesSha256(attributes),
    applied_at: "2025-01-02T03:04:05.000Z",
    confirmed: n % 3 === 0,
    origin: "created",
  };
}

function state(resources: StateResource[], pending: StateFile["pending"] = []): StateFile {
  return { ...newState({ lineage: "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c", ...TEST_IDENTITY, tool_version: "0.1.0" }), resources, pending };
}

describe("state encoding", () => {
  it("is canonical JSON with the checksum, indented by two, for empty and filled states", () => {
    const cases = [
      state([]),
      state([resource(1)]),
      state(
        Array.from({ length: 25 }, (_, i) => resource(i, i === 4 ? { Nested: { b: [1, { z: true, a: "x" }], a: {} } } : {})),
        [{ id: "p1", address: "orgunit/x", action: "create", started_at: "2025-01-02T03:04:05.000Z", plan_id: "plan", attributes: { B: 1, A: [] } as unknown as Attributes }],
      ),
    ];
    for (const s of cases) {
      const text = encodeState(s);
      expect(text).toBe(reference(s));
      const { checksum, ...body } = JSON.parse(text) as Record<string, unknown>;
      expect(checksum).toBe(stateChecksum(s));
      expect(body).toEqual(JSON.parse(JSON.stringify(s)));
    }
  });

  it("gives the same bytes when a state is persisted again with more resources (sealed encodings reused)", () => {
    const first = state([resource(1), resource(2)].map(sealResource));
    encodeState(first);
    const second = state([resource(0), ...first.resources, sealResource(resource(3))]);
    expect(encodeState(second)).toBe(reference(second));
  });

  it("leaves a caller's unsealed resources alone and encodes their current content", () => {
    const s = state([resource(1)]);
    encodeState(s);
    (s.resources[0] as { name: string }).name = "Changed";
    expect(Object.isFrozen(s.resources[0])).toBe(false);
    expect(encodeState(s)).toBe(reference(s));
    expect(encodeState(s)).toContain('"name": "Changed"');
  });

  it("refuses to change a sealed resource in place, so no stale encoding is ever written", () => {
    const s = state([sealResource(resource(1))]);
    encodeState(s);
    const r = s.resources[0]! as unknown as { name: string; attributes: Record<string, unknown> };
    expect(() => {
      r.name = "Changed";
    }).toThrow(TypeError);
    expect(() => {
      r.attributes.Name = "Changed";
    }).toThrow(TypeError);
    expect(encodeState(s)).toBe(reference(s));
  });
});
