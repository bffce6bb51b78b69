import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseExportArgs } from "../../../src/cli/commands/export.js";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";
import type { FkExport } from "../../../src/export/index.js";
import { FkStore } from "../../../src/sandbox/fkstore/index.js";
import { readCsv } from "./csv-reader.js";

/**
 * `stsorg export` against the demo environment's embedded OS2sync sandbox (real HTTP on loopback), with
 * an FK prepared to hold awkward names and a user with a CPR number.
 */

const ROOT_DIR = resolve(import.meta.dirname, "../../..");
const TOP = "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10";
const BORN = "a0000000-0000-4000-8000-000000000001";
const CAFE = "a0000000-0000-4000-8000-000000000002";
const SKOLE = "a0000000-0000-4000-8000-000000000003";
const CPR = "2512489996";
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "stsorg-export-"));
  mkdirSync(join(project, "environments"));
  copyFileSync(join(ROOT_DIR, "environments", "demo.yaml"), join(project, "environments", "demo.yaml"));
  const store = new FkStore({ file: join(project, ".stsorg", "fk.json") });
  store.put("orgunit", { Uuid: TOP, Name: "Korsbæk Kommune", Type: "DEPARTMENT" });
  store.put("orgunit", { Uuid: SKOLE, Name: "Skole og Dagtilbud", ParentOrgUnitUuid: TOP });
  store.put("orgunit", { Uuid: BORN, Name: "Børn, Unge & Familie", ParentOrgUnitUuid: TOP });
  store.put("orgunit", { Uuid: CAFE, Name: '"Café" Solsikken', ParentOrgUnitUuid: BORN });
  store.put("user", {
    Uuid: "b0000000-0000-4000-8000-000000000001",
    UserId: "sjø",
    Email: "soeren.joergensen@korsbaek.dk",
    Positions: [{ Name: "Pædagogmedhjælper", OrgUnitUuid: CAFE }],
    Person: { Name: "Søren Jørgensen", Cpr: CPR },
  });
  store.flush();
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

async function stsorg(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ cwd: project });
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("stsorg export", () => {
  it("prints units with paths and users with positions as JSON, never the CPR number", async () => {
    for (const refresh of ["hierarchy", "full"]) {
      const r = await stsorg("export", "-e", "demo", "--refresh", refresh);
      expect(r.err).not.toContain("Error");
      expect(r.code).toBe(0);
      const data = JSON.parse(r.out) as FkExport;
      expect(data.refresh.mode).toBe(refresh);
      expect(data.orgUnits.map((u) => u.path)).toEqual([
        "Korsbæk Kommune",
        "Korsbæk Kommune / Børn, Unge & Familie",
        'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken',
        "Korsbæk Kommune / Skole og Dagtilbud",
      ]);
      expect(data.users).toEqual([
        {
          uuid: "b0000000-0000-4000-8000-000000000001",
          userId: "sjø",
          name: "Søren Jørgensen",
          email: "soeren.joergensen@korsbaek.dk",
          phoneNumber: null,
          positions: [{ unitUuid: CAFE, unitPath: 'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken', name: "Pædagogmedhjælper" }],
        },
      ]);
      expect(r.out + r.err).not.toContain(CPR);
    }
  });

  it("prints YAML that reads back to the JSON export's units and users", async () => {
    // One after the other: each run starts the embedded sandbox over the same data folder.
    const json = await stsorg("export", "-e", "demo");
    const yaml = await stsorg("export", "-e", "demo", "--format", "yaml");
    expect(yaml.code).toBe(0);
    const a = JSON.parse(json.out) as FkExport;
    const b = parseYaml(yaml.out) as FkExport;
    expect(b.orgUnits).toEqual(a.orgUnits);
    expect(b.users).toEqual(a.users);
    expect(yaml.out).toContain("Søren Jørgensen");
  });

  it("writes a CSV per kind with a BOM, Danish letters and the comma and quote names intact", async () => {
    const r = await stsorg("export", "-e", "demo", "--format", "csv", "--kind", "units", "--out", "units.csv");
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toContain("Exported 4 org units to units.csv");
    const bytes = readFileSync(join(project, "units.csv"));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = readCsv(bytes.toString("utf8").slice(1));
    expect(rows.slice(1).map((row) => row[1])).toEqual(["Korsbæk Kommune", "Børn, Unge & Familie", '"Café" Solsikken', "Skole og Dagtilbud"]);

    const users = await stsorg("export", "-e", "demo", "--format", "csv", "--kind", "users", "--delimiter", "semicolon");
    expect(users.code).toBe(0);
    const userRows = readCsv(users.out.slice(1), ";");
    expect(userRows[1]).toEqual([
      "b0000000-0000-4000-8000-000000000001",
      "sjø",
      "Søren Jørgensen",
      "soeren.joergensen@korsbaek.dk",
      "",
      "Pædagogmedhjælper",
      CAFE,
      'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken',
    ]);
    expect(users.out).not.toContain(CPR);
  });

  it("with --refresh none exports the state file, which here records nothing yet", async () => {
    const r = await stsorg("export", "-e", "demo", "--refresh", "none");
    expect(r.code).toBe(0);
    const data = JSON.parse(r.out) as FkExport;
    expect(data.refresh).toEqual({ mode: "none", observedAt: null });
    expect(data.orgUnits).toEqual([]);
  });

  it("refuses CSV without --kind, saying what to add", async () => {
    const r = await stsorg("export", "-e", "demo", "--format", "csv");
    expect(r.code).toBe(1);
    expect(r.err).toContain("--kind units or --kind users");
    expect(r.out).toBe("");
  });
});

describe("parseExportArgs", () => {
  it("defaults to JSON of both kinds read through the hierarchy job", () => {
    expect(parseExportArgs({ environment: "test" })).toEqual({ environment: "test", format: "json", refresh: "hierarchy", delimiter: "," });
  });
  it("refuses the fk refresh mode and a delimiter for JSON", () => {
    expect(() => parseExportArgs({ environment: "test", refresh: "fk" })).toThrow(/--refresh must be one of hierarchy, full, none/);
    expect(() => parseExportArgs({ environment: "test", delimiter: "semicolon" })).toThrow(/csv only/);
  });
});
