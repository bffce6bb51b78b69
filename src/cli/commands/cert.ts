import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Argv } from "yargs";
import { inspectCertificate, type CertificateInfo } from "../../cert/index.js";
import { CertificateError, UsageError } from "../../errors/index.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg cert inspect FILE [--password-env NAME] [--format human|json]`
 *
 * Exit codes: 0 the certificate is usable; 1 wrong password, unreadable file, expired, not yet valid,
 * or a private key that does not match.
 */

export interface CertInspectArgs {
  file: string;
  passwordEnv?: string;
  format: "human" | "json";
}

export function parseCertInspectArgs(args: Record<string, unknown>): CertInspectArgs {
  const file = args["file"];
  if (typeof file !== "string" || file === "") throw new UsageError("cert inspect needs the path of a .pfx/.p12 file");
  const format = args["format"] ?? "human";
  if (format !== "human" && format !== "json") throw new UsageError(`--format must be human or json, not ${String(format)}`);
  const passwordEnv = args["passwordEnv"] ?? args["password-env"];
  if (passwordEnv !== undefined && (typeof passwordEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv))) {
    throw new UsageError("--password-env needs the name of an environment variable, e.g. --password-env STSORG_FOCES_PASSWORD", {
      hint: "The password itself is never given on the command line.",
    });
  }
  const out: CertInspectArgs = { file, format };
  if (typeof passwordEnv === "string") out.passwordEnv = passwordEnv;
  return out;
}

export const certCommand: Command = {
  command: "cert <action> <file>",
  describe: "Inspect an organisation certificate: stsorg cert inspect FILE (FOCES / OCES3 PKCS#12)",
  builder: (y: Argv) =>
    y
      .positional("action", { choices: ["inspect"] as const, describe: "inspect: show subject, issuer, validity, SHA-256, key match and CVR" })
      .positional("file", { type: "string", describe: "The .pfx/.p12 file" })
      .option("password-env", { type: "string", describe: "Environment variable holding the file's password" })
      .option("format", { choices: ["human", "json"] as const, default: "human", describe: "Output format" })
      .example("$0 cert inspect /opt/info/OSMO-SP/OS2MO_FOCES.pfx --password-env STSORG_FOCES_PASSWORD", "Check the certificate before it goes into a manifest"),
  handler: async (args, io) => {
    if (args["action"] !== "inspect") throw new UsageError(`unknown cert action ${String(args["action"])}`, { hint: "Use: stsorg cert inspect FILE" });
    return runCertInspect(parseCertInspectArgs(args), io);
  },
};

export async function runCertInspect(args: CertInspectArgs, io: CliIo): Promise<number> {
  let password = "";
  if (args.passwordEnv !== undefined) {
    const v = io.env[args.passwordEnv];
    if (v === undefined) {
      throw new UsageError(`environment variable ${args.passwordEnv} (named by --password-env) is not set`, {
        hint: `Set ${args.passwordEnv} to the certificate's password.`,
      });
    }
    password = v;
  }
  const file = isAbsolute(args.file) ? args.file : resolve(io.cwd, args.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? "error"})`;
    throw new CertificateError(`the certificate file ${why}`, {
      file: args.file,
      hint: "Give the path of the organisation certificate (FOCES/OCES3, .p12 or .pfx) exported with its private key.",
    });
  }
  const info = inspectCertificate(bytes, password, io.now(), args.file);
  io.stdout.write(args.format === "json" ? certJson(info) : certHuman(args.file, info));
  return info.problems.length > 0 ? 1 : 0;
}

export function certJson(info: CertificateInfo): string {
  return JSON.stringify(info, null, 2) + "\n";
}

export function certHuman(file: string, info: CertificateInfo): string {
  const rows: [string, string][] = [
    ["Subject", info.subject],
    ["Issuer", info.issuer],
    ["Serial number", info.serialNumber],
    ["Not before", info.notBefore],
    ["Not after", info.notAfter],
    ["Days left", String(info.daysLeft)],
    ["SHA-256", info.sha256Fingerprint],
    ["Key matches", info.keyMatchesCertificate ? "yes" : "no"],
    ["CVR", info.cvr ?? "none found in the subject"],
  ];
  const lines = [`Certificate ${file}`, ...rows.map(([k, v]) => `  ${(k + ":").padEnd(15)}${v}`)];
  if (info.problems.length > 0) {
    lines.push("", ...info.problems.map((p) => `error: ${p}`));
  } else {
    lines.push("", "The certificate is valid now and matches its private key.");
  }
  return lines.join("\n") + "\n";
}
