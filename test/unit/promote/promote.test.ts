import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ManifestError } from "../../../src/errors/index.js";
import {
  ORGANISATION_V4_SERVICE_UUID,
  promoteManifest,
  promotionDiff,
  promotionReport,
  type PromotionFinding,
} from "../../../src/promote/index.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/promote");
const TEST_TEXT = readFileSync(join(FIXTURES, "test.yaml"), "utf8");
const PROD_TEXT = readFileSync(join(FIXTURES, "prod.yaml"), "utf8");

// Environment-specific uuids of the fixture pair.
const TEST_ADMIN_TOP = "7a1d3c2e-4444-4a0b-9c3d-0000000000a4";
const TEST_MUNICIPALITY = "7a1d3c2e-1111-4a0b-9c3d-0000000000a1";
const TEST_IT_SYSTEM = "7a1d3c2e-3333-4a0b-9c3d-0000000000a3";
const PROD_ADMIN_TOP = "9c4e6f80-4444-4b1c-8d2e-0000000000b4";
// OS2mo uuids: prod.yaml maps the test ones to these.
const TEST_TOP_UNIT = "5b8f0c11-aaaa-4e2d-8b9a-00000000c001";
const PROD_TOP_UNIT = "6c9a1d22-aaaa-4f3e-9cab-00000000d001";
const TEST_EMAIL_WORK = "5b8f0c11-bbbb-4e2d-8b9a-00000000c101";
const PROD_EMAIL_WORK = "6c9a1d22-bbbb-4f3e-9cab-00000000d101";
const UNMAPPED_CLASS = "5b8f0c11-bbbb-4e2d-8b9a-00000000c102";

function edit(text: string, from: string, to: string): string {
  expect(text, `fixture contains ${JSON.stringify(from)}`).toContain(from);
  return text.replace(from, to);
}

