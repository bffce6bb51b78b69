import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { FkStore } from "../../src/sandbox/fkstore/index.js";
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
 * The CI recipes in docs/ci/ run their stsorg commands in script blocks marked `# stsorg-ci: NAME`. This
 * test reads those blocks out of the recipe files (so the docs cannot drift from what is tested) and runs
 * them with bash, as the CI would, against the demo environment's embedded sandbox. The parts that need
 * the hosting service (comments, artifacts) are outside the blocks and not run.
 */

const RECIPES = ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"];
const BLOCKS = ["plan", "promote", "apply", "drift"] as const;
type BlockName = (typeof BLOCKS)[number];
const MARKER = /^# stsorg-ci: ([a-z-]+)\n/;
/** A line that runs stsorg (not a comment, not a job name like `stsorg-plan`). */
const INVOCATION = /(^|[\s;|&(])stsorg\s+(plan|apply|show|promote|export|validate|state|render|cert|sandbox|import-settings)\b/;

function strings(node: unknown, out: string[] = []): string[] {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) for (const v of node) strings(v, out);
  else if (node && typeof node === "object") for (const v of Object.values(node)) strings(v, out);
  return out;
}

function recipeBlocks(file: string): { blocks: Map<BlockName, string>; stray: string[] } {
  const doc = parseDocument(readFileSync(join(ROOT, file), "utf8"));
  expect(doc.errors, `${file} is not valid YAML`).toEqual([]);
  const blocks = new Map<BlockName, string>();
  const stray: string[] = [];
  for (const s of strings(doc.toJS())) {
    const m = MARKER.exec(s);
    if (m) {
      expect(BLOCKS as readonly string[], `${file}: unknown block ${m[1]}`).toContain(m[1]);
      expect(blocks.has(m[1] as BlockName), `${file}: block ${m[1]} appears twice`).toBe(false);
      blocks.set(m[1] as BlockName, s);
    } else {
      for (const line of s.split("\n")) if (!line.trim().startsWith("#") && INVOCATION.test(line)) stray.push(line.trim());
    }
  }
  return { blocks, stray };
}

