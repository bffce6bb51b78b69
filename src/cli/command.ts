import type { Argv } from "yargs";
import type { CliIo } from "./io.js";

/**
 * A command: yargs builder for its arguments and a handler that returns an exit code. Handlers never
 * print directly (they hand results to a view bound to `io`) and never call process.exit.
 */
export interface Command {
  /** yargs command string, e.g. `validate` or `cert inspect <file>`. */
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  handler: (args: Record<string, unknown>, io: CliIo) => Promise<number>;
}

/** Options every environment-bound command takes. */
export function withEnvironment(y: Argv): Argv {
  return y.option("environment", {
    alias: "e",
    type: "string",
    demandOption: true,
    describe: "Environment name (environments/NAME.yaml) or a manifest path",
  });
}
