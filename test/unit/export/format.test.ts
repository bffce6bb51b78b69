import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildExport, csvField, renderExport, renderUnitsCsv, renderUsersCsv, UTF8_BOM, type FkExport } from "../../../src/export/index.js";
import type { ActualState, Observed, OrgUnitRegistration, UserRegistration } from "../../../src/model/index.js";
import { readCsv } from "./csv-reader.js";

const ROOT = "00000000-0000-4000-8000-000000000001";
const BORN = "00000000-0000-4000-8000-000000000002";
const CAFE = "00000000-0000-4000-8000-000000000003";
const AEBLE = "00000000-0000-4000-8000-000000000004";
const SKOLE = "00000000-0000-4000-8000-000000000005";
const GONE = "00000000-0000-4000-8000-0000000000ff";
const CPR = "0101901234";
const CPR_HASH = "hmac-sha256:k1:5f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

const unit = (Uuid: string, Name: string, ParentOrgUnitUuid?: string): [string, Observed<OrgUnitRegistration>] => [
  Uuid,
  { value: { Uuid, Name, ...(ParentOrgUnitUuid ? { ParentOrgUnitUuid } : {}), Email: "not-exported@korsbaek.dk" }, observed: "all" },
];
const user = (u: UserRegistration): [string, Observed<UserRegistration>] => [u.Uuid, { value: u, observed: "all" }];

function actual(reverse = false): ActualState {
  const units = [
    unit(ROOT, "Korsbæk Kommune"),
    unit(BORN, "Børn, Unge & Familie", ROOT),
    unit(CAFE, '"Café" Solsikken', BORN),
    unit(AEBLE, "Æblehaven", BORN),
    unit(SKOLE, "Skole og Dagtilbud", ROOT),
  ];
  const users = [
    user({
      Uuid: "10000000-0000-4000-8000-000000000001",
      UserId: "ølb",
      Email: "ole.lund.bro@korsbaek.dk",
      PhoneNumber: "+45 12 34 56 78",
      Positions: [
        { Name: "Pædagog", OrgUnitUuid: CAFE, StartDate: "2020-01-01" },
        { Name: "Leder, \"souschef\"", OrgUnitUuid: AEBLE },
      ],
      Person: { Name: "Øjvind Lund Brøndum", Cpr: CPR },
    }),
    user({
      Uuid: "10000000-0000-4000-8000-000000000002",
      UserId: "aaj",
      Positions: [{ Name: "Konsulent", OrgUnitUuid: GONE }],
      Person: { Name: "Åse Jæger", Cpr: CPR_HASH },
    }),
    user({ Uuid: "10000000-0000-4000-8000-000000000003", UserId: "bob", Positions: [], Person: { Name: "Bo Bæk" } }),
  ];
  if (reverse) {
    units.reverse();
    users.reverse();
  }
  return { mode: "full", observedAt: "2026-01-02T03:04:05.000Z", orgUnits: new Map(units), users: new Map(users) };
}

const meta = { environment: { name: "test", cvr: "38541013", adminTopUuid: ROOT } };
const data = (): FkExport => buildExport(actual(), meta);

describe("the export's content", () => {
  it("gives every unit its parent and its path of names from the root down", () => {
    const units = data().orgUnits;
    expect(units.map((u) => u.path)).toEqual([
      "Korsbæk Kommune",
      "Korsbæk Kommune / Børn, Unge & Familie",
      'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken',
      "Korsbæk Kommune / Børn, Unge & Familie / Æblehaven",
      "Korsbæk Kommune / Skole og Dagtilbud",
    ]);
    expect(units[0]!.parentUuid).toBeNull();
    expect(units.find((u) => u.uuid === CAFE)!.parentUuid).toBe(BORN);
  });

  it("lists users by user id with their positions' unit uuid, unit path and name", () => {
    const users = data().users;
    expect(users.map((u) => u.userId)).toEqual(["aaj", "bob", "ølb"]);
    const olb = users[2]!;
    expect(olb.positions).toEqual([
      { unitUuid: CAFE, unitPath: 'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken', name: "Pædagog" },
      { unitUuid: AEBLE, unitPath: "Korsbæk Kommune / Børn, Unge & Familie / Æblehaven", name: 'Leder, "souschef"' },
    ]);
    expect(olb.email).toBe("ole.lund.bro@korsbaek.dk");
    // A position in a unit FK does not hold keeps its uuid, with no path to show.
    expect(users[0]!.positions).toEqual([{ unitUuid: GONE, unitPath: null, name: "Konsulent" }]);
  });

  it("is the same whatever order FK returned the objects in", () => {
    const a = buildExport(actual(false), meta);
    const b = buildExport(actual(true), meta);
    for (const format of ["json", "yaml"] as const) expect(renderExport(b, { format })).toBe(renderExport(a, { format }));
    expect(renderUsersCsv(b)).toBe(renderUsersCsv(a));
    expect(renderUnitsCsv(b)).toBe(renderUnitsCsv(a));
  });

  it("ends a walk up a parent cycle instead of looping, and still lists every unit", () => {
    const a = "00000000-0000-4000-8000-00000000000a";
    const b = "00000000-0000-4000-8000-00000000000b";
    const state: ActualState = { mode: "full", observedAt: null, orgUnits: new Map([unit(a, "A", b), unit(b, "B", a)]), users: new Map() };
    const units = buildExport(state, meta).orgUnits;
    expect(units.map((u) => u.uuid).sort()).toEqual([a, b]);
    expect(units.find((u) => u.uuid === a)!.path).toBe("B / A");
    const reversed: ActualState = { ...state, orgUnits: new Map([...state.orgUnits].reverse()) };
    expect(buildExport(reversed, meta)).toEqual(buildExport(state, meta));
  });
});

