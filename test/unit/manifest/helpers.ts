import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run } from "../../../src/cli/main.js";
import { memoryIo } from "../../../src/cli/io.js";

export const FIXTURE = readFileSync(new URL("../../fixtures/manifests/valid-test.yaml", import.meta.url), "utf8");
export const REPO = new URL("../../../", import.meta.url).pathname;
export const NOW = new Date("2026-03-01T09:00:00Z");

/** Secret values the fixture's references resolve to; tests assert they never appear in output. */
export const SECRETS = { FIXTURE_CERT_PASSWORD: "cert-pw-Æ1", FIXTURE_MO_SECRET: "mo-secret-value-77" };
export const FILE_SECRET = "os2sync-api-key-value-42";

const made: string[] = [];

/** A project folder with environments/<name>.yaml and the file secret the fixture refers to. */
export function project(manifests: Record<string, string | Buffer>, extra: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-manifest-"));
  made.push(dir);
  const files: Record<string, string | Buffer> = { "secrets/os2sync-apikey": FILE_SECRET + "\n", ...extra };
  for (const [name, text] of Object.entries(manifests)) files[`environments/${name}.yaml`] = text;
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Replaces one exact piece of the fixture; fails loudly when the piece is not there (a stale test). */
export function change(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** 1-based line of the first occurrence of `needle` (after `after`, when given). */
export function lineOf(text: string, needle: string, after?: string): number {
  const start = after === undefined ? 0 : text.indexOf(after);
  const i = text.indexOf(needle, start < 0 ? 0 : start);
  if (i < 0) throw new Error(`text does not contain ${JSON.stringify(needle)}`);
  return text.slice(0, i).split("\n").length;
}

/** 1-based column of `needle` in its line. */
export function columnOf(text: string, needle: string, after?: string): number {
  const start = after === undefined ? 0 : text.indexOf(after);
  const i = text.indexOf(needle, start < 0 ? 0 : start);
  return i - text.lastIndexOf("\n", i - 1);
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cli(argv: string[], opts: { cwd: string; env?: Record<string, string | undefined>; now?: Date }): Promise<CliResult> {
  const io = memoryIo({ cwd: opts.cwd, env: opts.env ?? { ...SECRETS }, now: () => opts.now ?? NOW });
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err() };
}

export interface JsonDiagnostic {
  severity: string;
  code: string;
  message: string;
  file: string;
  line: number | null;
  column: number | null;
  path: string;
}

/** Validates one manifest text (offline, JSON output) and returns the exit code and diagnostics. */
export async function validateText(
  text: string,
  opts: { env?: Record<string, string | undefined>; now?: Date; offline?: boolean } = {},
): Promise<{ code: number; diagnostics: JsonDiagnostic[]; out: string; err: string }> {
  const cwd = project({ x: text });
  const argv = ["validate", "-e", "x", "--format", "json"];
  if (opts.offline !== false) argv.push("--offline");
  const r = await cli(argv, { cwd, env: opts.env, now: opts.now });
  const parsed = JSON.parse(r.out) as { diagnostics: JsonDiagnostic[] };
  return { code: r.code, diagnostics: parsed.diagnostics, out: r.out, err: r.err };
}
