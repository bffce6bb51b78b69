import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Repository root (tests run with it as cwd). */
export const ROOT = resolve(import.meta.dirname, "../..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/**
 * End-to-end tests run the real launcher (bin/stsorg → dist/). Rebuild dist/ when src/ is newer, so a
 * test never runs yesterday's build.
 */
export function ensureBuilt(): void {
  const stamp = join(ROOT, "dist", "cli", "main.js");
  const fresh = () => existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(join(ROOT, "src"));
  if (fresh()) return;
  // Test files run in parallel workers: one builds while the others wait, so no child process ever
  // loads a dist/ that another build is halfway through rewriting.
  const lock = join(tmpdir(), `stsorg-e2e-build-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}.lock`);
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held === undefined) continue;
      // A lock older than any build is left by a killed test run.
      if (Date.now() - held.mtimeMs > 300_000 || Date.now() - started > 300_000) {
        try {
          rmdirSync(lock);
        } catch {
          // another waiter removed it first
        }
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!fresh()) execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "pipe" });
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `stsorg ARGS` as a child process with a clean environment plus `env`. */
export function stsorg(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "stsorg"), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}
