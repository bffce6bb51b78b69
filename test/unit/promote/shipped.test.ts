import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";

// The example pair shipped in environments/: promoting test into prod must keep every production
// uuid, keep prod.yaml's comments, and carry test's policy (through prod's uuidMap where it has one).
const ROOT = join(import.meta.dirname, "../../..");
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

let dir: string;
let original: string;
let promoted: string;
let code: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stsorg-promote-shipped-"));
  mkdirSync(join(dir, "environments"));
  for (const f of ["test.yaml", "prod.yaml"]) copyFileSync(join(ROOT, "environments", f), join(dir, "environments", f));
  original = readFileSync(join(dir, "environments/prod.yaml"), "utf8");
  code = await run(["promote", "--from", "test", "--to", "prod", "--write"], memoryIo({ cwd: dir }));
  promoted = readFileSync(join(dir, "environments/prod.yaml"), "utf8");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A value with every uuid replaced through `map`. */
function mapped(value: unknown, map: Record<string, string>): unknown {
  const lower = Object.fromEntries(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
  return JSON.parse(JSON.stringify(value ?? null).replace(UUID, (u) => lower[u.toLowerCase()] ?? u));
}

describe("promote on the shipped environments/test.yaml → prod.yaml", () => {
  it("is accepted", () => {
    expect(code).toBe(0);
  });

  it("keeps every production value outside the portable policy", () => {
    const before = parse(original);
    const after = parse(promoted);
    expect(after.metadata).toEqual(before.metadata);
    for (const key of Object.keys(before.spec).filter((k) => !["sync", "safety", "serviceAgreement"].includes(k))) {
      expect(after.spec[key], key).toEqual(before.spec[key]);
    }
    const { services: _a, ...agreementAfter } = after.spec.serviceAgreement;
    const { services: _b, ...agreementBefore } = before.spec.serviceAgreement;
    expect(agreementAfter).toEqual(agreementBefore);
  });

  it("carries test's policy, mapped through prod's uuidMap, with prod's own CPR hash key", () => {
    const test = parse(readFileSync(join(dir, "environments/test.yaml"), "utf8")).spec;
    const before = parse(original).spec;
    const after = parse(promoted).spec;
    const map = (before.promotion?.uuidMap ?? {}) as Record<string, string>;
    const { cprHashKey: _t, ...testSync } = test.sync;
    const { cprHashKey: prodKey, ...afterSync } = after.sync;
    expect(afterSync).toEqual(mapped(testSync, map));
    expect(prodKey).toEqual(before.sync.cprHashKey);
    expect(after.safety).toEqual(mapped(test.safety, map));
    expect(after.serviceAgreement.services).toEqual(mapped(test.serviceAgreement.services, map));
  });

  it("keeps prod.yaml's comments on everything before the policy", () => {
    const head = original.slice(0, original.indexOf("\n  sync:"));
    const comments = head.split("\n").filter((l) => /^\s*#/.test(l));
    expect(comments.length).toBeGreaterThan(5);
    for (const c of comments) expect(promoted).toContain(c + "\n");
  });

  it("keeps production's own root unit: test's is mapped through prod's uuidMap", () => {
    expect(parse(promoted).spec.sync.topUnitUuid).toBe(parse(original).spec.sync.topUnitUuid);
    expect(parse(promoted).spec.sync.topUnitUuid).not.toBe(parse(readFileSync(join(dir, "environments/test.yaml"), "utf8")).spec.sync.topUnitUuid);
  });

  it("was current as shipped: promoting changes nothing", () => {
    expect(promoted).toBe(original);
  });

  it("is then current: --check exits 0 and prints no diff", async () => {
    const io = memoryIo({ cwd: dir });
    expect(await run(["promote", "--from", "test", "--to", "prod", "--check"], io)).toBe(0);
    expect(io.out()).toBe("");
  });
});
