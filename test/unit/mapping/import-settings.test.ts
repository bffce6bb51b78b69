import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { importExporterSettings, parseEnvFile } from "../../../src/cli/commands/import-settings.js";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";

const TOP = "3b1b8e47-5f1e-4d5e-9d3a-2b9a7a0c1e11";
const C1 = "a8a1b2c3-0000-4000-8000-000000000001";
const C2 = "a8a1b2c3-0000-4000-8000-000000000002";
const SECRET = "s3cr3t-Value-That-Must-Not-Leak";

const CURRENT = `# os2sync export settings
MUNICIPALITY=29189846
TOP_UNIT_UUID=${TOP.toUpperCase()}
OS2SYNC_API_URL=http://os2sync:5000/api/
FASTRAMQPI__MO_URL="https://os2mo.example.dk"
FASTRAMQPI__CLIENT_ID=dipex
FASTRAMQPI__CLIENT_SECRET=${SECRET}
FASTRAMQPI__AUTH_SERVER=https://os2mo.example.dk/auth
FASTRAMQPI__AUTH_REALM=mo
FASTRAMQPI__AMQP__URL=amqp://guest:${SECRET}@msg-broker:5672/
SYNC_CPR=True
PHONE_SCOPE_CLASSES=["${C1}", "${C2}"]
LANDLINE_SCOPE_CLASSES='["${C2}"]'
EMAIL_SCOPE_CLASSES=[]
IGNORED_UNIT_LEVELS=["${C1}"]
IGNORED_UNIT_TYPES=["${C2}"]
FILTER_ORGUNIT_UUID=["${C1}"]
FILTER_HIERARCHY_NAMES=["Linjeorganisation"]
FILTER_USERS_BY_IT_SYSTEM=false
USER_KEY_IT_SYSTEM_NAMES=["Active Directory", "Novell"]
UUID_FROM_IT_SYSTEMS=["FK-ORG UUID"]
USE_NICKNAME=yes
SYNC_MANAGERS=1
ENABLE_KLE=false
USE_CONTACT_FOR_TASKS=true   # split KLE by aspect
EMPLOYEE_ENGAGEMENT_ADDRESS=["Arbejdsadresse"]
GROUP_BY_ENGAGEMENT_UUID=true
TRUNCATE_LENGTH=120
EXTENSION_FIELD_AS_JOB_FUNCTION=3
AUTOWASH=true
SOME_UNKNOWN_SETTING=${SECRET}
`;

function runImport(content: string) {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-import-"));
  writeFileSync(join(dir, "docker.env"), content);
  const io = memoryIo({ cwd: dir });
  return run(["import-settings", "docker.env"], io).then((code) => ({ code, out: io.out(), err: io.err() }));
}