interface BlockResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a block as GitHub's `shell: bash` does (GitLab's runner is as strict): -e and pipefail. */
function runBlock(block: string, cwd: string): Promise<BlockResult> {
  return new Promise((done, fail) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", block], {
      cwd,
      env: { PATH: `${join(ROOT, "bin")}:${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1", STSORG_ENV: "demo" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function newProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-ci-"));
  mkdirSync(join(dir, "environments"));
  for (const env of ["demo", "test", "prod"]) copyFileSync(join(ROOT, "environments", `${env}.yaml`), join(dir, "environments", `${env}.yaml`));
  return dir;
}

const projects: string[] = [];
const recipes = new Map<string, Map<BlockName, string>>();

beforeAll(() => {
  buildOnce();
  for (const file of RECIPES) recipes.set(file, recipeBlocks(file).blocks);
}, 180_000);
afterAll(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

describe("the CI recipes in docs/ci", () => {
  for (const file of RECIPES) {
    it(`${file} has every block, and runs stsorg only inside them, without CI expressions`, () => {
      const { blocks, stray } = recipeBlocks(file);
      expect([...blocks.keys()].sort()).toEqual([...BLOCKS].sort());
      expect(stray, "stsorg commands outside a # stsorg-ci block are not tested").toEqual([]);
      for (const [name, text] of blocks) expect(text, `${file} block ${name}`).not.toContain("${{");
    });
  }

  // A block identical to one an earlier recipe ran is not run again; a plan block of its own is still
  // followed by the apply of the plan it saved.
  const seen = new Set<string>();
  for (const file of RECIPES) {
    it(`${file}: plan → comment body → apply the saved plan → drift check → promotion check`, async () => {
      const blocks = recipes.get(file)!;
      const all = BLOCKS.map((b) => blocks.get(b)).join("\u0000");
      const rest = BLOCKS.filter((b) => b !== "plan").map((b) => blocks.get(b)).join("\u0000");
      if (seen.has(all)) return;
      const restRunBefore = seen.has(rest);
      seen.add(all);
      seen.add(rest);
      const project = newProject();
      projects.push(project);
      const block = (name: BlockName) => blocks.get(name)!;

      // Merge request: a saved plan and a comment body that starts with the marker the update finds.
      const plan = await runBlock(block("plan"), project);
      expect(plan.code, plan.stderr).toBe(0);
      expect(existsSync(join(project, "plan.json"))).toBe(true);
      const comment = readFileSync(join(project, "comment.md"), "utf8");
      expect(comment.split("\n")[0]).toBe("<!-- stsorg-plan:demo -->");
      expect(comment).toContain("### stsorg plan for `demo`");
      expect(comment).toMatch(/\| \*\*total\*\* \| \*\*\d+\*\*/);
      expect(comment.length).toBeLessThanOrEqual(65_536);

      // Merge: the saved plan is applied as reviewed and confirmed in FK.
      const apply = await runBlock(block("apply"), project);
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stdout).toContain("Apply complete!");
      expect(apply.stderr).toMatch(/Confirmed \d+ of \d+ writes in FK/);
      if (restRunBefore) return;

      // Nightly: nothing changed outside stsorg, so the check passes.
      const calm = await runBlock(block("drift"), project);
      expect(calm.code, calm.stdout + calm.stderr).toBe(0);
      expect(calm.stderr).not.toContain("Drift:");

      // Someone renames a unit directly in FK: the check fails and names it.
      const store = new FkStore({ file: join(project, ".stsorg", "fk.json") });
      const unit = store.activeOrgUnits().find((r) => r.registration.ParentOrgUnitUuid !== undefined)!;
      store.put("orgunit", { ...unit.registration, Name: `${unit.registration.Name} (rettet i FK)` });
      store.flush();
      const drifted = await runBlock(block("drift"), project);
      expect(drifted.code).toBe(1);
      expect(drifted.stderr).toContain("Drift: STS Organisation (demo) was changed outside stsorg");
      expect(drifted.stdout).toContain(`${unit.registration.Name} (rettet i FK)`);

      // Promotion check: the shipped pair is current; a policy change reviewed in test makes prod lag
      // behind (exit 2 fails the step) until it is promoted.
      expect((await runBlock(block("promote"), project)).code).toBe(0);
      const testYaml = join(project, "environments", "test.yaml");
      const tightened = readFileSync(testYaml, "utf8").replace("maxDeletes: { count: 50, percent: 5 }", "maxDeletes: { count: 40, percent: 4 }");
      expect(tightened).toContain("count: 40");
      writeFileSync(testYaml, tightened);
      const behind = await runBlock(block("promote"), project);
      expect(behind.code).toBe(2);
      expect(behind.stderr).toContain("is not current with");
      const write = await runBlock("stsorg promote --from test --to prod --write", project);
      expect(write.code, write.stderr).toBe(0);
      const current = await runBlock(block("promote"), project);
      expect(current.code, current.stderr).toBe(0);
    }, 300_000);
  }

  it("a plan block refused by a guard still leaves the comment body, and fails", async () => {
    const project = newProject();
    projects.push(project);
    // Zero deletes allowed, then a plan that would delete: the guard refuses it.
    const demo = readFileSync(join(project, "environments", "demo.yaml"), "utf8").replace("maxDeletes: { count: 50, percent: 25 }", "maxDeletes: { count: 0, percent: 0 }");
    writeFileSync(join(project, "environments", "demo.yaml"), demo);
    const store = new FkStore({ file: join(project, ".stsorg", "fk.json") });
    store.put("orgunit", { Uuid: "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10", Name: "Korsbæk Kommune", Type: "DEPARTMENT" });
    store.put("orgunit", { Uuid: "c0000000-0000-4000-8000-000000000001", Name: "Nedlagt enhed", ParentOrgUnitUuid: "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10" });
    store.flush();
    // prune: all-under-top makes the stray unit a delete candidate without any state.
    writeFileSync(join(project, "environments", "demo.yaml"), demo.replace("prune: managed", "prune: all-under-top"));
    const plan = await runBlock(recipes.get(RECIPES[0]!)!.get("plan")!, project);
    expect(plan.code).toBe(1);
    const comment = readFileSync(join(project, "comment.md"), "utf8");
    expect(comment.startsWith("<!-- stsorg-plan:demo -->\n")).toBe(true);
    expect(comment).toContain("**max-deletes**");
    expect(comment).toContain("Nedlagt enhed");
  }, 120_000);
});
