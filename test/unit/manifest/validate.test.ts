import { afterAll, describe, expect, it } from "vitest";
import { change, cleanup, cli, FILE_SECRET, FIXTURE, lineOf, columnOf, NOW, project, SECRETS, validateText } from "./helpers.js";

afterAll(cleanup);

interface Case {
  name: string;
  text: string;
  code: string;
  severity?: "error" | "warning" | "note";
  message: RegExp;
  /** Text whose line the diagnostic must point at (searched after `after`). */
  at: string;
  after?: string;
  path: string;
  exit: number;
  now?: Date;
}

const F = FIXTURE;
const cases: Case[] = [
  {
    name: "a value of the wrong type",
    text: change(F, "    syncCpr: false", "    syncCpr: nej"),
    code: "schema.type",
    message: /must be a boolean, not a string/,
    at: "nej",
    path: "spec.sync.syncCpr",
    exit: 1,
  },
  {
    name: "an unquoted CVR (a number)",
    text: change(F, 'cvr: "12345674"', "cvr: 12345674"),
    code: "schema.type",
    message: /must be a string, not a number \(put the value in quotes\)/,
    at: "12345674",
    path: "spec.municipality.cvr",
    exit: 1,
  },
  {
    name: "a missing required key",
    text: change(F, "    uuid: 0b8f0a5c-3f8e-4f7e-9a57-6a0f1d2c3b4a\n", ""),
    code: "schema.required",
    message: /required key "uuid" is missing/,
    at: "municipality:",
    path: "spec.municipality.uuid",
    exit: 1,
  },
  {
    name: "an unknown key, with a suggestion for a typo",
    text: change(F, '  description: "Korsbæk', '  descripton: "Korsbæk'),
    code: "schema.unknown-key",
    message: /unknown key "descripton" \(did you mean "description"\?\)/,
    at: "descripton",
    path: "metadata.descripton",
    exit: 1,
  },
  {
    name: "a malformed UUID",
    text: change(F, "adminTopUuid: 3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", "adminTopUuid: 3c4d5e6f-7a8b-4c9d"),
    code: "schema.pattern",
    message: /must be a UUID/,
    at: "3c4d5e6f-7a8b-4c9d",
    path: "spec.sts.adminTopUuid",
    exit: 1,
  },
  {
    name: "an impossible date",
    text: change(F, 'validFrom: "2019-09-05"', 'validFrom: "2019-13-45"'),
    code: "schema.format",
    message: /must be a date written YYYY-MM-DD/,
    at: '"2019-13-45"',
    path: "spec.serviceAgreement.validFrom",
    exit: 1,
  },
  {
    name: "an unknown stage",
    text: change(F, "stage: test", "stage: staging"),
    code: "schema.enum",
    message: /must be one of "test", "prod", "sandbox"/,
    at: "staging",
    path: "spec.stage",
    exit: 1,
  },
  {
    name: "a literal secret",
    text: change(F, 'password: "${env:FIXTURE_CERT_PASSWORD}"', "password: hunter2-literal"),
    code: "schema.pattern",
    message: /literal secret: write it as a reference, \$\{env:NAME\} or \$\{file:PATH\}/,
    at: "hunter2-literal",
    path: "spec.certificate.password",
    exit: 1,
  },
  {
    name: "a secret reference without its closing brace",
    text: change(F, 'password: "${env:FIXTURE_CERT_PASSWORD}"', 'password: "${env:FIXTURE_CERT_PASSWORD"'),
    code: "schema.pattern",
    message: /is not a secret reference as stsorg reads them: write \$\{env:NAME\} or \$\{file:PATH\}/,
    at: '"${env:FIXTURE_CERT_PASSWORD"',
    path: "spec.certificate.password",
    exit: 1,
  },
  {
    name: "person-name templates in the sync policy",
    text: change(F, "    syncCpr: false", '    syncCpr: false\n    templates: { person.name: "{{ name }}" }'),
    code: "schema.unknown-key",
    message: /unknown key "templates": person name and user id templates are not supported/,
    at: "templates",
    path: "spec.sync.templates",
    exit: 1,
  },
  {
    name: "a sandbox block outside stage sandbox",
    text: change(F, "  state:\n", "  sandbox: { fixture: small }\n  state:\n"),
    code: "schema.sandbox-stage",
    message: /spec\.sandbox is only allowed with stage: sandbox/,
    at: "sandbox:",
    path: "spec.sandbox",
    exit: 1,
  },
  {
    name: "a CVR that fails the modulus-11 check",
    text: change(F, 'cvr: "12345674"', 'cvr: "12345675"'),
    code: "cvr.checksum",
    message: /CVR 12345675 fails the modulus-11 check \(weights 2,7,6,5,4,3,2,1\)/,
    at: '"12345675"',
    path: "spec.municipality.cvr",
    exit: 1,
  },
  {
    name: "KOMBIT's test CVR in a test manifest (a note, not an error)",
    text: change(F, 'cvr: "12345674"', 'cvr: "11111111"'),
    code: "cvr.kombit-test",
    severity: "note",
    message: /KOMBIT's test municipality.*accepted for stage test only/,
    at: '"11111111"',
    path: "spec.municipality.cvr",
    exit: 0,
  },
  {
    name: "KOMBIT's test CVR in a prod manifest",
    text: change(change(F, 'cvr: "12345674"', 'cvr: "11111111"'), "stage: test", "stage: prod"),
    code: "cvr.kombit-test",
    message: /KOMBIT's test municipality and cannot be used with stage prod/,
    at: '"11111111"',
    path: "spec.municipality.cvr",
    exit: 1,
  },
  {
    name: "a prod manifest naming an external-test host",
    text: change(
      change(change(F, "stage: test", "stage: prod"), "os2mo-test.korsbaek.dk\n", "os2mo.korsbaek.dk\n"),
      "  state:\n",
      "  fk: { graphqlUrl: https://organisation.eksterntest-stoettesystemerne.dk/organisation/organisationhent/1 }\n  state:\n",
    ),
    code: "stage.host",
    message: /a prod manifest names the external test host organisation\.eksterntest-stoettesystemerne\.dk/,
    at: "https://organisation.eksterntest",
    path: "spec.fk.graphqlUrl",
    exit: 1,
  },
  {
    name: "a test manifest naming a production host",
    text: change(F, "    url: http://os2sync:5000/api", "    url: https://prod.serviceplatformen.dk/api"),
    code: "stage.host",
    message: /a test manifest names the production host prod\.serviceplatformen\.dk/,
    at: "https://prod.serviceplatformen.dk",
    path: "spec.os2sync.url",
    exit: 1,
  },
  {
    name: "the wrong Organisation v4 service uuid",
    text: change(F, "uuid: 1e1c7d8d-b644-419c-a585-cb6486f04947", "uuid: 1e1c7d8d-b644-419c-a585-cb6486f04948"),
    code: "agreement.service-uuid",
    message: /has uuid 1e1c7d8d-b644-419c-a585-cb6486f04947 in every environment, not 1e1c7d8d-b644-419c-a585-cb6486f04948/,
    at: "1e1c7d8d-b644-419c-a585-cb6486f04948",
    path: "spec.serviceAgreement.services[0].uuid",
    exit: 1,
  },
  {
    name: "no udstil role",
    text: change(F, "          - name: udstil\n            parameters: { secpr-nummer: Ja, senavn: Ja }\n", ""),
    code: "agreement.role-missing",
    message: /no role "udstil".*plan needs it/,
    at: "services:",
    path: "spec.serviceAgreement.services",
    exit: 1,
  },
  {
    name: "no rediger role",
    text: change(F, "          - name: rediger\n            parameters: { secpr-nummer: Ja, senavn: Ja }\n", ""),
    code: "agreement.role-missing",
    message: /no role "rediger".*apply needs it/,
    at: "services:",
    path: "spec.serviceAgreement.services",
    exit: 1,
  },
  {
    name: "syncCpr without secpr-nummer: Ja",
    text: change(
      change(F, "    syncCpr: false", '    syncCpr: true\n    cprHashKey: "${env:FIXTURE_MO_SECRET}"'),
      "- name: rediger\n            parameters: { secpr-nummer: Ja, senavn: Ja }",
      "- name: rediger\n            parameters: { senavn: Ja }",
    ),
    code: "agreement.secpr",
    message: /sync\.syncCpr is true, so role "rediger" needs the parameter secpr-nummer: Ja/,
    at: "name: rediger",
    path: "spec.serviceAgreement.services[1].roles[0]",
    exit: 1,
  },
  {
    name: "syncCpr without a CPR hash key",
    text: change(F, "    syncCpr: false", "    syncCpr: true"),
    code: "schema.required",
    message: /required key "cprHashKey" is missing/,
    at: "sync:",
    after: "\n  sync:",
    path: "spec.sync.cprHashKey",
    exit: 1,
  },
  {
    name: "an expired service agreement",
    text: change(F, "    validTo: null", '    validTo: "2026-02-28"'),
    code: "agreement.expired",
    message: /expired on 2026-02-28/,
    at: '"2026-02-28"',
    path: "spec.serviceAgreement.validTo",
    exit: 1,
  },
  {
    name: "a service agreement not yet in force",
    text: change(F, 'validFrom: "2019-09-05"', 'validFrom: "2026-03-02"'),
    code: "agreement.not-yet-valid",
    message: /valid from 2026-03-02, which is in the future \(today is 2026-03-01\)/,
    at: '"2026-03-02"',
    path: "spec.serviceAgreement.validFrom",
    exit: 1,
  },
  {
    name: "a service agreement ending within 30 days (a warning)",
    text: change(F, "    validTo: null", '    validTo: "2026-03-31"'),
    code: "agreement.expires-soon",
    severity: "warning",
    message: /expires on 2026-03-31 \(in 30 days\)/,
    at: '"2026-03-31"',
    path: "spec.serviceAgreement.validTo",
    exit: 0,
  },
  {
    name: "an FK TLS range that is empty",
    text: change(F, "  state:\n", "  fk: { tlsMinVersion: TLSv1.3, tlsMaxVersion: TLSv1.2 }\n  state:\n"),
    code: "fk.tls",
    message: /tlsMinVersion TLSv1\.3 is above tlsMaxVersion TLSv1\.2/,
    at: "TLSv1.3",
    path: "spec.fk.tlsMinVersion",
    exit: 1,
  },
  {
    name: "a PostgreSQL URL with an inline password",
    text: change(F, "    backend: local", "    backend: postgres\n    postgres: { url: \"postgres://stsorg:pa55word@db/stsorg\" }"),
    code: "secret.literal",
    message: /the PostgreSQL URL holds a password/,
    at: '"postgres://',
    after: "postgres:",
    path: "spec.state.postgres.url",
    exit: 1,
  },
];

