import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { inspectCertificate, CERT_WARNING_DAYS, type CertificateInfo } from "../cert/index.js";
import { isStsorgError, ManifestError } from "../errors/index.js";
import { formatPath, hasErrors, sortDiagnostics, type Diagnostic, type DocPath, type Finding } from "./diagnostics.js";
import { endpointsFor, type StageEndpoints } from "./endpoints.js";
import { toEnvironment } from "./normalise.js";
import { schemaFindings } from "./schema.js";
import { parseSecretRef, resolveSecret } from "./secrets.js";
import { semanticFindings } from "./semantic.js";
import { parseManifest, positionOf, readManifestBytes, stringScalars, type ManifestSource } from "./source.js";
import type { Environment, Stage } from "./types.js";

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  now: Date;
  /**
   * Secrets the command will use (by what they are for, e.g. "OS2mo client secret"): each must resolve,
   * or loading fails at once with the reference's file:line, before anything is contacted.
   */
  secrets?: (env: Environment) => readonly SecretUse[];
}

export type SecretUse = (typeof SECRET_PATHS)[number]["what"];

export interface ValidateOptions extends LoadOptions {
  /** Skip opening the certificate (no file or password needed). Secret references are still resolved. */
  offline?: boolean;
}

export interface ValidationResult {
  /** The manifest as shown to the user (relative to cwd when inside it). */
  file: string;
  /** Sorted by position in the file. */
  diagnostics: Diagnostic[];
  /** Present when there are no errors. */
  environment?: Environment;
  /** What the stage implies, when the stage is known. */
  endpoints?: StageEndpoints;
  /** The certificate as inspected (not with --offline). */
  certificate?: CertificateInfo;
}

/** Paths whose value is a secret reference, and what each secret is for (used in messages). */
const SECRET_PATHS = [
  { path: ["spec", "certificate", "password"], what: "certificate password" },
  { path: ["spec", "os2mo", "auth", "clientSecret"], what: "OS2mo client secret" },
  { path: ["spec", "os2sync", "apiKey"], what: "OS2sync api key" },
  { path: ["spec", "sync", "cprHashKey"], what: "CPR hash key" },
  { path: ["spec", "state", "postgres", "url"], what: "PostgreSQL URL" },
  { path: ["spec", "state", "http", "password"], what: "state server password" },
  { path: ["spec", "state", "http", "token"], what: "state server token" },
] as const satisfies readonly { path: DocPath; what: string }[];

/** Resolves the secret references at the given uses; a diagnostic for each that does not resolve. */
async function secretFindings(
  source: ManifestSource,
  env: Record<string, string | undefined>,
  uses: readonly SecretUse[],
  resolved?: Map<string, string>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const { path, what } of SECRET_PATHS) {
    if (!uses.includes(what)) continue;
    const raw = valueAt(source.value, path);
    if (typeof raw !== "string") continue;
    const ref = parseSecretRef(raw);
    if (!ref) continue;
    try {
      const value = await resolveSecret(ref, { env, baseDir: source.baseDir });
      resolved?.set(formatPath(path), value);
    } catch (e) {
      if (!isStsorgError(e)) throw e;
      findings.push({ severity: "error", code: "secret.unresolved", message: `${what}: ${e.message}`, at: [...path] });
    }
  }
  return findings;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

function valueAt(root: unknown, path: DocPath): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[String(seg)];
  }
  return v;
}

function locate(source: ManifestSource, shown: string, f: Finding): Diagnostic {
  const pos = positionOf(source, f.at, f.atKey ?? false);
  return { severity: f.severity, code: f.code, message: f.message, file: shown, line: pos.line, column: pos.column, path: formatPath(f.at) };
}

interface Parsed {
  shown: string;
  source?: ManifestSource;
  diagnostics: Diagnostic[];
}

function readAndParse(nameOrPath: string, cwd: string): Parsed {
  let file = nameOrPath;
  try {
    const read = readManifestBytes(nameOrPath, cwd);
    file = read.file;
    const { source, yamlErrors } = parseManifest(read.file, read.bytes);
    const shown = displayPath(read.file, cwd);
    const diagnostics = yamlErrors.map<Diagnostic>((e) => ({ severity: "error", code: e.code, message: e.message, file: shown, line: e.line, column: e.column, path: "" }));
    return { shown, source, diagnostics };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    const shown = displayPath(e.file ?? file, cwd);
    return {
      shown,
      diagnostics: [{ severity: "error", code: "manifest.read", message: e.hint ? `${e.message}. ${e.hint}` : e.message, file: shown, path: "" }],
    };
  }
}

