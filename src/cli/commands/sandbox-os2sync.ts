import { isAbsolute, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { startOs2syncSandbox } from "../../sandbox/os2sync/index.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg sandbox os2sync [--port N] [--data FILE] [--cvr CVR] [--api-key-env NAME] …`
 *
 * Runs the sandbox OS2sync until SIGINT/SIGTERM, then saves its FK store and exits 0.
 *
 * yargs takes only the first word of a command string, so every sandbox server shares one
 * `sandbox <server>` command: a server is added by putting its runner in `sandboxServers`.
 */

export type SandboxServerRunner = (args: Record<string, unknown>, io: CliIo) => Promise<number>;

export const sandboxServers: Record<string, SandboxServerRunner> = {
  os2sync: (args, io) => runSandboxOs2sync(parseSandboxOs2syncArgs(args), io),
};

export interface SandboxOs2syncArgs {
  port: number;
  host: string;
  data?: string;
  cvr?: string;
  apiKeyEnv?: string;
  queueDelayMs: number;
  queueIntervalMs: number;
  hierarchyDelayMs: number;
}

function int(args: Record<string, unknown>, name: string, camel: string, fallback: number, min: number): number {
  const v = args[camel] ?? args[name] ?? fallback;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not ${String(v)}`);
  return n;
}

export function parseSandboxOs2syncArgs(args: Record<string, unknown>): SandboxOs2syncArgs {
  const port = int(args, "port", "port", 5000, 0);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const out: SandboxOs2syncArgs = {
    port,
    host: typeof args["host"] === "string" ? args["host"] : "127.0.0.1",
    queueDelayMs: int(args, "queue-delay-ms", "queueDelayMs", 1000, 0),
    queueIntervalMs: int(args, "queue-interval-ms", "queueIntervalMs", 1000, 1),
    hierarchyDelayMs: int(args, "hierarchy-delay-ms", "hierarchyDelayMs", 1000, 0),
  };
  const data = args["data"];
  if (data !== undefined) {
    if (typeof data !== "string" || data === "") throw new UsageError("--data needs a file path");
    out.data = data;
  }
  const cvr = args["cvr"];
  if (cvr !== undefined) {
    if (typeof cvr !== "string" && typeof cvr !== "number") throw new UsageError("--cvr needs an 8-digit CVR number");
    if (!/^\d{8}$/.test(String(cvr))) throw new UsageError(`--cvr must be 8 digits, not ${String(cvr)}`);
    out.cvr = String(cvr);
  }
  const apiKeyEnv = args["apiKeyEnv"] ?? args["api-key-env"];
  if (apiKeyEnv !== undefined) {
    if (typeof apiKeyEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv)) {
      throw new UsageError("--api-key-env needs the name of an environment variable", { hint: "The key itself is never given on the command line." });
    }
    out.apiKeyEnv = apiKeyEnv;
  }
  return out;
}

export const sandboxCommand: Command = {
  command: "sandbox <server>",
  describe: "Run a sandbox server: os2sync (OS2sync REST API, queue and hierarchy jobs over a local FK store)",
  builder: (y: Argv) =>
    y
      .positional("server", { type: "string", choices: Object.keys(sandboxServers), describe: "Which server to run" })
      .option("port", { type: "number", default: 5000, describe: "Port to listen on (0 picks a free one)" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "Address to listen on" })
      .option("data", { type: "string", describe: "os2sync: FK store JSON file, shared by runs (in memory when absent); up: folder for os2mo.json and fk.json" })
      .option("cvr", { type: "string", describe: "OS2sync's configured Cvr: requests must send this cvr header" })
      .option("api-key-env", { type: "string", describe: "Environment variable holding OS2sync's ApiKey (requests must send it)" })
      .option("queue-delay-ms", { type: "number", default: 1000, describe: "How long a queued write waits before it is applied" })
      .option("queue-interval-ms", { type: "number", default: 1000, describe: "How often the queue is drained" })
      .option("hierarchy-delay-ms", { type: "number", default: 1000, describe: "How long a hierarchy job takes" })
      .example("$0 sandbox os2sync --port 5000 --data .stsorg/fk.json --cvr 29189846", "Serve http://127.0.0.1:5000/api"),
  handler: async (args, io) => {
    const server = String(args["server"]);
    const runner = sandboxServers[server];
    if (!runner) throw new UsageError(`unknown sandbox server ${server}`, { hint: `Choose one of: ${Object.keys(sandboxServers).join(", ")}` });
    return runner(args, io);
  },
};

export async function runSandboxOs2sync(args: SandboxOs2syncArgs, io: CliIo): Promise<number> {
  let apiKey: string | undefined;
  if (args.apiKeyEnv !== undefined) {
    apiKey = io.env[args.apiKeyEnv];
    if (apiKey === undefined || apiKey === "") {
      throw new UsageError(`environment variable ${args.apiKeyEnv} (named by --api-key-env) is not set`);
    }
  }
  const dataFile = args.data === undefined ? undefined : isAbsolute(args.data) ? args.data : resolve(io.cwd, args.data);
  let sandbox;
  try {
    sandbox = await startOs2syncSandbox({
      port: args.port,
      host: args.host,
      cvr: args.cvr,
      apiKey,
      dataFile,
      queueDelayMs: args.queueDelayMs,
      queueIntervalMs: args.queueIntervalMs,
      hierarchyDelayMs: args.hierarchyDelayMs,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${args.port} is already in use`, { hint: "Pick another with --port, or --port 0 for a free one." });
    if (e instanceof Error && /data file/.test(e.message)) throw new UsageError(e.message, { file: args.data, hint: "Move the file away to start from an empty FK." });
    throw e;
  }
  const counts = sandbox.store.counts();
  io.stdout.write(
    `OS2sync sandbox listening on ${sandbox.url}\n` +
      `  FK: ${counts.activeOrgUnits} org units, ${counts.activeUsers} users${dataFile ? ` (data file ${args.data})` : " (in memory)"}\n` +
      `  admin API: ${sandbox.origin}/_sandbox/  ·  stop with Ctrl-C\n`,
  );
  const signal = await new Promise<string>((resolveSignal) => {
    const off = io.onSignal((s) => {
      off();
      resolveSignal(s);
    });
  });
  await sandbox.stop();
  io.stderr.write(`OS2sync sandbox stopped (${signal})${dataFile ? `; FK saved to ${args.data}` : ""}\n`);
  return 0;
}
