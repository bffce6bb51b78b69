import { afterAll, describe, expect, it } from "vitest";
import { cleanup, cli, FIXTURE, project } from "../manifest/helpers.js";

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

  it("accepts --no-color on every command", async () => {
    const r = await cli(["validate", "-e", "test", "--offline", "--no-color"], { cwd: dir });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("is valid");
  });
});