/** Schema and semantic checks; no secrets, no files other than the manifest. */
function checkDocument(source: ManifestSource, shown: string, now: Date): Diagnostic[] {
  const findings = [...schemaFindings(source.value), ...semanticFindings(source.value, stringScalars(source), now)];
  findings.push(...testUuidFindings(source));
  return findings.map((f) => locate(source, shown, f));
}

/** Fields whose uuid identifies one KOMBIT environment: the seed guide's "test and prod UUIDs differ". */
export const ENVIRONMENT_UUID_FIELDS = [
  { path: ["spec", "municipality", "uuid"], what: "municipality uuid" },
  { path: ["spec", "serviceAgreement", "uuid"], what: "service agreement uuid" },
  { path: ["spec", "serviceAgreement", "itSystemUuid"], what: "IT system uuid" },
  { path: ["spec", "sts", "adminTopUuid"], what: "STS top unit uuid" },
] as const satisfies readonly { path: DocPath; what: string }[];

/**
 * A prod manifest that carries a uuid of a test manifest next to it (one copied from test.yaml and not
 * finished): each such field is an error, naming the test manifest. Files that cannot be read or parsed
 * are passed over; `validate` of those reports them.
 */
function testUuidFindings(source: ManifestSource): Finding[] {
  if (valueAt(source.value, ["spec", "stage"]) !== "prod") return [];
  const dir = dirname(source.file);
  const testUuids = new Map<string, { file: string; what: string }>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n) && join(dir, n) !== source.file).sort();
  } catch {
    return [];
  }
  for (const name of names) {
    let value: unknown;
    try {
      value = parseYaml(readFileSync(join(dir, name), "utf8"));
    } catch {
      continue;
    }
    if (valueAt(value, ["spec", "stage"]) !== "test") continue;
    for (const { path, what } of ENVIRONMENT_UUID_FIELDS) {
      const uuid = valueAt(value, path);
      if (typeof uuid === "string") testUuids.set(uuid.toLowerCase(), { file: name, what });
    }
  }
  const findings: Finding[] = [];
  for (const { path, what } of ENVIRONMENT_UUID_FIELDS) {
    const uuid = valueAt(source.value, path);
    const test = typeof uuid === "string" ? testUuids.get(uuid.toLowerCase()) : undefined;
    if (!test) continue;
    findings.push({
      severity: "error",
      code: "stage.test-uuid",
      message: `${what} ${String(uuid)} is the test environment's (the ${test.what} in ${test.file}); production has its own: look it up in STS Administration (production)`,
      at: [...path],
    });
  }
  return findings;
}

function stageOf(value: unknown): Stage | undefined {
  const s = valueAt(value, ["spec", "stage"]);
  return s === "test" || s === "prod" || s === "sandbox" ? s : undefined;
}

/**
 * Every problem in a manifest at once: YAML syntax, schema, semantic checks, secret references that do
 * not resolve and (unless offline) the certificate. Never throws for bad input; the diagnostics say it.
 */
export async function validateEnvironment(nameOrPath: string, opts: ValidateOptions): Promise<ValidationResult> {
  const parsed = readAndParse(nameOrPath, opts.cwd);
  const { shown, source } = parsed;
  if (!source || parsed.diagnostics.length > 0) return { file: shown, diagnostics: sortDiagnostics(parsed.diagnostics) };

  const diagnostics = checkDocument(source, shown, opts.now);
  const at = (f: Finding): Diagnostic => locate(source, shown, f);
  const stage = stageOf(source.value);

  // Secret references: each must resolve; only names are reported, never values.
  const resolved = new Map<string, string>();
  const all = SECRET_PATHS.map((s) => s.what);
  diagnostics.push(...(await secretFindings(source, opts.env, all, resolved)).map(at));

  let certificate: CertificateInfo | undefined;
  const certPath = valueAt(source.value, ["spec", "certificate", "path"]);
  const password = resolved.get("spec.certificate.password");
  if (!opts.offline && typeof certPath === "string" && password !== undefined) {
    const result = await checkCertificate(certPath, password, source, opts.now);
    certificate = result.info;
    diagnostics.push(...result.findings.map(at));
  }

  const result: ValidationResult = { file: shown, diagnostics: sortDiagnostics(diagnostics) };
  if (stage) result.endpoints = endpointsFor(stage);
  if (certificate) result.certificate = certificate;
  if (!hasErrors(diagnostics)) result.environment = toEnvironment(source.value, source);
  return result;
}

