import yargs from "yargs";
import { exitCodeFor, formatError, isStsorgError, UsageError } from "../errors/index.js";
import type { Command } from "./command.js";
import { commandsFor } from "./commands.js";
import { defaultIo, type CliIo } from "./io.js";
import { TOOL_VERSION } from "./version.js";

/**
 * Parses argv, runs one command, returns its exit code. All errors end here: user errors are printed
 * as one clear paragraph (no stack), anything else as an internal error with its stack.
 */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let result: Promise<number> | undefined;
  const parser = yargs(argv)
    .scriptName("stsorg")
    .usage("$0 <command> [options]\n\nKeeps STS/FK Organisation equal to OS2mo through OS2sync: plan, review, apply.")
    .version(TOOL_VERSION)
    .strict()
    .demandCommand(1, "Name a command; see stsorg --help.")
    .recommendCommands()
    .wrap(Math.min(110, io.stdout.columns ?? 100))
    .exitProcess(false)
    // Throwing stops yargs before it runs the command's handler: a mistyped option must not let an
    // apply go ahead and then report an error.
    .fail((msg, err) => {
      if (err) throw err;
      const typed = argv.find((a) => !a.startsWith("-"));
      const message = /^Did you mean/.test(msg) && typed !== undefined ? `Unknown command "${typed}". ${msg}` : withoutCamelCaseTwins(msg);
      throw new UsageError(message, { hint: "Run `stsorg --help` for usage." });
    })
    .option("no-color", { type: "boolean", describe: "Never colour output (NO_COLOR and FORCE_COLOR are respected too)" })
    // yargs reads `--no-color` as `color: false` (boolean negation); declared so that strict mode accepts it.
    .option("color", { type: "boolean", hidden: true });
  for (const c of await commandsFor(argv)) register(parser, c, io, (p) => (result = p));
  let helpOrVersion = "";
  try {
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) helpOrVersion = output;
    });
  } catch (e) {
    io.stderr.write(formatError(e) + "\n");
    return exitCodeFor(e);
  }
  if (helpOrVersion) io.stdout.write(helpOrVersion + "\n");
  if (!result) return 0;
  try {
    return await result;
  } catch (e) {
    io.stderr.write(formatError(e) + "\n");
    if (!isStsorgError(e)) return 1;
    return exitCodeFor(e);
  }
}

function register(parser: ReturnType<typeof yargs>, c: Command, io: CliIo, setResult: (p: Promise<number>) => void): void {
  parser.command(
    c.command,
    c.describe,
    (y) => c.builder(y),
    (args) => {
      // The handler's promise is awaited by run(), outside yargs, so its errors are formatted once.
      const p = c.handler(args as Record<string, unknown>, io);
      p.catch(() => undefined);
      setResult(p);
    },
  );
}

/**
 * yargs names an unknown dashed option twice, as typed and camel-cased ("Unknown arguments: auto-aprove,
 * autoAprove"); the user typed one.
 */
function withoutCamelCaseTwins(msg: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return msg;
  const names = m[1]!.split(", ");
  const camel = new Set(names.filter((n) => n.includes("-")).map((n) => n.replace(/-+([^-])/g, (_, c: string) => c.toUpperCase())));
  const kept = names.filter((n) => n.includes("-") || !camel.has(n));
  return `Unknown argument${kept.length === 1 ? "" : "s"}: ${kept.join(", ")}`;
}
