import { spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, ROOT } from "./cli.js";

/** Another test file may be rebuilding dist/ at this moment; a build that trips over it is tried again. */
function buildOnce(): void {
  try {
    ensureBuilt();
  } catch {
    ensureBuilt();
  }
}

/**
 * `npm run demo` as a newcomer runs it, in a copy of the repository with no `.stsorg/`: the demo's data
 * folder lives in that copy, so a developer's own `.stsorg/` in the repository is never touched.
 * Built code and installed packages are linked, not copied.
 */

let copy: string;
beforeAll(() => {
  buildOnce();
  copy = mkdtempSync(join(tmpdir(), "stsorg-demo-"));
  for (const linked of ["dist", "node_modules", "schemas"]) symlinkSync(join(ROOT, linked), join(copy, linked), "dir");
  for (const copied of ["bin", "environments"]) cpSync(join(ROOT, copied), join(copy, copied), { recursive: true });
  mkdirSync(join(copy, "scripts"));
  copyFileSync(join(ROOT, "scripts", "demo.mjs"), join(copy, "scripts", "demo.mjs"));
  copyFileSync(join(ROOT, "package.json"), join(copy, "package.json"));
}, 180_000);

afterAll(() => rmSync(copy, { recursive: true, force: true }));

function npmRunDemo(cwd: string): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn("npm", ["run", "demo"], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

describe("npm run demo", () => {
  it("tells its story on a fresh copy and ends with No changes and exit 0", async () => {
    expect(existsSync(join(copy, ".stsorg"))).toBe(false);
    const { code, output, seconds } = await npmRunDemo(copy);
    expect(code, output).toBe(0);

    const steps = output.split(/━━ \d\. /).slice(1);
    expect(steps.map((s) => s.split("\n")[0]!.replace(/[ ━]+$/, ""))).toEqual([
      "Validate the demo environment manifest",
      "Plan: what would stsorg write to an STS Organisation that holds only the root unit?",
      "Apply: carry the plan out through OS2sync and record every write in the state",
      "Change OS2mo: a rename, a move, a new unit and a person leaving",
      "Plan: exactly those changes",
      "Apply them",
      "Plan again: nothing left to do",
    ]);
    expect(steps[1]).toMatch(/total +\d+ +0 +0 +\d+/);
    expect(steps[2]).toContain("Apply complete!");
    // The scripted change: the new unit is added, the renamed and the moved unit change, the leaver goes.
    expect(steps[4]).toContain("Plan: 1 to add, 2 to change, 1 to destroy.");
    expect(steps[6]).toContain("No changes. STS Organisation matches OS2mo.");
    expect(steps[6]).not.toMatch(/to add|to change|to destroy/);

    // Its data stayed in the copy.
    expect(existsSync(join(copy, ".stsorg", "fk.json"))).toBe(true);
    expect(existsSync(join(copy, ".stsorg", "state", "demo.json"))).toBe(true);
    process.stdout.write(`npm run demo took ${seconds.toFixed(1)} s\n`);
  }, 300_000);
});
