import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePromoteArgs } from "../../../src/cli/commands/promote.js";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/promote");
const TEST_ADMIN_TOP = "7a1d3c2e-4444-4a0b-9c3d-0000000000a4";

let dir: string;
let prodFile: string;
let testFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stsorg-promote-"));
  mkdirSync(join(dir, "environments"));
  testFile = join(dir, "environments", "test.yaml");
  prodFile = join(dir, "environments", "prod.yaml");
  copyFileSync(join(FIXTURES, "test.yaml"), testFile);
  copyFileSync(join(FIXTURES, "prod.yaml"), prodFile);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function editFile(file: string, from: string, to: string): void {
  const text = readFileSync(file, "utf8");
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
}

async function stsorg(...argv: string[]) {
  const io = memoryIo({ cwd: dir });
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe("stsorg promote", () => {
  it("prints the change as a diff and leaves the target alone without --write", async () => {
    editFile(testFile, "truncateLength: 200", "truncateLength: 120");
    const before = readFileSync(prodFile, "utf8");
    const r = await stsorg("promote", "--from", "test", "--to", "prod");
    expect(r.code).toBe(0);
    expect(r.out).toContain("--- environments/prod.yaml\n+++ environments/prod.yaml\n");
    expect(r.out).toContain("-    truncateLength: 200\n+    truncateLength: 120\n");
    expect(r.err).toContain("--write");
    expect(readFileSync(prodFile, "utf8")).toBe(before);
  });

  it("--check exits 2 while the target is behind and 0 once written", async () => {
    editFile(testFile, "truncateLength: 200", "truncateLength: 120");
    const behind = await stsorg("promote", "--from", "test", "--to", "prod", "--check");
    expect(behind.code).toBe(2);
    expect(behind.out).toContain("+    truncateLength: 120");
    expect((await stsorg("promote", "--from", "test", "--to", "prod", "--write")).code).toBe(0);
    const current = await stsorg("promote", "--from", "test", "--to", "prod", "--check");
    expect(current.code).toBe(0);
    expect(current.out).toBe("");
    expect(current.err).toContain("environments/prod.yaml is current with environments/test.yaml");
  });

  it("--write writes the promoted manifest with its comments, and a second promote shows no diff", async () => {
    editFile(testFile, "truncateLength: 200", "truncateLength: 120");
    editFile(testFile, "protectedUnits: []", "protectedUnits: [5b8f0c11-cccc-4e2d-8b9a-00000000c999]");
    const w = await stsorg("promote", "--from", "test", "--to", "prod", "--write");
    expect(w.code).toBe(0);
    expect(w.err).toContain("Wrote environments/prod.yaml.");
    expect(w.err).toContain("spec.safety.protectedUnits[0]: 5b8f0c11-cccc-4e2d-8b9a-00000000c999");
    const written = readFileSync(prodFile, "utf8");
    expect(parse(written).spec.sync.truncateLength).toBe(120);
    expect(parse(written).spec.municipality.uuid).toBe("9c4e6f80-1111-4b1c-8d2e-0000000000b1");
    expect(written).toContain('cprHashKey: "${env:STSORG_CPR_HASH_KEY}" # never the test key');
    expect(written).toContain("# Production is larger: allow fewer deletes per run.");
    expect(written).toContain("# OS2mo test is restored from production now and then, but its class uuids differ.");
    expect(readdirSync(join(dir, "environments")).sort()).toEqual(["prod.yaml", "test.yaml"]);

    const again = await stsorg("promote", "--from", "test", "--to", "prod", "--write");
    expect(again.code).toBe(0);
    expect(again.out).toBe("");
    expect(again.err).toContain("No changes");
    expect(readFileSync(prodFile, "utf8")).toBe(written);
  });

  it("refuses a test uuid in the portable part, names it, and writes nothing", async () => {
    editFile(testFile, "protectedUnits: []", `protectedUnits: [${TEST_ADMIN_TOP}]`);
    const before = readFileSync(prodFile, "utf8");
    const r = await stsorg("promote", "--from", "test", "--to", "prod", "--write");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    const line = readFileSync(testFile, "utf8").split("\n").findIndex((l) => l.includes("protectedUnits")) + 1;
    expect(r.err).toContain(
      `spec.safety.protectedUnits[0]: ${TEST_ADMIN_TOP} is environments/test.yaml's spec.sts.adminTopUuid; copied from environments/test.yaml:${line}`,
    );
    expect(r.err).toContain("spec.promotion.uuidMap");
    expect(readFileSync(prodFile, "utf8")).toBe(before);
  });

  it("accepts manifest paths as well as names", async () => {
    editFile(testFile, "truncateLength: 200", "truncateLength: 99");
    const r = await stsorg("promote", "--from", "environments/test.yaml", "--to", prodFile, "--check");
    expect(r.code).toBe(2);
  });

  it("reports an invalid target manifest with file and line, without a stack trace", async () => {
    editFile(prodFile, "    syncManagers: true\n", "    syncManagers: [true\n");
    const r = await stsorg("promote", "--from", "test", "--to", "prod");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/environments\/prod\.yaml:\d+:\d+: error: YAML syntax error/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("refuses a source manifest that fails validation, naming the line", async () => {
    editFile(testFile, "truncateLength: 200", "truncateLength: lots");
    const line = readFileSync(testFile, "utf8").split("\n").findIndex((l) => l.includes("truncateLength")) + 1;
    const r = await stsorg("promote", "--from", "test", "--to", "prod", "--write");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`environments/test\\.yaml:${line}:\\d+: error: .*truncateLength`));
  });

  it("refuses a promotion whose result would not validate, and writes nothing", async () => {
    // prod sends no CPR and has no hash key of its own; test turns CPR on.
    editFile(prodFile, "    syncCpr: true\n", "    syncCpr: false\n");
    editFile(prodFile, '    cprHashKey: "${env:STSORG_CPR_HASH_KEY}" # never the test key\n', "");
    const before = readFileSync(prodFile, "utf8");
    const r = await stsorg("promote", "--from", "test", "--to", "prod", "--write");
    expect(r.code).toBe(1);
    expect(r.err).toContain("promotion would make an invalid manifest");
    expect(r.err).toContain("environments/prod.yaml (as promoted)");
    expect(r.err).toContain("cprHashKey");
    expect(readFileSync(prodFile, "utf8")).toBe(before);
  });

  it("names a missing manifest", async () => {
    const r = await stsorg("promote", "--from", "test", "--to", "staging");
    expect(r.code).toBe(1);
    expect(r.err).toContain("manifest environments/staging.yaml does not exist");
  });

  it("refuses to promote a manifest into itself", async () => {
    const r = await stsorg("promote", "--from", "prod", "--to", "environments/prod.yaml");
    expect(r.code).toBe(1);
    expect(r.err).toContain("--from and --to name the same manifest");
  });
});

describe("parsePromoteArgs", () => {
  it("chooses the mode from the flags", () => {
    expect(parsePromoteArgs({ from: "test", to: "prod" })).toEqual({ from: "test", to: "prod", mode: "show" });
    expect(parsePromoteArgs({ from: "test", to: "prod", write: true }).mode).toBe("write");
    expect(parsePromoteArgs({ from: "test", to: "prod", check: true }).mode).toBe("check");
  });

  it("rejects --write with --check", () => {
    expect(() => parsePromoteArgs({ from: "test", to: "prod", write: true, check: true })).toThrow(/cannot be combined/);
  });
});
