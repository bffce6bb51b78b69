import { isAbsolute, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { generateMunicipality, readFixture, type MoFixture, type MunicipalitySize } from "../../sandbox/fixtures/index.js";
import { copenhagenDate, startOs2moSandbox } from "../../sandbox/os2mo/index.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";
import { sandboxCommand as baseSandboxCommand, sandboxServers } from "./sandbox-os2sync.js";

/**
 * `stsorg sandbox os2mo [--port N] (--fixture FILE | --size small|medium|large [--seed N])
 *  [--client-id ID] [--client-secret-env NAME] [--token-lifetime SECONDS] [--today YYYY-MM-DD]`
 *
 * Runs the OS2mo sandbox (Keycloak token endpoint + GraphQL v25) until SIGINT/SIGTERM and prints
 * where it listens and which client credentials it accepts.
 */

export interface SandboxOs2moArgs {
  port: number;
  host: string;
  fixture?: string;
  size?: MunicipalitySize;
  seed: number;
  clientId: string;
  /** Environment variable holding the client secret; absent: the sandbox's well-known default. */
  clientSecretEnv?: string;
  tokenLifetime: number;
  /** Fixes the sandbox's clock on this day (noon, Copenhagen); absent: real time. */
  today?: string;
}

const DEFAULT_SECRET = "sandbox-secret";

export function parseSandboxOs2moArgs(args: Record<string, unknown>): SandboxOs2moArgs {
  const num = (name: string, camel: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = args[camel] ?? args[name] ?? fallback;
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${String(v)}`);
    return n;
  };
  const out: SandboxOs2moArgs = {
    port: num("port", "port", 5000, 0, 65535),
    host: typeof args["host"] === "string" ? args["host"] : "127.0.0.1",
    seed: num("seed", "seed", 1, 0),
    clientId: typeof (args["clientId"] ?? args["client-id"]) === "string" ? String(args["clientId"] ?? args["client-id"]) : "stsorg",
    tokenLifetime: num("token-lifetime", "tokenLifetime", 300, 1),
  };
  const fixture = args["fixture"];
  const size = args["size"];
  if (fixture !== undefined && size !== undefined) throw new UsageError("give either --fixture FILE or --size, not both");
  if (fixture !== undefined) {
    if (typeof fixture !== "string" || fixture === "") throw new UsageError("--fixture needs the path of an OS2mo fixture JSON file");
    out.fixture = fixture;
  } else if (size !== undefined) {
    if (size !== "small" && size !== "medium" && size !== "large") throw new UsageError(`--size must be small, medium or large, not ${String(size)}`);
    out.size = size;
  } else {
    throw new UsageError("the OS2mo sandbox needs data: --fixture FILE or --size small|medium|large", {
      hint: "e.g. stsorg sandbox os2mo --port 5001 --size small",
    });
  }
  const env = args["clientSecretEnv"] ?? args["client-secret-env"];
  if (env !== undefined) {
    if (typeof env !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(env))
      throw new UsageError("--client-secret-env needs the name of an environment variable", { hint: "The secret itself is never given on the command line." });
    out.clientSecretEnv = env;
  }
  const today = args["today"];
  if (today !== undefined) {
    if (typeof today !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(today)))
      throw new UsageError(`--today must be a date yyyy-mm-dd, not ${String(today)}`);
    out.today = today;
  }
  return out;
}

export async function runSandboxOs2mo(args: SandboxOs2moArgs, io: CliIo): Promise<number> {
  let clientSecret = DEFAULT_SECRET;
  if (args.clientSecretEnv !== undefined) {
    const v = io.env[args.clientSecretEnv];
    if (v === undefined || v === "") throw new UsageError(`environment variable ${args.clientSecretEnv} (named by --client-secret-env) is not set`);
    clientSecret = v;
  }
  const today = args.today ?? copenhagenDate(io.now());
  let fixture: MoFixture;
  let source: string;
  if (args.fixture !== undefined) {
    fixture = await readFixture(isAbsolute(args.fixture) ? args.fixture : resolve(io.cwd, args.fixture));
    source = `fixture ${args.fixture}`;
  } else {
    fixture = generateMunicipality({ size: args.size ?? "small", seed: args.seed, today });
    source = `generated ${args.size ?? "small"} municipality, seed ${args.seed}, built around ${today}`;
  }
  const fixedNow = args.today === undefined ? undefined : new Date(`${args.today}T12:00:00+01:00`);
  let sandbox;
  try {
    sandbox = await startOs2moSandbox({
      fixture,
      port: args.port,
      host: args.host,
      clientId: args.clientId,
      clientSecret,
      tokenLifetimeSeconds: args.tokenLifetime,
      ...(fixedNow ? { clock: () => fixedNow } : {}),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(`port ${args.port} is already in use`, { hint: "Pick another with --port, or --port 0 for a free one." });
    throw e;
  }
  const secretText = args.clientSecretEnv === undefined ? clientSecret : `the value of $${args.clientSecretEnv}`;
  io.stdout.write(
    `OS2mo sandbox listening on ${sandbox.url}\n` +
      `  GraphQL:   ${sandbox.graphqlUrl}\n` +
      `  Keycloak:  ${sandbox.authServer} (realm ${sandbox.realm}, tokens live ${args.tokenLifetime} s)\n` +
      `  client:    id ${sandbox.clientId}, secret ${secretText}\n` +
      `  data:      ${fixture.municipality.name}, top unit ${fixture.topUnitUuid}: ${fixture.orgUnits.length} units, ` +
      `${fixture.persons.length} persons, ${fixture.engagements.length} engagements (${source})\n` +
      `  today:     ${sandbox.today()}${fixedNow ? " (fixed)" : ""}\n` +
      `  admin API: ${sandbox.url}/_sandbox  ·  stop with Ctrl-C\n`,
  );
  const signal = await new Promise<string>((done) => {
    const off = io.onSignal((s) => {
      off();
      done(s);
    });
  });
  await sandbox.stop();
  io.stderr.write(`OS2mo sandbox stopped (${signal})\n`);
  return 0;
}

sandboxServers["os2mo"] = (args, io) => runSandboxOs2mo(parseSandboxOs2moArgs(args), io);

/** The shared `sandbox <server>` command with the OS2mo server's options added. */
export const sandboxCommand: Command = {
  ...baseSandboxCommand,
  describe:
    "Run a sandbox server: os2mo (Keycloak + GraphQL v25 over a fixture) or os2sync (OS2sync REST API over a local FK store)",
  builder: (y: Argv) =>
    baseSandboxCommand
      .builder(y)
      .option("fixture", { type: "string", describe: "os2mo: OS2mo fixture JSON file to serve; up: small, medium, large or a fixture file" })
      .option("size", { type: "string", choices: ["small", "medium", "large"], describe: "os2mo: serve a generated municipality of this size" })
      .option("seed", { type: "number", default: 1, describe: "os2mo: generator seed for --size" })
      .option("client-id", { type: "string", default: "stsorg", describe: "os2mo: the Keycloak client id accepted" })
      .option("client-secret-env", { type: "string", describe: `os2mo: environment variable with the accepted secret (default "${DEFAULT_SECRET}")` })
      .option("token-lifetime", { type: "number", default: 300, describe: "os2mo: token lifetime in seconds" })
      .option("today", { type: "string", describe: "os2mo: fix the sandbox's date (yyyy-mm-dd) instead of following the clock" })
      .example("$0 sandbox os2mo --port 5001 --fixture municipality.json", "Serve OS2mo at http://127.0.0.1:5001 (GraphQL /graphql/v25, Keycloak /auth)"),
};