describe("stsorg import-settings", () => {
  it("prints the equivalent spec as YAML, with a secret reference in place of the secret", async () => {
    const { code, out, err } = await runImport(CURRENT);
    expect(code).toBe(0);
    expect(parse(out)).toEqual({
      spec: {
        municipality: { cvr: "29189846" },
        os2mo: {
          url: "https://os2mo.example.dk",
          auth: { authServer: "https://os2mo.example.dk/auth", realm: "mo", clientId: "dipex", clientSecret: "${env:STSORG_MO_SECRET}" },
        },
        os2sync: { url: "http://os2sync:5000/api" },
        sync: {
          topUnitUuid: TOP,
          syncCpr: true,
          phoneScopeClasses: [C1, C2],
          landlineScopeClasses: [C2],
          emailScopeClasses: [],
          ignoredUnitLevels: [C1],
          ignoredUnitTypes: [C2],
          filterOrgunitUuids: [C1],
          filterHierarchyNames: ["Linjeorganisation"],
          filterUsersByItSystem: false,
          userKeyItSystemNames: ["Active Directory", "Novell"],
          uuidFromItSystems: ["FK-ORG UUID"],
          useNickname: true,
          syncManagers: true,
          enableKle: false,
          useContactForTasks: true,
          employeeEngagementAddress: ["Arbejdsadresse"],
          extensionFieldAsJobFunction: "3",
          truncateLength: 120,
          groupByEngagementUuid: true,
        },
      },
    });
    expect(out + err).not.toContain(SECRET);
    expect(err).toContain("SOME_UNKNOWN_SETTING is unknown");
    expect(err).toContain("AUTOWASH is not imported");
    expect(err).toContain("FASTRAMQPI__AMQP__URL is not imported");
    expect(err).toMatch(/FASTRAMQPI__CLIENT_SECRET is a secret.*STSORG_MO_SECRET/);
  });

  it("understands the older OS2SYNC_-prefixed names", async () => {
    const { code, out } = await runImport(
      [
        "MUNICIPALITY=29189846",
        `OS2SYNC_TOP_UNIT_UUID=${TOP}`,
        "OS2SYNC_XFER_CPR=true",
        `OS2SYNC_PHONE_SCOPE_CLASSES=["${C1}"]`,
        'OS2SYNC_USER_KEY_IT_SYSTEM_NAME="Novell"',
        'OS2SYNC_FILTER_HIERARCHY_NAMES=["Linjeorganisation"]',
        "OS2SYNC_USE_EXTENSION_FIELD_AS_JOB_FUNCTION=true",
        "OS2SYNC_TRUNCATE_LENGTH=200",
        "MO_URL=http://mo:5000",
        "CLIENT_ID=dipex",
      ].join("\n"),
    );
    expect(code).toBe(0);
    const doc = parse(out) as { spec: { sync: Record<string, unknown>; os2mo: Record<string, unknown> } };
    expect(doc.spec.sync).toEqual({
      topUnitUuid: TOP,
      syncCpr: true,
      phoneScopeClasses: [C1],
      filterHierarchyNames: ["Linjeorganisation"],
      userKeyItSystemNames: ["Novell"],
      extensionFieldAsJobFunction: "3",
      truncateLength: 200,
    });
    expect(doc.spec.os2mo).toEqual({ url: "http://mo:5000", auth: { clientId: "dipex", clientSecret: "${env:STSORG_MO_SECRET}" } });
  });

  it("refuses bad values with file and line, without echoing secrets", async () => {
    const { code, out, err } = await runImport(`TOP_UNIT_UUID=${TOP}\nSYNC_CPR=maybe\nPHONE_SCOPE_CLASSES=${C1}\n`);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain("docker.env:2: SYNC_CPR: expected true or false");
    expect(err).toContain("docker.env:3: PHONE_SCOPE_CLASSES: expected a JSON list");
    expect(err).not.toMatch(/\n\s+at /);
  });

  it("reports a missing file as a user error", async () => {
    const io = memoryIo({ cwd: tmpdir() });
    expect(await run(["import-settings", "no-such-file.env"], io)).toBe(1);
    expect(io.err()).toContain("Cannot read no-such-file.env");
  });
});

describe("parseEnvFile", () => {
  it.each([
    ["plain", "A=b", "b"],
    ["export prefix", "export A=b", "b"],
    ["inline comment", "A=b # note", "b"],
    ["hash without space is part of the value", "A=b#c", "b#c"],
    ["double quotes keep spaces and #", 'A=" b # c "', " b # c "],
    ["single quotes are literal", "A='x\\ny'", "x\\ny"],
    ["double-quote escapes", 'A="say \\"hi\\"\\n"', 'say "hi"\n'],
    ["empty", "A=", ""],
    ["JSON list in single quotes", `A='["x", "y"]'`, '["x", "y"]'],
  ])("%s", (_l, text, value) => {
    expect(parseEnvFile(text, "f.env")).toEqual([{ key: "A", value, line: 1 }]);
  });

  it("keeps line numbers across comments, blanks and multi-line quoted values", () => {
    const entries = parseEnvFile('# c\n\nA="1\n2"\nB=3\r\nC=4', "f.env");
    expect(entries).toEqual([
      { key: "A", value: "1\n2", line: 3 },
      { key: "B", value: "3", line: 5 },
      { key: "C", value: "4", line: 6 },
    ]);
  });

  it.each([
    ["no =", "JUSTTEXT", /line|KEY=VALUE/],
    ["unclosed quote", 'A="open', /never closed/],
    ["bad name", "1A=b", /not a valid variable name/],
  ])("rejects %s", (_l, text, message) => {
    expect(() => parseEnvFile(text, "f.env")).toThrow(message);
  });
});

describe("importExporterSettings", () => {
  it("reports a setting given twice and uses the last", () => {
    const r = importExporterSettings(
      [
        { key: "TOP_UNIT_UUID", value: TOP, line: 1 },
        { key: "TRUNCATE_LENGTH", value: "100", line: 2 },
        { key: "OS2SYNC_TRUNCATE_LENGTH", value: "150", line: 3 },
      ],
      "f.env",
    );
    expect((r.manifest.spec.sync as Record<string, unknown>).truncateLength).toBe(150);
    expect(r.notes.join("\n")).toContain("first set on line 2");
  });

  it("says when the top unit is missing", () => {
    expect(importExporterSettings([], "f.env").notes.join("\n")).toContain("TOP_UNIT_UUID is not set");
  });
});
