import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { loadEnvironment, renderInfoFile, renderOs2syncConfig } from "../../manifest/index.js";
import type { Command } from "../command.js";
import { withEnvironment } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg render os2sync-config -e ENV` and `stsorg render info-file -e ENV`: files other tools need,
 * derived from the manifest, on stdout. Secrets appear only as placeholders naming their references.
 */

export const RENDER_TARGETS = ["os2sync-config", "info-file"] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

export interface RenderArgs {
  target: RenderTarget;
  environment: string;
}

export function parseRenderArgs(args: Record<string, unknown>): RenderArgs {
  const target = args["target"];
  if (!RENDER_TARGETS.includes(target as RenderTarget)) {
    throw new UsageError(`render knows ${RENDER_TARGETS.join(" and ")}, not ${String(target)}`);
  }
  const environment = args["environment"];
  if (typeof environment !== "string" || environment.trim() === "") throw new UsageError("-e needs an environment name or a manifest path");
  return { target: target as RenderTarget, environment };
}

export const renderCommand: Command = {
  command: "render <target>",
  describe: "Render OS2sync's appsettings.json (os2sync-config) or the seed guide's info-sp-sts-org.txt (info-file) from a manifest",
  builder: (y: Argv) =>
    withEnvironment(y)
      .positional("target", { choices: RENDER_TARGETS, describe: "What to render" })
      .example("$0 render os2sync-config -e prod > appsettings.json", "OS2sync configuration, secrets as placeholders")
      .example("$0 render info-file -e test > info-sp-sts-org.txt", "KEY=VALUE file with the agreement's UUIDs"),
  handler: async (args, io) => runRender(parseRenderArgs(args), io),
};

export async function runRender(args: RenderArgs, io: CliIo): Promise<number> {
  const env = await loadEnvironment(args.environment, { cwd: io.cwd, env: io.env, now: io.now() });
  io.stdout.write(args.target === "os2sync-config" ? renderOs2syncConfig(env) : renderInfoFile(env));
  return 0;
}