function promote(testText = TEST_TEXT, prodText = PROD_TEXT) {
  return promoteManifest({ file: "environments/test.yaml", text: testText }, { file: "environments/prod.yaml", text: prodText });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function spec(text: string): any {
  return parse(text).spec;
}

function ofKind<K extends PromotionFinding["kind"]>(findings: PromotionFinding[], kind: K) {
  return findings.filter((f): f is Extract<PromotionFinding, { kind: K }> => f.kind === kind);
}

/** Lines the diff removes and adds, without its headers. */
function changedLines(diff: string): { removed: string[]; added: string[] } {
  const lines = diff.split("\n").filter((l) => !l.startsWith("---") && !l.startsWith("+++"));
  return {
    removed: lines.filter((l) => l.startsWith("-")).map((l) => l.slice(1)),
    added: lines.filter((l) => l.startsWith("+")).map((l) => l.slice(1)),
  };
}

describe("promoteManifest: what is carried", () => {
  it("carries a changed truncateLength and email class list into the target", () => {
    const source = edit(
      edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"),
      `      - ${TEST_EMAIL_WORK} # Email, work\n`,
      `      - ${TEST_EMAIL_WORK} # Email, work\n      - ${UNMAPPED_CLASS} # Email, private\n`,
    );
    const r = promote(source);
    expect(r.changed).toBe(true);
    expect(r.refused).toBe(false);
    const sync = spec(r.after).sync;
    expect(sync.truncateLength).toBe(120);
    // The known class goes through prod's uuidMap; the new one is carried as is.
    expect(sync.emailScopeClasses).toEqual([PROD_EMAIL_WORK, UNMAPPED_CLASS]);
  });

  it("adds keys new in the source after the key that precedes them there, and drops keys the source no longer has", () => {
    const source = edit(edit(TEST_TEXT, "    syncManagers: true\n", "    syncManagers: true\n    useNickname: true\n"), "    syncCpr: true\n", "");
    const r = promote(source);
    const keys = Object.keys(spec(r.after).sync);
    expect(keys.slice(keys.indexOf("syncManagers"))).toEqual(["syncManagers", "useNickname"]);
    expect(keys).not.toContain("syncCpr");
    // The CPR hash key is the target's secret, not part of the policy.
    expect(spec(r.after).sync.cprHashKey).toBe("${env:STSORG_CPR_HASH_KEY}");
  });

  it("carries the safety limits", () => {
    const r = promote(edit(TEST_TEXT, "maxDeletes: { count: 50, percent: 5 }", "maxDeletes: { count: 10, percent: 2 }"));
    expect(spec(r.after).safety.maxDeletes).toEqual({ count: 10, percent: 2 });
  });

  it("carries the service agreement's services, roles and parameters", () => {
    const source = edit(
      TEST_TEXT,
      "- { name: udstil,  parameters: { secpr-nummer: Ja, senavn: Ja } }",
      "- { name: udstil,  parameters: { secpr-nummer: Ja, senavn: Ja, brugervendtnoegle: Ja } }",
    );
    const r = promote(source);
    const services = spec(r.after).serviceAgreement.services;
    expect(services.map((s: { name: string }) => s.name)).toEqual(["Organisation v4.0", "organisation2"]);
    expect(services[1].roles[1]).toEqual({ name: "udstil", parameters: { "secpr-nummer": "Ja", senavn: "Ja", brugervendtnoegle: "Ja" } });
    expect(services[0].uuid).toBe(ORGANISATION_V4_SERVICE_UUID);
  });

  it("keeps every environment-specific value of the target", () => {
    const source = edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120");
    const before = spec(PROD_TEXT);
    const after = spec(promote(source).after);
    for (const key of ["stage", "municipality", "certificate", "sts", "os2mo", "os2sync", "state", "promotion"]) {
      expect(after[key], key).toEqual(before[key]);
    }
    const { services: _b, ...agreementBefore } = before.serviceAgreement;
    const { services: _a, ...agreementAfter } = after.serviceAgreement;
    expect(agreementAfter).toEqual(agreementBefore);
    expect(parse(promote(source).after).metadata).toEqual(parse(PROD_TEXT).metadata);
    expect(after.sync.topUnitUuid).toBe(PROD_TOP_UNIT);
    expect(after.sync.cprHashKey).toBe("${env:STSORG_CPR_HASH_KEY}");
  });
});

describe("promoteManifest: uuids", () => {
  it("refuses a source environment uuid planted in the portable part, naming its path and origin", () => {
    const source = edit(TEST_TEXT, "    syncManagers: true\n", `    syncManagers: true\n    filterOrgunitUuids: [${TEST_ADMIN_TOP}]\n`);
    const r = promote(source);
    expect(r.refused).toBe(true);
    const refused = ofKind(r.findings, "refused");
    expect(refused).toHaveLength(1);
    const line = source.split("\n").findIndex((l) => l.includes("filterOrgunitUuids")) + 1;
    expect(refused[0]).toMatchObject({
      path: "spec.sync.filterOrgunitUuids[0]",
      uuid: TEST_ADMIN_TOP,
      sourceField: "spec.sts.adminTopUuid",
      origin: { from: "source", file: "environments/test.yaml", line, path: "spec.sync.filterOrgunitUuids[0]" },
    });
    const report = promotionReport(r);
    expect(report).toContain(`spec.sync.filterOrgunitUuids[0]: ${TEST_ADMIN_TOP} is environments/test.yaml's spec.sts.adminTopUuid`);
    expect(report).toContain(`environments/test.yaml:${line}`);
  });

  it("refuses each planted uuid, in the safety limits too", () => {
    const source = edit(TEST_TEXT, "protectedUnits: []", `protectedUnits: [${TEST_MUNICIPALITY}, ${TEST_IT_SYSTEM}]`);
    const refused = ofKind(promote(source).findings, "refused");
    expect(refused.map((f) => [f.path, f.sourceField])).toEqual([
      ["spec.safety.protectedUnits[0]", "spec.municipality.uuid"],
      ["spec.safety.protectedUnits[1]", "spec.serviceAgreement.itSystemUuid"],
    ]);
  });

  it("accepts the planted uuid once the target's uuidMap maps it, and writes the target's uuid", () => {
    const source = edit(TEST_TEXT, "    syncManagers: true\n", `    syncManagers: true\n    filterOrgunitUuids: [${TEST_ADMIN_TOP}]\n`);
    const target = edit(PROD_TEXT, "    uuidMap:\n", `    uuidMap:\n      ${TEST_ADMIN_TOP}: ${PROD_ADMIN_TOP}\n`);
    const r = promote(source, target);
    expect(r.refused).toBe(false);
    expect(spec(r.after).sync.filterOrgunitUuids).toEqual([PROD_ADMIN_TOP]);
    expect(ofKind(r.findings, "mapped")).toContainEqual(
      expect.objectContaining({ path: "spec.sync.filterOrgunitUuids[0]", uuid: TEST_ADMIN_TOP, mappedTo: PROD_ADMIN_TOP }),
    );
  });

  it("refuses when the target itself still holds a source environment uuid", () => {
    const target = edit(PROD_TEXT, "itSystemUuid: 9c4e6f80-3333-4b1c-8d2e-0000000000b3", `itSystemUuid: ${TEST_IT_SYSTEM}`);
    const r = promote(TEST_TEXT, target);
    const refused = ofKind(r.findings, "refused");
    expect(refused).toEqual([
      expect.objectContaining({
        path: "spec.serviceAgreement.itSystemUuid",
        uuid: TEST_IT_SYSTEM,
        origin: expect.objectContaining({ from: "target", file: "environments/prod.yaml" }),
      }),
    ]);
  });

  it("carries unmapped portable uuids over and lists them for review", () => {
    const source = edit(TEST_TEXT, "    syncManagers: true\n", `    syncManagers: true\n    ignoredUnitTypes: [${UNMAPPED_CLASS}]\n`);
    const r = promote(source);
    expect(r.refused).toBe(false);
    expect(spec(r.after).sync.ignoredUnitTypes).toEqual([UNMAPPED_CLASS]);
    expect(ofKind(r.findings, "review")).toEqual([
      expect.objectContaining({ path: "spec.sync.ignoredUnitTypes[0]", uuid: UNMAPPED_CLASS }),
    ]);
    expect(promotionReport(r)).toMatch(new RegExp(`Warning: 1 uuid carried over[^\\n]*\\n  spec\\.sync\\.ignoredUnitTypes\\[0\\]: ${UNMAPPED_CLASS}`));
  });

  it("lists an unmapped top unit for review when the target has no map entry for it", () => {
    const target = edit(PROD_TEXT, `      ${TEST_TOP_UNIT}: ${PROD_TOP_UNIT} # top unit\n`, "");
    const r = promote(TEST_TEXT, target);
    expect(spec(r.after).sync.topUnitUuid).toBe(TEST_TOP_UNIT);
    expect(ofKind(r.findings, "review")).toEqual([
      expect.objectContaining({ path: "spec.sync.topUnitUuid", uuid: TEST_TOP_UNIT, replaces: PROD_TOP_UNIT }),
    ]);
    expect(promotionReport(r)).toContain(`spec.sync.topUnitUuid: ${TEST_TOP_UNIT} (from environments/test.yaml:`);
    expect(promotionReport(r)).toContain(`replaces environments/prod.yaml's ${PROD_TOP_UNIT})`);
  });

  it("never flags the fixed Organisation v4 service uuid", () => {
    const r = promote();
    expect(r.findings.some((f) => f.uuid === ORGANISATION_V4_SERVICE_UUID)).toBe(false);
  });
});

describe("promoteManifest: the target file's layout", () => {
  it("leaves the target byte-identical when nothing portable differs", () => {
    const r = promote();
    expect(r.changed).toBe(false);
    expect(r.after).toBe(PROD_TEXT);
    expect(promotionDiff(r)).toBe("");
  });

  it("changes only the lines whose content changed", () => {
    const r = promote(edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"));
    expect(changedLines(promotionDiff(r))).toEqual({ removed: ["    truncateLength: 200"], added: ["    truncateLength: 120"] });
  });

  it("keeps the target's comments, including those on changed keys, and its key order", () => {
    const source = edit(
      edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"),
      "maxDeletes: { count: 50, percent: 5 }",
      "maxDeletes: { count: 10, percent: 2 }",
    );
    const r = promote(source);
    const comments = PROD_TEXT.split("\n").filter((l) => l.includes("#"));
    expect(comments.length).toBeGreaterThan(8);
    for (const c of comments) expect(r.after).toContain(c.replace(/.*?(#.*)$/, "$1"));
    expect(r.after).toContain("    # Production is larger: allow fewer deletes per run.\n    maxDeletes: { count: 10, percent: 2 }\n");
    expect(Object.keys(spec(r.after))).toEqual(Object.keys(spec(PROD_TEXT)));
    expect(Object.keys(spec(r.after).sync)).toEqual(Object.keys(spec(PROD_TEXT).sync));
  });

  it("keeps a trailing comment on a value that promotion replaces", () => {
    const target = edit(PROD_TEXT, "truncateLength: 200\n", "truncateLength: 200 # agreed with the FK team\n");
    const r = promote(edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"), target);
    expect(r.after).toContain("    truncateLength: 120 # agreed with the FK team\n");
  });

  it("keeps a CRLF target CRLF, changing only the changed line", () => {
    const crlf = PROD_TEXT.replace(/\n/g, "\r\n");
    const r = promote(edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"), crlf);
    expect(r.after).toBe(crlf.replace("truncateLength: 200", "truncateLength: 120"));
  });

  it("is idempotent: promoting into the promoted target changes nothing", () => {
    const source = edit(
      edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120"),
      "    syncManagers: true\n",
      `    syncManagers: true\n    ignoredUnitTypes: [${UNMAPPED_CLASS}]\n    useNickname: true\n`,
    );
    const first = promote(source);
    expect(first.changed).toBe(true);
    const second = promote(source, first.after);
    expect(second.changed).toBe(false);
    expect(second.after).toBe(first.after);
  });

  it("produces a unified diff headed by the target path", () => {
    const diff = promotionDiff(promote(edit(TEST_TEXT, "truncateLength: 200", "truncateLength: 120")));
    expect(diff).toContain("--- environments/prod.yaml\n+++ environments/prod.yaml\n");
    expect(diff).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m);
  });
});

describe("promoteManifest: invalid manifests", () => {
  it("reports a YAML syntax error with the file, line and column", () => {
    const broken = edit(PROD_TEXT, "    truncateLength: 200\n", "    truncateLength: [200\n");
    const line = broken.split("\n").findIndex((l) => l.includes("truncateLength")) + 1;
    let error: unknown;
    try {
      promote(TEST_TEXT, broken);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    const m = error as ManifestError;
    expect(m.file).toBe("environments/prod.yaml");
    expect(m.line).toBeGreaterThanOrEqual(line);
    expect(m.message).toMatch(/not valid YAML/);
  });

  it("rejects a document without a spec mapping", () => {
    expect(() => promote("apiVersion: stsorg/v1\nkind: Environment\nspec: 3\n")).toThrow(/has no `spec` mapping/);
  });

  it("rejects a uuidMap entry that does not map a uuid to a uuid, at its line", () => {
    const target = edit(PROD_TEXT, "    uuidMap:\n", "    uuidMap:\n      not-a-uuid: 6c9a1d22-aaaa-4f3e-9cab-00000000d001\n");
    const line = target.split("\n").findIndex((l) => l.includes("not-a-uuid")) + 1;
    expect(() => promote(TEST_TEXT, target)).toThrow(expect.objectContaining({ name: "ManifestError", line }));
  });
});
