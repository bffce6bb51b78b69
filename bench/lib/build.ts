import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * A private build of the CLI for the benchmark: the source of one git revision (or the working tree),
 * compiled into the benchmark's own folder. The working tree's dist/ is rebuilt by anyone at any time;
 * a run that takes an hour must not see it change underneath.
 */
export interface CliBuild {
  /** `node BIN …` runs the CLI, through the same launcher as bin/stsorg. */
  bin: string;
  /** The commit built, or "working tree". */
  source: string;
  /** Compile errors, if any (tsc emits code despite type errors; a broken import still fails at run time). */
  warnings: string;
}

const PATHS = ["src", "schemas", "bin", "scripts/copy-assets.mjs", "package.json", "tsconfig.json", "tsconfig.build.json"];

export function buildCli(root: string, rev: string | "worktree", dest: string): CliBuild {
  mkdirSync(dest, { recursive: true });
  let source: string;
  if (rev === "worktree") {
    for (const p of PATHS) cpSync(join(root, p), join(dest, p), { recursive: true });
    source = "working tree";
  } else {
    const commit = execFileSync("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
    const tar = execFileSync("git", ["archive", "--format=tar", commit, ...PATHS], { cwd: root, maxBuffer: 1 << 30 });
    execFileSync("tar", ["-x", "-C", dest], { input: tar });
    source = commit;
  }
  if (!existsSync(join(dest, "node_modules"))) symlinkSync(join(root, "node_modules"), join(dest, "node_modules"), "dir");
  let warnings = "";
  try {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: dest, encoding: "utf8" });
  } catch (e) {
    warnings = String((e as { stdout?: string }).stdout ?? e);
  }
  execFileSync(process.execPath, [join("scripts", "copy-assets.mjs")], { cwd: dest });
  if (!existsSync(join(dest, "dist", "cli", "main.js"))) throw new Error(`building ${source} produced no dist/cli/main.js:\n${warnings}`);
  return { bin: join(dest, "bin", "stsorg"), source, warnings };
}