describe("validate reports each problem with its position and exit code", () => {
  it.each(cases)("$name", async (c) => {
    const r = await validateText(c.text, { now: c.now ?? NOW });
    const hit = r.diagnostics.find((d) => d.code === c.code && c.message.test(d.message));
    expect(hit, JSON.stringify(r.diagnostics, null, 1)).toBeDefined();
    expect(hit!.severity).toBe(c.severity ?? "error");
    expect(hit!.line).toBe(lineOf(c.text, c.at, c.after));
    expect(hit!.column).toBe(columnOf(c.text, c.at, c.after));
    expect(hit!.path).toBe(c.path);
    expect(hit!.file).toBe("environments/x.yaml");
    expect(r.code).toBe(c.exit);
    expect(r.err).toBe("");
  });

  it("counts days in Copenhagen: an agreement in force from today's Danish date is valid before UTC midnight", async () => {
    const text = change(F, 'validFrom: "2019-09-05"', 'validFrom: "2026-12-06"');
    // 23:30 UTC on 5 December is 00:30 on 6 December in Copenhagen.
    expect((await validateText(text, { now: new Date("2026-12-05T23:30:00Z") })).diagnostics).toEqual([]);
    const early = await validateText(text, { now: new Date("2026-12-05T22:30:00Z") });
    expect(early.diagnostics.map((d) => d.message)).toEqual(["the service agreement is valid from 2026-12-06, which is in the future (today is 2026-12-05)"]);
  });

  it("accepts the unchanged fixture", async () => {
    const r = await validateText(F);
    expect(r.diagnostics).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("lists every problem at once, in file order", async () => {
    let text = change(F, "stage: test", "stage: prod");
    text = change(text, 'cvr: "12345674"', 'cvr: "12345675"');
    text = change(text, "adminTopUuid: 3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", "adminTopUuid: nope");
    text = change(text, "    syncCpr: false", "    syncCpr: false\n    colour: blue");
    text = change(text, "http://os2sync:5000/api", "https://os2sync.eksterntest-stoettesystemerne.dk/api");
    const r = await validateText(text);
    const codes = r.diagnostics.map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(["cvr.checksum", "schema.pattern", "schema.unknown-key", "stage.host"]));
    const lines = r.diagnostics.map((d) => d.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(r.code).toBe(1);
  });

  it("prints human output as file:line:col: severity: message (path), with the stage's endpoints", async () => {
    const text = change(F, 'cvr: "12345674"', 'cvr: "12345675"');
    const cwd = project({ x: text });
    const r = await cli(["validate", "-e", "x", "--offline"], { cwd });
    const line = lineOf(text, '"12345675"');
    const col = columnOf(text, '"12345675"');
    expect(r.out).toContain(`environments/x.yaml:${line}:${col}: error: CVR 12345675 fails the modulus-11 check (weights 2,7,6,5,4,3,2,1); check it for a typo (spec.municipality.cvr)`);
    expect(r.out).toContain("https://organisation.eksterntest-stoettesystemerne.dk/organisation/");
    expect(r.out).toMatch(/OS2sync Environment +TEST\n/);
    expect(r.out).toMatch(/is not valid: 1 error, 0 warnings\./);
    expect(r.code).toBe(1);
  });
});

describe("secret references", () => {
  it("names an unset environment variable, never a value", async () => {
    const r = await validateText(F, { env: { FIXTURE_CERT_PASSWORD: SECRETS.FIXTURE_CERT_PASSWORD } });
    const d = r.diagnostics.find((x) => x.code === "secret.unresolved");
    expect(d?.message).toBe("OS2mo client secret: environment variable FIXTURE_MO_SECRET is not set (referenced as ${env:FIXTURE_MO_SECRET})");
    expect(d?.line).toBe(lineOf(F, '"${env:FIXTURE_MO_SECRET}"'));
    expect(r.code).toBe(1);
    expect(r.out).not.toContain(SECRETS.FIXTURE_CERT_PASSWORD);
  });

  it("names a missing secret file", async () => {
    const text = change(F, "${file:secrets/os2sync-apikey}", "${file:secrets/missing}");
    const r = await validateText(text);
    const d = r.diagnostics.find((x) => x.code === "secret.unresolved");
    expect(d?.message).toMatch(/OS2sync api key: secret file .*secrets\/missing does not exist \(referenced as \$\{file:secrets\/missing\}\)/);
    expect(d?.path).toBe("spec.os2sync.apiKey");
    expect(r.code).toBe(1);
  });

  it("never prints resolved secret values", async () => {
    const r = await validateText(F);
    for (const v of [...Object.values(SECRETS), FILE_SECRET]) expect(r.out).not.toContain(v);
  });
});

describe("YAML and file problems", () => {
  it("reports a YAML syntax error with its position", async () => {
    const text = change(F, "    name: Korsbæk Kommune\n", "    name: [Korsbæk Kommune\n");
    const r = await validateText(text);
    expect(r.code).toBe(1);
    expect(r.diagnostics[0]?.code).toMatch(/^yaml\./);
    expect(r.diagnostics[0]?.message).toMatch(/^YAML syntax error/);
    expect(r.diagnostics[0]?.line).toBeGreaterThanOrEqual(lineOf(text, "[Korsbæk"));
  });

  it("reports a duplicated key", async () => {
    const text = change(F, "  stage: test\n", "  stage: test\n  stage: prod\n");
    const r = await validateText(text);
    expect(r.diagnostics[0]?.message).toMatch(/YAML syntax error: Map keys must be unique/);
    expect(r.diagnostics[0]?.line).toBe(lineOf(text, "stage: prod"));
  });

  it("refuses a file with two YAML documents", async () => {
    const r = await validateText(F + "---\nkind: Other\n");
    expect(r.diagnostics[0]?.message).toMatch(/holds exactly one YAML document/);
    expect(r.diagnostics[0]?.line).toBe(F.split("\n").length);
    expect(r.code).toBe(1);
  });

  it("refuses aliases that expand without bound, without a stack trace", async () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]", ""].join("\n");
    const r = await validateText(bomb);
    expect(r.diagnostics[0]?.message).toMatch(/YAML cannot be expanded/);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
  });

  const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);

  it.each([
    ["a missing manifest", (dir: string) => dir, ["-e", "nope"], /environments\/nope\.yaml does not exist\. Environments found in .*: .*\bx\./],
    ["a directory", (dir: string) => dir, ["-e", "environments/dir.yaml"], /is a directory, not a manifest file/],
    ["a binary file", (dir: string) => dir, ["-e", "bin"], /is not a text file/],
    ["an empty file", (dir: string) => dir, ["-e", "empty"], /is empty/],
  ])("reports %s without a stack trace", async (_n, _f, args, message) => {
    const cwd = project({ x: F, bin: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]), empty: "# nothing here\n\n" });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(`${cwd}/environments/dir.yaml`);
    const human = await cli(["validate", ...args, "--offline"], { cwd });
    expect(human.code).toBe(1);
    expect(human.out + human.err).toMatch(message);
    noStack(human.out + human.err);
    const json = await cli(["validate", ...args, "--offline", "--format", "json"], { cwd });
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as { diagnostics: { message: string }[] }).diagnostics[0]?.message).toMatch(message);
  });

  it("reports an unreadable file without a stack trace", async () => {
    if (process.getuid?.() === 0) return; // root reads every file
    const cwd = project({ x: F });
    const { chmodSync } = await import("node:fs");
    chmodSync(`${cwd}/environments/x.yaml`, 0o000);
    const r = await cli(["validate", "-e", "x", "--offline"], { cwd });
    expect(r.out).toMatch(/permission denied/);
    expect(r.code).toBe(1);
  });
});
