import { afterAll, describe, expect, it } from "vitest";
import { cleanup, cli, FIXTURE, project, REPO } from "../manifest/helpers.js";

afterAll(cleanup);

const ENV = { STSORG_FOCES_PASSWORD: "pfx-secret-123", STSORG_MO_SECRET: "mo-secret-456", STSORG_OS2SYNC_APIKEY: "apikey-789" };

describe("stsorg render os2sync-config", () => {
  it.each([
    ["test", "TEST"],
    ["prod", "PROD"],
  ])("renders OS2sync's appsettings.json for %s with placeholders for secrets", async (name, stage) => {
    const r = await cli(["render", "os2sync-config", "-e", name], { cwd: REPO, env: ENV });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(["Cvr", "Environment", "ApiKey", "ClientSettings"]);
    expect(json).toEqual({
      Cvr: "38541013",
      Environment: stage,
      ApiKey: "<secret from ${env:STSORG_OS2SYNC_APIKEY}>",
      ClientSettings: {
        WscKeystoreLocation: "/opt/info/OSMO-SP/OS2MO_FOCES.pfx",
        WscKeystorePassword: "<secret from ${env:STSORG_FOCES_PASSWORD}>",
      },
    });
    for (const v of Object.values(ENV)) expect(r.out).not.toContain(v);
  });

  it("gives the same bytes every time", async () => {
    const a = await cli(["render", "os2sync-config", "-e", "prod"], { cwd: REPO, env: ENV });
    const b = await cli(["render", "os2sync-config", "-e", "prod"], { cwd: REPO, env: {} });
    expect(a.out).toBe(b.out);
  });

  it("refuses a sandbox environment", async () => {
    const text = FIXTURE.replace("stage: test", "stage: sandbox");
    const r = await cli(["render", "os2sync-config", "-e", "x"], { cwd: project({ x: text }) });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stage sandbox: there is no OS2sync configuration to render/);
  });

  it("refuses an invalid manifest, listing its errors", async () => {
    const text = FIXTURE.replace('cvr: "12345674"', 'cvr: "12345675"');
    const r = await cli(["render", "info-file", "-e", "x"], { cwd: project({ x: text }) });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/environments\/x\.yaml:11:10: error: CVR 12345675 fails the modulus-11 check/);
    expect(r.out).toBe("");
  });
});

describe("stsorg render info-file", () => {
  it("writes the seed guide's KEY=VALUE lines", async () => {
    const r = await cli(["render", "info-file", "-e", "test"], { cwd: REPO, env: {} });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n").filter((l) => !l.startsWith("#"));
    const map = Object.fromEntries(lines.map((l) => l.split("=") as [string, string]));
    expect(Object.keys(map)).toEqual(["SP_SERVICE_UUID", "SP_SERVICE_AGREEMENT_UUID", "SP_MUNICIPALITY_UUID", "SP_SYSTEM_UUID", "ADMIN_TOP_UUID", "CVR", "SP_CERTIFICATE_PATH"]);
    expect(map.SP_SERVICE_UUID).toBe("1e1c7d8d-b644-419c-a585-cb6486f04947");
    expect(map.CVR).toBe("38541013");
    expect(map.SP_CERTIFICATE_PATH).toBe("/opt/info/OSMO-SP/OS2MO_FOCES.pfx");
    for (const v of Object.values(map)) expect(v).toMatch(/^\S+$/);
  });

  it("differs between test and prod in every UUID but the service's", async () => {
    const get = async (name: string) =>
      Object.fromEntries(
        (await cli(["render", "info-file", "-e", name], { cwd: REPO, env: {} })).out
          .trim()
          .split("\n")
          .filter((l) => !l.startsWith("#"))
          .map((l) => l.split("=") as [string, string]),
      );
    const t = await get("test");
    const p = await get("prod");
    for (const k of ["SP_SERVICE_AGREEMENT_UUID", "SP_MUNICIPALITY_UUID", "SP_SYSTEM_UUID", "ADMIN_TOP_UUID"]) expect(t[k], k).not.toBe(p[k]);
    expect(t.SP_SERVICE_UUID).toBe(p.SP_SERVICE_UUID);
  });
});
