import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { diagnosticLine, hasErrors, validateEnvironment, type ValidationResult } from "../../manifest/index.js";
import type { Command } from "../command.js";
import { withEnvironment } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg validate -e ENV [--format human|json] [--offline]`
 *
 * Exit codes: 0 no errors (warnings and notes allowed); 1 at least one error.
 */

export interface ValidateArgs {
  environment: string;
  format: "human" | "json";
  offline: boolean;
}

export const VALIDATE_FORMAT_VERSION = 1;

export function parseValidateArgs(args: Record<string, unknown>): ValidateArgs {
  const environment = args["environment"];
  if (typeof environment !== "string" || environment.trim() === "") {
    throw new UsageError("-e needs an environment name or a manifest path");
  }
  const format = args["format"] ?? "human";
  if (format !== "human" && format !== "json") throw new UsageError(`--format must be human or json, not ${String(format)}`);
  return { environment, format, offline: args["offline"] === true };
}

export const validateCommand: Command = {
  command: "validate",
  describe: "Check an environment manifest: schema, CVR, stage and hosts, service agreement, secret references, certificate",
  builder: (y: Argv) =>
    withEnvironment(y)
      .option("format", { choices: ["human", "json"] as const, default: "human", describe: "Output format" })
      .option("offline", { type: "boolean", default: false, describe: "Do not open the certificate (secret references are still checked)" })
      .example("$0 validate -e test", "Check environments/test.yaml")
      .example("$0 validate -e prod --offline --format json", "Check without the certificate, as JSON"),
  handler: async (args, io) => runValidate(parseValidateArgs(args), io),
};

export async function runValidate(args: ValidateArgs, io: CliIo): Promise<number> {
  const result = await validateEnvironment(args.environment, { cwd: io.cwd, env: io.env, now: io.now(), offline: args.offline });
  io.stdout.write(args.format === "json" ? validateJson(result, args.offline) : validateHuman(result, args.offline));
  return hasErrors(result.diagnostics) ? 1 : 0;
}

/** The JSON report: a contract for tools, hence its own format version. */
export function validateJson(result: ValidationResult, offline: boolean): string {
  const counts = countBy(result);
  const out = {
    formatVersion: VALIDATE_FORMAT_VERSION,
    file: result.file,
    valid: counts.error === 0,
    offline,
    errors: counts.error,
    warnings: counts.warning,
    diagnostics: result.diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      message: d.message,
      file: d.file,
      line: d.line ?? null,
      column: d.column ?? null,
      path: d.path,
    })),
    endpoints: result.endpoints ?? null,
    certificate: result.certificate ?? null,
  };
  return JSON.stringify(out, null, 2) + "\n";
}

function countBy(result: ValidationResult): { error: number; warning: number; note: number } {
  const c = { error: 0, warning: 0, note: 0 };
  for (const d of result.diagnostics) c[d.severity]++;
  return c;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export function validateHuman(result: ValidationResult, offline: boolean): string {
  const lines: string[] = result.diagnostics.map(diagnosticLine);
  if (lines.length > 0) lines.push("");
  const e = result.endpoints;
  if (e) {
    if (e.stage === "sandbox") {
      lines.push("Stage sandbox: OS2mo and OS2sync run embedded on loopback; no KOMBIT endpoint is used.");
    } else {
      lines.push(`Stage ${e.stage}: endpoints derived from the stage`);
      const rows: [string, string | null][] = [
        ["OS2sync Environment", e.os2syncEnvironment],
        ["FK Organisation (OS2sync 4.x)", e.fkOrganisation],
        ["Serviceplatformen (OS2sync 3.x)", e.serviceplatformen],
        ["STS Administration", e.stsAdministration],
        ["FK GraphQL", e.fkGraphql],
        ["FK token", e.fkToken],
      ];
      const width = Math.max(...rows.map(([k]) => k.length)) + 2;
      for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}${v ?? ""}`);
    }
  }
  const c = result.certificate;
  if (c) {
    lines.push(`Certificate: ${c.subject}; CVR ${c.cvr ?? "none"}; valid until ${c.notAfter.slice(0, 10)} (${c.daysLeft} days)`);
  } else if (offline) {
    lines.push("Certificate: not checked (--offline).");
  }
  const counts = countBy(result);
  const summary = counts.error === 0 ? `${result.file} is valid` : `${result.file} is not valid`;
  const details = [plural(counts.error, "error"), plural(counts.warning, "warning")];
  if (counts.note > 0) details.push(plural(counts.note, "note"));
  lines.push(`${summary}: ${details.join(", ")}.`);
  return lines.join("\n") + "\n";
}
