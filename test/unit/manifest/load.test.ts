import { afterAll, describe, expect, it } from "vitest";
import { ManifestError, SecretError } from "../../../src/errors/index.js";
import {
  ENVIRONMENT_DEFAULTS,
  environmentSchema,
  isValidCvr,
  loadEnvironment,
  resolveSecret,
  validateEnvironment,
} from "../../../src/manifest/index.js";
import { SYNC_POLICY_DEFAULTS } from "../../../src/model/index.js";
import { change, cleanup, FILE_SECRET, FIXTURE, NOW, project, REPO, SECRETS } from "./helpers.js";

afterAll(cleanup);

const opts = (cwd: string) => ({ cwd, env: { ...SECRETS }, now: NOW });

describe("loadEnvironment", () => {
  it("builds the normalised Environment with every default filled in", async () => {
    const cwd = project({ x: FIXTURE });
    const env = await loadEnvironment("x", opts(cwd));
    expect(env.name).toBe("fixture");
    expect(env.file).toBe(`${cwd}/environments/x.yaml`);
    expect(env.baseDir).toBe(cwd);
    expect(env.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(env.stage).toBe("test");
    expect(env.os2mo).toMatchObject({ graphqlVersion: 25, pageSize: 1000, timeoutMs: 30_000, auth: { realm: "mo", clientSecret: { source: "env", name: "FIXTURE_MO_SECRET" } } });
    expect(env.os2sync).toMatchObject({ timeoutMs: 30_000, concurrency: 8, hierarchyTimeoutMs: 900_000, apiKey: { source: "file", name: "secrets/os2sync-apikey" } });
    expect(env.safety).toEqual({ maxDeletes: { count: 50, percent: 5 }, protectedUnits: [], prune: "managed" });
    expect(env.state).toEqual({ backend: "local", path: "state/fixture.json" });
    expect(env.sync).toEqual({ ...SYNC_POLICY_DEFAULTS, topUnitUuid: "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", adminTopUuid: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f" });
    expect(JSON.stringify(env)).not.toContain(SECRETS.FIXTURE_MO_SECRET);
  });

  it("reads a manifest given by path, relative to the working directory", async () => {
    const cwd = project({ x: FIXTURE });
    const env = await loadEnvironment("environments/x.yaml", opts(cwd));
    expect(env.name).toBe("fixture");
  });

  it("throws one ManifestError listing every error with its position", async () => {
    let text = change(FIXTURE, 'cvr: "12345674"', 'cvr: "12345675"');
    text = change(text, "stage: test", "stage: tset");
    const cwd = project({ x: text });
    const err = await loadEnvironment("x", opts(cwd)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    const message = (err as ManifestError).message;
    expect(message).toMatch(/environments\/x\.yaml has 2 errors:/);
    expect(message).toMatch(/environments\/x\.yaml:8:10: error: must be one of "test", "prod", "sandbox" \(spec\.stage\)/);
    expect(message).toMatch(/environments\/x\.yaml:11:10: error: CVR 12345675 fails/);
  });

  it("does not resolve secrets (they are resolved where a command needs them)", async () => {
    const cwd = project({ x: FIXTURE });
    await expect(loadEnvironment("x", { cwd, env: {}, now: NOW })).resolves.toMatchObject({ name: "fixture" });
  });

  it("fills a sandbox manifest's omitted connections with stand-ins", async () => {
    const text = [
      "apiVersion: stsorg/v1",
      "kind: Environment",
      "metadata: { name: demo }",
      "spec:",
      "  stage: sandbox",
      "  municipality: { name: Korsbæk Kommune, cvr: \"11111111\", uuid: 0b8f0a5c-3f8e-4f7e-9a57-6a0f1d2c3b4a }",
      "  sts: { adminTopUuid: 3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f }",
      "  sync: { topUnitUuid: 7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b }",
      "  sandbox: { fixture: medium }",
      "",
    ].join("\n");
    const cwd = project({ demo: text });
    const env = await loadEnvironment("demo", opts(cwd));
    expect(env.sandbox).toEqual({ fixture: "medium", seed: 1, dataDir: ".stsorg" });
    expect(env.os2mo.url).toBe("");
    expect(env.os2sync.url).toBe("");
    expect(env.certificate).toBeUndefined();
    expect(env.serviceAgreement.services.flatMap((s) => s.roles.map((r) => r.name))).toEqual(expect.arrayContaining(["udstil", "rediger"]));
    const r = await validateEnvironment("demo", { ...opts(cwd), offline: false });
    expect(r.diagnostics.map((d) => d.severity)).toEqual(["note"]);
  });

  it("requires the connections outside stage sandbox", async () => {
    const text = change(FIXTURE, "  os2sync:\n    url: http://os2sync:5000/api\n    apiKey: \"${file:secrets/os2sync-apikey}\"\n", "");
    const cwd = project({ x: text });
    await expect(loadEnvironment("x", opts(cwd))).rejects.toThrow(/required key "os2sync" is missing \(spec\.os2sync\)/);
  });
});

describe("resolveSecret", () => {
  it("reads an environment variable and a file (without its trailing newline)", async () => {
    const cwd = project({});
    expect(await resolveSecret({ ref: "${env:A}", source: "env", name: "A" }, { env: { A: "x1" }, baseDir: cwd })).toBe("x1");
    expect(await resolveSecret({ ref: "${file:secrets/os2sync-apikey}", source: "file", name: "secrets/os2sync-apikey" }, { env: {}, baseDir: cwd })).toBe(FILE_SECRET);
  });

  it("names the reference when it cannot resolve it", async () => {
    const e = await resolveSecret({ ref: "${env:NOPE}", source: "env", name: "NOPE" }, { env: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SecretError);
    expect((e as Error).message).toBe("environment variable NOPE is not set (referenced as ${env:NOPE})");
    await expect(resolveSecret({ ref: "${env:E}", source: "env", name: "E" }, { env: { E: "" } })).rejects.toThrow(/E is empty/);
  });
});

describe("the schema", () => {
  const schema = environmentSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
  const spec = schema.properties.spec!.properties as Record<string, { properties: Record<string, { default?: unknown; description?: string; properties?: Record<string, { default?: unknown }> }> }>;

  it("documents the sync policy's defaults exactly as the code applies them", () => {
    const sync = spec.sync!.properties;
    for (const [key, value] of Object.entries(SYNC_POLICY_DEFAULTS)) {
      expect(sync[key], key).toBeDefined();
      expect(sync[key]!.default, key).toEqual(value);
    }
    const documented = Object.keys(sync).filter((k) => k !== "topUnitUuid" && k !== "cprHashKey").sort();
    expect(documented).toEqual(Object.keys(SYNC_POLICY_DEFAULTS).sort());
  });

  it("documents the other defaults exactly as the code applies them", () => {
    const d = ENVIRONMENT_DEFAULTS;
    expect(spec.os2mo!.properties.graphqlVersion!.default).toBe(d.os2mo.graphqlVersion);
    expect(spec.os2mo!.properties.pageSize!.default).toBe(d.os2mo.pageSize);
    expect(spec.os2mo!.properties.timeoutSeconds!.default).toBe(d.os2mo.timeoutSeconds);
    expect(spec.os2mo!.properties.auth!.properties!.realm!.default).toBe(d.os2mo.realm);
    expect(spec.os2sync!.properties.concurrency!.default).toBe(d.os2sync.concurrency);
    expect(spec.os2sync!.properties.hierarchyTimeoutSeconds!.default).toBe(d.os2sync.hierarchyTimeoutSeconds);
    expect(spec.safety!.properties.maxDeletes!.default).toEqual(d.safety.maxDeletes);
    expect(spec.safety!.properties.prune!.default).toBe(d.safety.prune);
    expect(spec.state!.properties.backend!.default).toBe(d.state.backend);
    expect(spec.state!.properties.postgres!.properties!.schema!.default).toBe(d.state.postgres.schema);
    expect(spec.state!.properties.http!.properties!.lockMethod!.default).toBe(d.state.http.lockMethod);
    expect(spec.sandbox!.properties.dataDir!.default).toBe(d.sandbox.dataDir);
    expect(spec.fk!.properties.authScheme!.default).toBe(d.fk.authScheme);
    expect(spec.fk!.properties.tlsMaxVersion!.default).toBe(d.fk.tlsMaxVersion);
  });

  it("describes every key and rejects unknown keys in every mapping", () => {
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties) {
        expect(n.additionalProperties, `${where} additionalProperties`).toBe(false);
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if ((v as unknown) !== false) expect(typeof v.description, `${where}.${k} description`).toBe("string");
          walk(v, `${where}.${k}`);
        }
      }
      if (n.items) walk(n.items, `${where}[]`);
    };
    walk(environmentSchema(), "(root)");
  });

  it("says that sync templates are not supported", () => {
    expect((environmentSchema() as { properties: { spec: { properties: { sync: { description: string } } } } }).properties.spec.properties.sync.description).toMatch(/templates.*not supported/);
  });
});

describe("the shipped example manifests", () => {
  it.each(["test", "prod"])("environments/%s.yaml validates offline with its variables set", async (name) => {
    const env = { STSORG_FOCES_PASSWORD: "a", STSORG_MO_SECRET: "b", STSORG_OS2SYNC_APIKEY: "c" };
    const r = await validateEnvironment(name, { cwd: REPO, env, now: NOW, offline: true });
    expect(r.diagnostics).toEqual([]);
    expect(r.environment?.municipality.name).toBe("Korsbæk Kommune");
    expect(isValidCvr(r.environment!.municipality.cvr)).toBe(true);
  });

  it("uses different UUIDs in test and prod, except the fixed service UUID (prod's uuidMap names test's by design)", async () => {
    const uuids = async (name: string) => {
      const text = (await import("node:fs")).readFileSync(`${REPO}/environments/${name}.yaml`, "utf8");
      // spec.promotion.uuidMap maps test's uuids to prod's: its keys are test's.
      const used = text.replace(/\n  promotion:\n(    .*\n|\s*\n)*/, "\n");
      return new Set(used.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g));
    };
    const test = await uuids("test");
    const prod = await uuids("prod");
    expect([...test].filter((u) => prod.has(u))).toEqual(["1e1c7d8d-b644-419c-a585-cb6486f04947"]);
    expect(test.size).toBeGreaterThanOrEqual(6);
  });
});

describe("CVR modulus 11", () => {
  it.each([
    ["12345674", true],
    ["38541013", true],
    ["12345675", false],
    ["11111111", false],
    ["1234567", false],
  ])("%s is %s", (cvr, ok) => expect(isValidCvr(cvr)).toBe(ok));
});
