import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandsFor } from "../../../src/cli/commands.js";
import { cleanup, cli, FIXTURE, lineOf, project, SECRETS } from "../manifest/helpers.js";

/** Command-line mistakes are refused before the command does anything, with a message that names them. */
describe("stsorg's command line", () => {
  afterAll(cleanup);
  const dir = project({ test: FIXTURE });

  it("refuses an unknown option without running the command", async () => {
    const r = await cli(["validate", "-e", "test", "--offline", "--ofline"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toBe("Error: Unknown argument: ofline\n  Run `stsorg --help` for usage.\n");
    expect(r.out).toBe("");
  });

  it("names a mistyped command and the one that was probably meant", async () => {
    const r = await cli(["valdiate", "-e", "test"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Error: Unknown command "valdiate". Did you mean validate?');
    expect(r.out).toBe("");
  });

  it("loads only the command named first, and its help and checks are the same as with every command loaded", async () => {
    const all = await commandsFor([]);
    expect(all.length).toBeGreaterThan(10);
    for (const c of all) {
      const name = c.command.split(" ")[0]!;
      expect(await commandsFor([name, "--help"])).toEqual([c]);
      // An option before the command name: every command is loaded.
      const alone = await cli([name, "--help"], { cwd: dir });
      const withAll = await cli(["--no-color", name, "--help"], { cwd: dir });
      expect(alone.code).toBe(0);
      expect(alone.out).toContain(`stsorg ${c.command}`);
      expect(alone.out).toBe(withAll.out);
    }
  });

  it("names a mistyped dashed option once, as it was typed", async () => {
    const typo = await cli(["apply", "-e", "test", "--auto-aprove"], { cwd: dir });
    expect(typo.code).toBe(1);
    expect(typo.err).toBe("Error: Unknown argument: auto-aprove\n  Run `stsorg --help` for usage.\n");
    const two = await cli(["validate", "-e", "test", "--offline", "--of-line", "--zz"], { cwd: dir });
    expect(two.err).toBe("Error: Unknown arguments: of-line, zz\n  Run `stsorg --help` for usage.\n");
  });

  it("accepts --no-color on every command", async () => {
    const r = await cli(["validate", "-e", "test", "--offline", "--no-color"], { cwd: dir });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("is valid");
  });
});

/** plan and apply resolve every secret they will use before contacting anything. */
describe("a secret that does not resolve", () => {
  afterAll(cleanup);

  it("is named with its file:line by plan and apply, before OS2mo or OS2sync is contacted", async () => {
    const dir = project({ test: FIXTURE });
    const line = lineOf(FIXTURE, "clientSecret:");
    for (const command of [["plan"], ["apply", "--auto-approve"]]) {
      const r = await cli([...command, "-e", "test"], { cwd: dir, env: { FIXTURE_CERT_PASSWORD: SECRETS.FIXTURE_CERT_PASSWORD } });
      expect(r.code, command[0]).toBe(1);
      expect(r.err).toContain(`environments/test.yaml:${line}:`);
      expect(r.err).toContain("OS2mo client secret: environment variable FIXTURE_MO_SECRET is not set");
      expect(r.err).toContain("(spec.os2mo.auth.clientSecret)");
      // Nothing was asked of OS2sync (no hierarchy job) or OS2mo.
      expect(r.err).not.toMatch(/hierarchy|OS2sync|ENOTFOUND|EAI_AGAIN/);
      expect(r.out).toBe("");
    }
  });

  it("names a missing secret file the same way", async () => {
    const dir = project({ test: FIXTURE });
    rmSync(join(dir, "secrets/os2sync-apikey"));
    const r = await cli(["plan", "-e", "test"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`environments/test.yaml:${lineOf(FIXTURE, "apiKey:")}:`);
    expect(r.err).toMatch(/OS2sync api key: secret file .*secrets\/os2sync-apikey does not exist/);
  });
});