async function checkCertificate(
  certPath: string,
  password: string,
  source: ManifestSource,
  now: Date,
): Promise<{ info?: CertificateInfo; findings: Finding[] }> {
  const at: DocPath = ["spec", "certificate", "path"];
  const file = isAbsolute(certPath) ? certPath : resolve(source.baseDir, certPath);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? "error"})`;
    return { findings: [{ severity: "error", code: "certificate.file", message: `certificate file ${file} ${why}; use --offline to skip the certificate check`, at }] };
  }
  let info: CertificateInfo;
  try {
    info = inspectCertificate(bytes, password, now, file);
  } catch (e) {
    if (!isStsorgError(e)) throw e;
    const wrongPassword = /password/.test(e.message);
    return {
      findings: [
        {
          severity: "error",
          code: wrongPassword ? "certificate.password" : "certificate.unreadable",
          message: `certificate ${file}: ${e.message}`,
          at: wrongPassword ? ["spec", "certificate", "password"] : at,
        },
      ],
    };
  }
  const findings: Finding[] = info.problems.map((p) => ({ severity: "error", code: "certificate.invalid", message: `certificate ${file}: ${p}`, at }));
  if (info.daysLeft >= 0 && info.daysLeft <= CERT_WARNING_DAYS) {
    findings.push({
      severity: "warning",
      code: "certificate.expires-soon",
      message: `certificate ${file} expires on ${info.notAfter.slice(0, 10)} (in ${info.daysLeft} days); renew it before the sync stops`,
      at,
    });
  }
  const cvr = valueAt(source.value, ["spec", "municipality", "cvr"]);
  if (info.cvr === null) {
    findings.push({ severity: "warning", code: "certificate.cvr", message: `certificate ${file} names no CVR in its subject (${info.subject})`, at });
  } else if (typeof cvr === "string" && info.cvr !== cvr) {
    findings.push({
      severity: "error",
      code: "certificate.cvr",
      message: `certificate ${file} belongs to CVR ${info.cvr}, but municipality.cvr is ${cvr}`,
      at,
    });
  }
  return { info, findings };
}

/** Renders diagnostics as the lines `validate` prints, for error messages that list them. */
export function diagnosticLine(d: Diagnostic): string {
  const loc = d.line !== undefined ? `${d.file}:${d.line}:${d.column ?? 1}` : d.file;
  return `${loc}: ${d.severity}: ${d.message}${d.path ? ` (${d.path})` : ""}`;
}

/**
 * The normalised Environment of a manifest, for commands that use it. Secrets stay references
 * (resolved where needed) and the certificate is not opened. Throws ManifestError listing every error.
 */
export async function loadEnvironment(nameOrPath: string, opts: LoadOptions): Promise<Environment> {
  const parsed = readAndParse(nameOrPath, opts.cwd);
  const diagnostics = parsed.source && parsed.diagnostics.length === 0 ? checkDocument(parsed.source, parsed.shown, opts.now) : parsed.diagnostics;
  if (parsed.source && !hasErrors(diagnostics) && opts.secrets !== undefined) {
    const source = parsed.source;
    const uses = opts.secrets(toEnvironment(source.value, source));
    diagnostics.push(...(await secretFindings(source, opts.env, uses)).map((f) => locate(source, parsed.shown, f)));
  }
  const errors = sortDiagnostics(diagnostics).filter((d) => d.severity === "error");
  if (errors.length > 0 || !parsed.source) {
    const [only] = errors;
    if (errors.length === 1 && only && only.line === undefined) {
      throw new ManifestError(only.message, { file: only.file });
    }
    throw new ManifestError(
      `${parsed.shown} has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${errors.map((d) => `  ${diagnosticLine(d)}`).join("\n")}`,
      { hint: `Run \`stsorg validate -e ${nameOrPath}\` for the full report.` },
    );
  }
  return toEnvironment(parsed.source.value, parsed.source);
}