describe("no CPR number leaves stsorg in any format", () => {
  for (const [label, render] of [
    ["json", () => renderExport(data(), { format: "json" })],
    ["yaml", () => renderExport(data(), { format: "yaml" })],
    ["csv units", () => renderUnitsCsv(data())],
    ["csv users", () => renderUsersCsv(data())],
  ] as const) {
    it(label, () => {
      const text = render();
      expect(text).not.toContain(CPR);
      expect(text).not.toContain(CPR_HASH);
      expect(text.toLowerCase()).not.toContain("cpr");
    });
  }
});

describe("JSON and YAML", () => {
  it("JSON carries the format version, the environment and how FK was read, with Danish letters as they are", () => {
    const text = renderExport(data(), { format: "json" });
    const parsed = JSON.parse(text) as FkExport;
    expect(parsed.formatVersion).toBe(1);
    expect(parsed.environment).toEqual(meta.environment);
    expect(parsed.refresh).toEqual({ mode: "full", observedAt: "2026-01-02T03:04:05.000Z" });
    expect(text).toContain('"name": "Æblehaven"');
    expect(text).toContain('"name": "\\"Café\\" Solsikken"');
    expect(parsed.orgUnits).toEqual(data().orgUnits);
  });

  it("YAML reads back to the same data as JSON", () => {
    const yaml = renderExport(data(), { format: "yaml" });
    expect(parseYaml(yaml)).toEqual(JSON.parse(renderExport(data(), { format: "json" })));
    expect(yaml).toContain("Øjvind Lund Brøndum");
  });

  it("--kind leaves the other kind out", () => {
    const units = JSON.parse(renderExport(data(), { format: "json", kind: "units" })) as Record<string, unknown>;
    expect(Object.keys(units)).toEqual(["formatVersion", "environment", "refresh", "orgUnits"]);
    const users = parseYaml(renderExport(data(), { format: "yaml", kind: "users" })) as Record<string, unknown>;
    expect(Object.keys(users)).toEqual(["formatVersion", "environment", "refresh", "users"]);
  });
});

describe("CSV", () => {
  it("starts with a UTF-8 byte order mark and ends every record with CRLF", () => {
    const text = renderUnitsCsv(data());
    expect(text.startsWith(UTF8_BOM)).toBe(true);
    expect(Buffer.from(text, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(text.slice(1).split("\r\n").at(-1)).toBe("");
    expect(text.replaceAll("\r\n", "")).not.toMatch(/[\r\n]/);
  });

  it("keeps a unit name with a comma and one with quotes intact (RFC 4180 quoting)", () => {
    const text = renderUnitsCsv(data());
    expect(text).toContain('"Børn, Unge & Familie"');
    expect(text).toContain('"""Café"" Solsikken"');
    const rows = readCsv(text.slice(1));
    expect(rows[0]).toEqual(["uuid", "name", "parent_uuid", "path"]);
    expect(rows.slice(1)).toEqual(data().orgUnits.map((u) => [u.uuid, u.name, u.parentUuid ?? "", u.path]));
    expect(rows.map((r) => r[1])).toContain('"Café" Solsikken');
    expect(rows.map((r) => r[1])).toContain("Æblehaven");
  });

  it("writes one user row per position and one for a user without positions", () => {
    const rows = readCsv(renderUsersCsv(data()).slice(1));
    expect(rows[0]).toEqual(["uuid", "user_id", "name", "email", "phone_number", "position_name", "position_unit_uuid", "position_unit_path"]);
    const body = rows.slice(1);
    expect(body.map((r) => r[1])).toEqual(["aaj", "bob", "ølb", "ølb"]);
    expect(body[1]!.slice(5)).toEqual(["", "", ""]);
    expect(body[0]!.slice(5)).toEqual(["Konsulent", GONE, ""]);
    expect(body[2]).toEqual([
      "10000000-0000-4000-8000-000000000001",
      "ølb",
      "Øjvind Lund Brøndum",
      "ole.lund.bro@korsbaek.dk",
      "+45 12 34 56 78",
      "Pædagog",
      CAFE,
      'Korsbæk Kommune / Børn, Unge & Familie / "Café" Solsikken',
    ]);
    expect(body[3]![5]).toBe('Leder, "souschef"');
  });

  it("with a semicolon delimiter quotes fields holding a semicolon, not a comma", () => {
    expect(csvField("Børn, Unge & Familie", ";")).toBe("Børn, Unge & Familie");
    expect(csvField("Drift; Vej og Park", ";")).toBe('"Drift; Vej og Park"');
    const rows = readCsv(renderUnitsCsv(data(), ";").slice(1), ";");
    expect(rows.map((r) => r[1])).toContain("Børn, Unge & Familie");
    expect(rows.map((r) => r[1])).toContain('"Café" Solsikken');
  });

  it("quotes line breaks inside a field", () => {
    expect(csvField("Linje 1\nLinje 2")).toBe('"Linje 1\nLinje 2"');
    expect(csvField("ingen")).toBe("ingen");
  });
});
