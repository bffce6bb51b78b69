import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSandboxUpArgs } from "../../src/cli/commands/sandbox-up.js";
import type { FkExport } from "../../src/export/index.js";
import { ensureBuilt, ROOT, stsorg } from "./cli.js";

/** Another test file may be rebuilding dist/ at this moment; a build that trips over it is tried again. */
function buildOnce(): void {
  try {
    ensureBuilt();
  } catch {
    ensureBuilt();
  }
}

/** `stsorg sandbox up` as a user runs it: a foreground process, a manifest for it, Ctrl-C to stop. */

let project: string;
beforeAll(() => {
  buildOnce();
  project = mkdtempSync(join(tmpdir(), "stsorg-up-"));
  mkdirSync(join(project, "environments"));
}, 180_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("stsorg sandbox up", () => {
  it("serves both sandboxes, writes a manifest stsorg can use, and stops cleanly on SIGINT", async () => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin", "stsorg"), "sandbox", "up", "--port-os2mo", "0", "--port-os2sync", "0", "--data", "data",
        "--write-manifest", "environments/sandbox.yaml", "--queue-delay-ms", "0", "--queue-interval-ms", "20", "--hierarchy-delay-ms", "0"],
      { cwd: project, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    try {
      await new Promise<void>((ready, fail) => {
        const timer = setTimeout(() => fail(new Error(`sandbox up did not start:\n${out}\n${err}`)), 60_000);
        child.stdout.on("data", () => {
          if (out.includes("Stop with Ctrl-C.")) {
            clearTimeout(timer);
            ready();
          }
        });
        child.on("close", () => fail(new Error(`sandbox up exited early:\n${out}\n${err}`)));
      });
      expect(out).toMatch(/OS2mo sandbox: {3}http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/OS2sync sandbox: http:\/\/127\.0\.0\.1:\d+\/api/);
      expect(out).toContain("client:        id stsorg, secret sandbox-secret");
      expect(out).toContain("export STSORG_SANDBOX_MO_SECRET=sandbox-secret");
      const manifest = readFileSync(join(project, "environments", "sandbox.yaml"), "utf8");
      const os2syncUrl = /OS2sync sandbox: (\S+)/.exec(out)![1]!;
      expect(manifest).toContain(`url: ${os2syncUrl}`);

      const env = { STSORG_SANDBOX_MO_SECRET: "sandbox-secret", STSORG_SANDBOX_FOCES_PASSWORD: "sandbox" };
      const validate = await stsorg(["validate", "-e", "sandbox"], { cwd: project, env });
      expect(validate.stdout + validate.stderr).toContain("environments/sandbox.yaml is valid: 0 errors");
      expect(validate.code).toBe(0);

      // The FK starts with the municipality's root unit only, as the seed guide requires.
      const exported = await stsorg(["export", "-e", "sandbox"], { cwd: project, env });
      expect(exported.code).toBe(0);
      const data = JSON.parse(exported.stdout) as FkExport;
      expect(data.orgUnits.map((u) => u.path)).toEqual(["Korsbæk Kommune"]);

      const plan = await stsorg(["plan", "-e", "sandbox", "--summary", "--detailed-exitcode"], { cwd: project, env });
      expect(plan.stdout).toMatch(/Plan: \d+ to add/);
      expect(plan.code).toBe(2);
      // Users get their email and phone numbers, as in the demo: the manifest maps the sandbox's address classes.
      expect(manifest).toMatch(/emailScopeClasses: \[[0-9a-f-]{36}\]/);
      const json = await stsorg(["plan", "-e", "sandbox", "--format", "json"], { cwd: project, env });
      const users = (JSON.parse(json.stdout) as { changes: { kind: string; after?: { Email?: string; PhoneNumber?: string } }[] }).changes.filter((c) => c.kind === "user");
      expect(users.filter((u) => u.after?.Email !== undefined).length).toBeGreaterThan(users.length / 2);
      expect(users.filter((u) => u.after?.PhoneNumber !== undefined).length).toBeGreaterThan(0);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    expect(err).toContain("Sandbox servers stopped (SIGINT); FK saved to data/fk.json");
    expect(existsSync(join(project, "data", "fk.json"))).toBe(true);
    expect(existsSync(join(project, "data", "os2mo.json"))).toBe(true);
  }, 180_000);

  it("ends with exit 1, naming the port, when a port is taken (either server, alone or together)", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      const env = { STSORG_SANDBOX_MO_SECRET: "sandbox-secret" };
      const cases = [
        { args: ["sandbox", "os2sync", "--port", port], flag: "--port" },
        { args: ["sandbox", "os2mo", "--port", port, "--size", "small"], flag: "--port" },
        { args: ["sandbox", "up", "--port-os2mo", "0", "--port-os2sync", port], flag: "--port-os2sync" },
        { args: ["sandbox", "up", "--port-os2mo", port, "--port-os2sync", "0"], flag: "--port-os2mo" },
      ];
      for (const c of cases) {
        // A server left running keeps the process alive until the test's own limit kills it.
        const r = await stsorg(c.args, { cwd: project, env, timeoutMs: 30_000 });
        expect(r.signal, c.args.join(" ")).toBeNull();
        expect(r.code, c.args.join(" ")).toBe(1);
        expect(r.stderr).toContain(`Error: port ${port} is already in use`);
        expect(r.stderr).toContain(`Pick another with ${c.flag}`);
      }
    } finally {
      taken.close();
    }
  }, 180_000);
});

describe("parseSandboxUpArgs", () => {
  it("takes a size or a fixture file in --fixture, with the demo's ports by default", () => {
    expect(parseSandboxUpArgs({})).toMatchObject({ portOs2mo: 5001, portOs2sync: 5000, fixture: { size: "small" }, fixtureGiven: false, seed: 1 });
    expect(parseSandboxUpArgs({ fixture: "large" }).fixture).toEqual({ size: "large" });
    expect(parseSandboxUpArgs({ fixture: "kommune.json" }).fixture).toEqual({ file: "kommune.json" });
  });
  it("refuses one port for both servers and a secret given in place of a variable name", () => {
    expect(() => parseSandboxUpArgs({ "port-os2mo": 6000, "port-os2sync": 6000 })).toThrow(/both 6000/);
    expect(() => parseSandboxUpArgs({ "client-secret-env": "my secret!" })).toThrow(/name of an environment variable/);
  });
});
