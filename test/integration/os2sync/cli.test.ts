import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSandboxOs2syncArgs } from "../../../src/cli/commands/sandbox-os2sync.js";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";
import { UsageError } from "../../../src/errors/index.js";
import { Os2syncClient } from "../../../src/targets/os2sync/index.js";
import { CVR, eventually, unit, uuid } from "./helpers.js";

describe("stsorg sandbox os2sync", () => {
  it("parses its options and refuses bad ones", () => {
    expect(parseSandboxOs2syncArgs({ port: 0, data: "fk.json", cvr: CVR, "api-key-env": "KEY" })).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      data: "fk.json",
      cvr: CVR,
      apiKeyEnv: "KEY",
      queueDelayMs: 1000,
    });
    expect(() => parseSandboxOs2syncArgs({ port: 70000 })).toThrow(UsageError);
    expect(() => parseSandboxOs2syncArgs({ cvr: "123" })).toThrow(/8 digits/);
    expect(() => parseSandboxOs2syncArgs({ "api-key-env": "not a name" })).toThrow(/environment variable/);
  });

  it("serves OS2sync until a signal, then saves the FK to the data file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stsorg-cli-os2sync-"));
    try {
      let stop: ((s: "SIGINT" | "SIGTERM") => void) | undefined;
      const io = memoryIo({
        cwd: dir,
        env: { OS2SYNC_KEY: "k" },
        onSignal: (h) => {
          stop = h;
          return () => (stop = undefined);
        },
      });
      const exit = run(
        ["sandbox", "os2sync", "--port", "0", "--data", "fk.json", "--cvr", CVR, "--api-key-env", "OS2SYNC_KEY", "--queue-delay-ms", "0", "--queue-interval-ms", "10"],
        io,
      );
      const url = await eventually(async () => /listening on (\S+)/.exec(io.out())?.[1]);
      const c = new Os2syncClient({ url, cvr: CVR, apiKey: "k" });
      await c.upsertOrgUnit(unit(1));
      await eventually(() => c.getOrgUnit(uuid(1, "a")));
      stop!("SIGINT");
      expect(await exit).toBe(0);
      expect(io.err()).toContain("OS2sync sandbox stopped (SIGINT); FK saved to fk.json");
      expect(JSON.parse(readFileSync(join(dir, "fk.json"), "utf8")).orgUnits).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says so when the api key variable is not set", async () => {
    const io = memoryIo();
    expect(await run(["sandbox", "os2sync", "--port", "0", "--api-key-env", "MISSING_KEY"], io)).toBe(1);
    expect(io.err()).toMatch(/MISSING_KEY.*is not set/);
  });
});
