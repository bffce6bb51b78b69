import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/**
 * Child processes for the multi-process state tests. The sources are transpiled (no type check) into a
 * temporary folder once per test file, laid out as dist/ is next to schemas/ and node_modules/, so a
 * plain node child can import them while others edit the tree.
 */

const ROOT = resolve(import.meta.dirname, "../../..");
let built: Promise<string> | undefined;

/** The folder holding the transpiled `src` (import `${dir}/state/index.js`). */
export function transpiledSrc(): Promise<string> {
  built ??= (async () => {
    const out = await mkdtemp(join(tmpdir(), "stsorg-child-"));
    await writeFile(join(out, "package.json"), '{"type":"module"}\n');
    await symlink(join(ROOT, "schemas"), join(out, "schemas"));
    await symlink(join(ROOT, "node_modules"), join(out, "node_modules"));
    const src = join(ROOT, "src");
    const dist = join(out, "dist");
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        const target = join(dist, relative(src, p));
        if (e.isDirectory()) {
          await walk(p);
        } else if (e.name.endsWith(".ts")) {
          const js = ts.transpileModule(await readFile(p, "utf8"), {
            compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
            fileName: p,
          }).outputText;
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target.replace(/\.ts$/, ".js"), js);
        } else {
          await mkdir(dirname(target), { recursive: true });
          await copyFile(p, target);
        }
      }
    };
    await walk(src);
    return dist;
  })();
  return built;
}

export interface ChildRun {
  pid: number;
  /** JSON lines the child printed on stdout. */
  events: Record<string, unknown>[];
  stderr(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `test/integration/state/children/<script>` with the transpiled sources and `input` as JSON. */
export async function startChild(script: string, input: unknown): Promise<ChildRun> {
  const dist = await transpiledSrc();
  const child = spawn(process.execPath, [join(import.meta.dirname, "children", script)], {
    env: { PATH: process.env.PATH ?? "", STSORG_DIST: dist, STSORG_CHILD_INPUT: JSON.stringify(input) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events: Record<string, unknown>[] = [];
  let buf = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== "") events.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on("close", (code, signal) => res({ code, signal })));
  return { pid: child.pid!, events, stderr: () => err, done, kill: (s) => void child.kill(s) };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
