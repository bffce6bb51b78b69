import { isAbsolute, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { buildExport, EXPORT_FORMATS, EXPORT_KINDS, renderExport, type CsvDelimiter, type ExportFormat, type ExportKind } from "../../export/index.js";
import type { RefreshMode } from "../../model/index.js";
import { withEnvironment, type Command } from "../command.js";
import { openContext } from "../context.js";
import { writeFileAtomic } from "../fsutil.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg export -e ENV [--format json|yaml|csv] [--kind units|users] [--refresh full|hierarchy|none]
 *  [--delimiter comma|semicolon] [--out FILE]`
 *
 * Prints the actual FK state read through OS2sync: units with their parent and path, users with their
 * positions. Exit codes: 0 written, 1 error.
 */

export const EXPORT_REFRESH_MODES: Exclude<RefreshMode, "fk">[] = ["hierarchy", "full", "none"];
const DELIMITERS: Record<string, CsvDelimiter> = { comma: ",", semicolon: ";" };

export interface ExportArgs {
  environment: string;
  format: ExportFormat;
  kind?: ExportKind;
  refresh: Exclude<RefreshMode, "fk">;
  delimiter: CsvDelimiter;
  out?: string;
}

export function parseExportArgs(args: Record<string, unknown>): ExportArgs {
  const format = String(args["format"] ?? "json");
  if (!(EXPORT_FORMATS as string[]).includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}, not ${format}`);
  const refresh = String(args["refresh"] ?? "hierarchy");
  if (!(EXPORT_REFRESH_MODES as string[]).includes(refresh)) {
    throw new UsageError(`--refresh must be one of ${EXPORT_REFRESH_MODES.join(", ")}, not ${refresh}`);
  }
  const kindArg = args["kind"];
  let kind: ExportKind | undefined;
  if (kindArg !== undefined) {
    if (!(EXPORT_KINDS as unknown[]).includes(kindArg)) throw new UsageError(`--kind must be units or users, not ${String(kindArg)}`);
    kind = kindArg as ExportKind;
  }
  if (format === "csv" && kind === undefined) {
    throw new UsageError("A CSV export holds one table: say which with --kind units or --kind users.", {
      hint: "e.g. stsorg export -e test --format csv --kind units --out units.csv (and again with --kind users).",
    });
  }
  const delimiterArg = String(args["delimiter"] ?? "comma");
  const delimiter = DELIMITERS[delimiterArg];
  if (delimiter === undefined) throw new UsageError(`--delimiter must be comma or semicolon, not ${delimiterArg}`);
  if (delimiterArg !== "comma" && format !== "csv") throw new UsageError("--delimiter applies to --format csv only");
  const out: ExportArgs = { environment: String(args["environment"]), format: format as ExportFormat, refresh: refresh as ExportArgs["refresh"], delimiter };
  if (kind !== undefined) out.kind = kind;
  const file = args["out"];
  if (file !== undefined) {
    if (typeof file !== "string" || file === "") throw new UsageError("--out needs a file path");
    out.out = file;
  }
  return out;
}

export const exportCommand: Command = {
  command: "export",
  describe: "Print the actual FK state (units with parent and path, users with positions) as JSON, YAML or CSV",
  builder: (y: Argv) =>
    withEnvironment(y)
      .option("format", { choices: EXPORT_FORMATS, default: "json", describe: "Output format; CSV is UTF-8 with a byte order mark" })
      .option("kind", { choices: EXPORT_KINDS, describe: "Only units or only users (required for CSV: one table per file)" })
      .option("refresh", { choices: EXPORT_REFRESH_MODES, default: "hierarchy", describe: "How to read FK (none: the state file as last recorded)" })
      .option("delimiter", { choices: Object.keys(DELIMITERS), default: "comma", describe: "CSV field separator (semicolon for Excel with Danish settings)" })
      .option("out", { alias: "o", type: "string", describe: "Write to FILE instead of standard output" })
      .example("$0 export -e test --format yaml", "Units and users of STS Organisation test")
      .example("$0 export -e prod --format csv --kind units --out units.csv", "A spreadsheet of the units")
      .example("$0 export -e prod --format csv --kind users --out users.csv", "One row per user position"),
  handler: (args, io) => runExport(parseExportArgs(args), io),
};

export async function runExport(args: ExportArgs, io: CliIo): Promise<number> {
  // Export reads FK only: no OS2mo, and no CPR hash key (no CPR value is ever exported).
  const ctx = await openContext(args.environment, io, { needsOs2mo: false, needsCprKey: false });
  let text: string;
  let counts: string;
  try {
    const state = await ctx.backend.read();
    const actual = await ctx.refresh(args.refresh, state);
    const data = buildExport(actual, {
      environment: { name: ctx.env.name, cvr: ctx.env.municipality.cvr, adminTopUuid: ctx.env.sts.adminTopUuid },
    });
    text = renderExport(data, { format: args.format, ...(args.kind !== undefined ? { kind: args.kind } : {}), delimiter: args.delimiter });
    counts = [args.kind !== "users" ? `${data.orgUnits.length} org units` : "", args.kind !== "units" ? `${data.users.length} users` : ""].filter(Boolean).join(", ");
  } finally {
    await ctx.close();
  }
  if (args.out === undefined) {
    io.stdout.write(text);
  } else {
    await writeFileAtomic(isAbsolute(args.out) ? args.out : resolve(io.cwd, args.out), text);
    io.stderr.write(`Exported ${counts} to ${args.out}.\n`);
  }
  return 0;
}
