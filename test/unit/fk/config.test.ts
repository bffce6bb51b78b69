import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretError } from "../../../src/errors/index.js";
import { loadEnvironment, type Environment } from "../../../src/manifest/index.js";
import { createTestCa, issueOrganisationCertificate } from "../../../src/sandbox/fk/index.js";
import { fkClientOptionsFor } from "../../../src/targets/fk/index.js";

const TEST_MANIFEST = fileURLToPath(new URL("../../../environments/test.yaml", import.meta.url));
const NOW = new Date();
let dir: string;
let env: Environment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stsorg-fk-config-"));
  const text = readFileSync(TEST_MANIFEST, "utf8");
  const cvr = /cvr: "(\d{8})"/.exec(text)![1]!;
  writeFileSync(join(dir, "org.p12"), issueOrganisationCertificate(createTestCa(), { cvr, password: "hemmelig" }, NOW));
  const file = join(dir, "test.yaml");
  writeFileSync(file, text.replace("/opt/info/OSMO-SP/OS2MO_FOCES.pfx", join(dir, "org.p12")));
  env = await loadEnvironment(file, { cwd: dir, env: {}, now: NOW });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("FK client options from a manifest", () => {
  it("takes KOMBIT's endpoints from the stage, the certificate from spec.certificate and TLS 1.2 by default", async () => {
    const o = await fkClientOptionsFor(env, { env: { STSORG_FOCES_PASSWORD: "hemmelig" } }, { now: NOW });
    expect(o.graphqlUrl).toBe("https://organisation.eksterntest-stoettesystemerne.dk/organisation/organisationhent/1");
    expect(o.tokenUrl).toBe("https://n2adgangsstyring.eksterntest-stoettesystemerne.dk/runtime/api/rest/oauth/v1/issue");
    expect(o.cvr).toBe(env.municipality.cvr);
    expect(o.credentials.cvr).toBe(env.municipality.cvr);
    expect([o.tlsMinVersion, o.tlsMaxVersion, o.authScheme]).toEqual(["TLSv1.2", "TLSv1.2", "Bearer"]);
  });

  it("lets spec.fk override the endpoints and the scheme", async () => {
    const custom: Environment = {
      ...env,
      fk: { graphqlUrl: "https://fk.example/graphql", tokenUrl: "https://fk.example/token", authScheme: "Holder-of-key", tlsMinVersion: "TLSv1.2", tlsMaxVersion: "TLSv1.3" },
    };
    const o = await fkClientOptionsFor(custom, { env: { STSORG_FOCES_PASSWORD: "hemmelig" } }, { now: NOW });
    expect([o.graphqlUrl, o.tokenUrl, o.authScheme, o.tlsMaxVersion]).toEqual(["https://fk.example/graphql", "https://fk.example/token", "Holder-of-key", "TLSv1.3"]);
  });

  it("names the password variable, never a value, when it is missing", async () => {
    const err = await fkClientOptionsFor(env, { env: {} }, { now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).toContain("STSORG_FOCES_PASSWORD");
  });
});
