import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPlanFile } from "../../../src/cli/planfile.js";
import { formatError } from "../../../src/errors/index.js";

/** What `apply FILE` and `show FILE` say about a file that is not a plan they can use. */
describe("readPlanFile refuses what is not a plan of this format, plainly", () => {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-planfile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const refusal = async (content: string | null): Promise<string> => {
    const file = join(dir, `f-${Math.random().toString(36).slice(2)}.json`);
    if (content !== null) writeFileSync(file, content);
    try {
      await readPlanFile(file);
    } catch (e) {
      return formatError(e).replace(file, "FILE");
    }
    throw new Error("accepted");
  };

  it("names the file and says what is wrong", async () => {
    expect(await refusal(null)).toContain("FILE: plan file not found");
    expect(await refusal("plan: yes")).toContain("FILE: this is not a plan file (not JSON).");
    expect(await refusal("{}")).toContain("FILE: this is not a plan file (it has no format_version).");
    expect(await refusal("[]")).toContain("this is not a plan file (it has no format_version).");
    expect(await refusal('{"format_version":"0.9"}')).toContain('FILE: plan file has format_version "0.9"; this stsorg reads');
    expect(await refusal('{"format_version":"1.0"}')).toContain("FILE: plan file does not match the plan format:");
    expect(await refusal('{"format_version":1,"lineage":"x","serial":3,"resources":[]}')).toContain("FILE: this is a state file, not a plan file.");
  });

  it("never prints a JavaScript value such as undefined", async () => {
    for (const content of ["{}", "null", "[]", "42"]) expect(await refusal(content)).not.toMatch(/undefined|NaN/);
  });
});
