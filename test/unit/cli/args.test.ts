import { describe, expect, it } from "vitest";
import { parseCertInspectArgs } from "../../../src/cli/commands/cert.js";
import { parseRenderArgs } from "../../../src/cli/commands/render.js";
import { parseValidateArgs } from "../../../src/cli/commands/validate.js";
import { UsageError } from "../../../src/errors/index.js";

describe("argument parsing", () => {
  it("validate: environment, format and offline", () => {
    expect(parseValidateArgs({ environment: "test" })).toEqual({ environment: "test", format: "human", offline: false });
    expect(parseValidateArgs({ environment: "x.yaml", format: "json", offline: true })).toEqual({ environment: "x.yaml", format: "json", offline: true });
    expect(() => parseValidateArgs({ environment: "" })).toThrow(UsageError);
    expect(() => parseValidateArgs({ environment: "t", format: "xml" })).toThrow(/--format must be human or json/);
  });

  it("cert inspect: a password is only ever named by its variable", () => {
    expect(parseCertInspectArgs({ file: "a.pfx", passwordEnv: "PW" })).toEqual({ file: "a.pfx", passwordEnv: "PW", format: "human" });
    expect(parseCertInspectArgs({ file: "a.pfx" })).toEqual({ file: "a.pfx", format: "human" });
    expect(() => parseCertInspectArgs({ file: "a.pfx", passwordEnv: "hunter 2" })).toThrow(/needs the name of an environment variable/);
  });

  it("render: a known target and an environment", () => {
    expect(parseRenderArgs({ target: "info-file", environment: "prod" })).toEqual({ target: "info-file", environment: "prod" });
    expect(() => parseRenderArgs({ target: "docker-compose", environment: "prod" })).toThrow(/render knows os2sync-config and info-file/);
  });
});
