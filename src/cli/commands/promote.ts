import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import type { Argv } from "yargs";
import { ManifestError, UsageError } from "../../errors/index.js";
import { loadEnvironment, manifestPathFor, type LoadOptions } from "../../manifest/index.js";
import { promoteManifest, promotionDiff, promotionReport, type PromotionResult } from "../../promote/index.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg promote --from test --to prod [--write | --check]`
 *
 * Exit codes: 0 done (or, with --check, the target is current); 1 refused or an error; 2 with --check
 * when promotion would change the target.
 */

export interface PromoteArgs {
  from: string;
  to: string;
  mode: "show" | "write" | "check";
}

export function parsePromoteArgs(args: Record<string, unknown>): PromoteArgs {
  const from = args["from"];
  const to = args["to"];
  if (typeof from !== "string" || from.trim() === "") throw new UsageError("--from needs an environment name or a manifest path");
  if (typeof to !== "string" || to.trim() === "") throw new UsageError("--to needs an environment name or a manifest path");
  const write = args["write"] === true;
  const check = args["check"] === true;
  if (write && check) {
    throw new UsageError("--write and --check cannot be combined", {
      hint: "Use --check in CI to see whether the target is current, --write to update it.",
    });
  }
  return { from, to, mode: write ? "write" : check ? "check" : "show" };
}

export const promoteCommand: Command = {
  command: "promote",
  describe:
    "Carry the portable policy (sync, safety, the agreement's services and roles) from one environment's manifest to another's; prints the change as a diff",
  builder: (y: Argv) =>
    y
      .option("from", {
        type: "string",
        demandOption: true,
        describe: "Source environment name (environments/NAME.yaml) or manifest path",
      })
      .option("to", {
        type: "string",
        demandOption: true,
        describe: "Target environment name (environments/NAME.yaml) or manifest path; its own uuids, hosts and secrets are kept",
      })
      .option("write", { type: "boolean", default: false, describe: "Write the promoted target manifest" })
      .option("check", {
        type: "boolean",
        default: false,
        describe: "Exit 2 when promotion would change the target, 0 when it is current (for CI)",
      })
      .example("$0 promote --from test --to prod", "Show what promotion would change in environments/prod.yaml")
      .example("$0 promote --from test --to prod --write", "Write it"),
  handler: async (args, io) => runPromote(parsePromoteArgs(args), io),
};

export async function runPromote(args: PromoteArgs, io: CliIo): Promise<number> {
  const fromFile = manifestPathFor(args.from, io.cwd);
  const toFile = manifestPathFor(args.to, io.cwd);
  const source = readManifest(fromFile, io.cwd);
  const target = readManifest(toFile, io.cwd);
  if (source.real === target.real) {
    throw new UsageError(`--from and --to name the same manifest (${source.shown})`, {
      hint: "Promote from one environment to another, e.g. --from test --to prod.",
    });
  }
  const load: LoadOptions = { cwd: io.cwd, env: io.env, now: io.now() };
  // Both must be valid manifests (schema and semantic checks, no secrets needed): promoting from or
  // into a broken manifest would hide the problem inside a diff.
  await loadEnvironment(fromFile, load);
  await loadEnvironment(toFile, load);
  const result = promoteManifest({ file: source.shown, text: source.text }, { file: target.shown, text: target.text });
  const view = promoteView(io);
  if (result.refused) {
    view.refused(result);
    return 1;
  }
  if (result.changed) await checkPromoted(result, load);
  view.result(result);
  switch (args.mode) {
    case "check":
      view.checked(result);
      return result.changed ? 2 : 0;
    case "write":
      if (result.changed) writeAtomically(target.real, result.after, target.shown);
      view.written(result);
      return 0;
    case "show":
      view.shown(result);
      return 0;
  }
}

/**
 * The promoted target must itself be a valid manifest: two valid inputs can still combine into an
 * invalid one (the source turns on syncCpr, the target has no cprHashKey of its own).
 */
async function checkPromoted(result: PromotionResult, load: LoadOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-promote-"));
  const file = join(dir, basename(result.target));
  try {
    writeFileSync(file, result.after);
    await loadEnvironment(file, load);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    const shown = `${result.target} (as promoted)`;
    throw new ManifestError(`promotion would make an invalid manifest: ${e.message.split(file).join(shown)}`, {
      file: e.file === undefined ? undefined : shown,
      hint: `Nothing written. Give ${result.target} what the promoted policy needs (e.g. its own sync.cprHashKey when syncCpr is on), or fix ${result.source}.`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ReadManifest {
  /** Path as shown to the user: relative to the working directory when inside it. */
  shown: string;
  /** Resolved path (symlinks followed), where a write goes. */
  real: string;
  text: string;
}

function readManifest(file: string, cwd: string): ReadManifest {
  const rel = relative(cwd, file);
  const shown = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split("\\").join("/") : file;
  try {
    if (statSync(file).isDirectory()) {
      throw new ManifestError(`${shown} is a directory, not a manifest file`, {
        file: shown,
        hint: "Pass an environment name (environments/NAME.yaml) or the path of a .yaml file.",
      });
    }
    const bytes = readFileSync(file);
    if (bytes.includes(0)) throw new ManifestError(`${shown} is not a text file`, { file: shown });
    return { shown, real: realpathSync(file), text: bytes.toString("utf8") };
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestError(
      code === "ENOENT" ? `manifest ${shown} does not exist` : `manifest ${shown} cannot be read (${code ?? "unknown error"})`,
      { file: shown, hint: code === "ENOENT" ? "Check the environment name or path." : undefined },
    );
  }
}

/** Temp file beside the target, then rename: a reader never sees half a manifest. */
function writeAtomically(file: string, text: string, shown: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: statSync(file).mode & 0o777 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestError(`cannot write ${shown} (${code ?? "unknown error"})`, {
      file: shown,
      hint: "Check that the file and its folder are writable.",
      cause: e,
    });
  }
}

/** The diff goes to stdout (so it can be piped to `git apply`), everything a person reads to stderr. */
function promoteView(io: CliIo) {
  return {
    refused(r: PromotionResult): void {
      io.stderr.write(promotionReport(r));
      io.stderr.write(`Error: nothing written; ${r.target} is unchanged.\n`);
    },
    result(r: PromotionResult): void {
      io.stdout.write(promotionDiff(r));
      const report = promotionReport(r);
      if (report) io.stderr.write((r.changed ? "\n" : "") + report);
    },
    checked(r: PromotionResult): void {
      io.stderr.write(
        r.changed
          ? `\n${r.target} is not current with ${r.source}: run \`stsorg promote --from ${r.source} --to ${r.target} --write\`.\n`
          : `${r.target} is current with ${r.source}.\n`,
      );
    },
    written(r: PromotionResult): void {
      io.stderr.write(r.changed ? `\nWrote ${r.target}.\n` : `No changes: ${r.target} is current with ${r.source}.\n`);
    },
    shown(r: PromotionResult): void {
      io.stderr.write(
        r.changed
          ? `\nNot written: run again with --write to update ${r.target}.\n`
          : `No changes: ${r.target} is current with ${r.source}.\n`,
      );
    },
  };
}
