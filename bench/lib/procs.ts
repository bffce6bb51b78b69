import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * Child processes of the benchmark: the sandbox servers (each in its own process, so the measured
 * CLI's memory is its own) and the measured commands.
 */

export interface Server {
  /** The first URL the server printed (`… listening on URL`). */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node ARGS` and resolves once it prints "listening on URL". */
export function startServer(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile?: string; timeoutMs?: number }): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start within ${opts.timeoutMs ?? 120_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 120_000);
    const onData = (d: Buffer) => {
      out += d.toString("utf8");
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ url: m[1]!, pid: child.pid!, stop: () => stopChild(child) });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGINT");
  });
}

export interface Measured {
  exitCode: number | null;
  wallMs: number;
  userMs: number;
  sysMs: number;
  /** Peak resident set size of the measured process, in MiB. */
  maxRssMb: number;
  stdout: string;
  stderr: string;
}

export type Meter = "gnu-time" | "probe";

/**
 * GNU time (`/usr/bin/time -f`) reports the child's own user/sys time and peak RSS from wait4(); where it
 * is missing, a preloaded probe writes process.resourceUsage() when the process exits (same figures,
 * taken from inside).
 */
export function detectMeter(): Meter {
  if (!existsSync("/usr/bin/time")) return "probe";
  const r = spawnSync("/usr/bin/time", ["-f", "%M", "true"], { encoding: "utf8" });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr) ? "gnu-time" : "probe";
}

/** Runs `node NODE_ARGS…` as a child and measures it. */
export function runMeasured(
  nodeArgs: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; meter: Meter; probe: string; scratch: string; timeoutMs?: number },
): Promise<Measured> {
  const statFile = join(opts.scratch, `rusage-${process.pid}-${Date.now()}.txt`);
  rmSync(statFile, { force: true });
  const [cmd, args, env] =
    opts.meter === "gnu-time"
      ? ["/usr/bin/time", ["-f", "%e %U %S %M", "-o", statFile, process.execPath, ...nodeArgs], opts.env]
      : [process.execPath, ["--import", opts.probe, ...nodeArgs], { ...opts.env, STSORG_BENCH_RUSAGE_FILE: statFile }];
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 3_600_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      let userMs = NaN;
      let sysMs = NaN;
      let maxRssMb = NaN;
      if (existsSync(statFile)) {
        const text = readFileSync(statFile, "utf8");
        rmSync(statFile, { force: true });
        if (opts.meter === "gnu-time") {
          // GNU time prefixes "Command exited with non-zero status N" on its own line.
          const m = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+) (\d+)\s*$/.exec(text);
          if (m) {
            userMs = Number(m[2]) * 1000;
            sysMs = Number(m[3]) * 1000;
            maxRssMb = Number(m[4]) / 1024;
          }
        } else {
          const u = JSON.parse(text) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
          userMs = u.userCPUTime / 1000;
          sysMs = u.systemCPUTime / 1000;
          maxRssMb = u.maxRSS / 1024;
        }
      }
      resolve({ exitCode: code, wallMs, userMs, sysMs, maxRssMb, stdout, stderr });
    });
  });
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/PID/stat; undefined where there is
 * no /proc (the sandboxes' CPU is then left out of the report).
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;
