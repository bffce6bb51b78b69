import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { Document } from "yaml";
import { UsageError } from "../../errors/index.js";
import type { Command } from "../command.js";
import type { CliIo } from "../io.js";

/**
 * `stsorg import-settings FILE`: migration from os2mo-os2sync-export. Reads its env file (docker.env
 * style) and prints the equivalent manifest fragment (`spec.municipality`, `spec.os2mo`, `spec.os2sync`,
 * `spec.sync`) as YAML. Secrets are replaced by `${env:…}` references and never echoed; keys stsorg
 * does not know or does not need are listed on stderr, never dropped silently.
 */

/** One `KEY=VALUE` assignment, with the line it starts on. */
export interface EnvEntry {
  key: string;
  value: string;
  line: number;
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Parses a docker.env / dotenv file: `KEY=VALUE` lines, optional `export `, `#` comments (whole lines,
 * or after whitespace in an unquoted value), single- and double-quoted values (which may span lines;
 * double quotes understand `\"`, `\\`, `\n`). Malformed lines are errors naming the line.
 */
export function parseEnvFile(text: string, file: string): EnvEntry[] {
  const src = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const entries: EnvEntry[] = [];
  let i = 0;
  let line = 1;
  const fail = (message: string, at: number): never => {
    throw new UsageError(message, { file, line: at, hint: "Each line must be KEY=VALUE, a # comment or empty." });
  };
  while (i < src.length) {
    const eol = src.indexOf("\n", i);
    const end = eol === -1 ? src.length : eol;
    const raw = src.slice(i, end);
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      i = end + 1;
      line++;
      continue;
    }
    const startLine = line;
    const body = trimmed.startsWith("export ") ? trimmed.slice(7).trimStart() : trimmed;
    const eq = body.indexOf("=");
    if (eq <= 0) fail(`"${body.slice(0, 40)}" is not a KEY=VALUE assignment`, startLine);
    const key = body.slice(0, eq).trim();
    if (!KEY_RE.test(key)) fail(`"${key.slice(0, 40)}" is not a valid variable name`, startLine);
    // Position of the value's first character in src.
    let j = i + raw.indexOf(body) + eq + 1;
    while (j < end && (src[j] === " " || src[j] === "\t")) j++;
    const q = src[j];
    let value: string;
    if (q === '"' || q === "'") {
      let k = j + 1;
      let out = "";
      let closed = false;
      while (k < src.length) {
        const c = src[k]!;
        if (c === "\n") line++;
        if (q === '"' && c === "\\" && k + 1 < src.length) {
          const n = src[k + 1]!;
          out += n === "n" ? "\n" : n === "t" ? "\t" : n === '"' || n === "\\" ? n : "\\" + n;
          k += 2;
          continue;
        }
        if (c === q) {
          closed = true;
          break;
        }
        out += c;
        k++;
      }
      if (!closed) fail(`the quoted value of ${key} is never closed`, startLine);
      const restEnd = src.indexOf("\n", k + 1);
      const rest = src.slice(k + 1, restEnd === -1 ? src.length : restEnd).trim();
      if (rest !== "" && !rest.startsWith("#")) fail(`unexpected text after the quoted value of ${key}`, line);
      value = out;
      i = restEnd === -1 ? src.length : restEnd + 1;
    } else {
      const rest = src.slice(j, end);
      const hash = rest.search(/\s#/);
      value = (hash === -1 ? rest : rest.slice(0, hash)).trim();
      i = end + 1;
    }
    entries.push({ key, value, line: startLine });
    line++;
  }
  return entries;
}

type Kind = "bool" | "int" | "uuid" | "uuidList" | "stringList" | "string" | "url";

/** Where an exporter setting goes in the manifest. */
interface Target {
  path: string[];
  kind: Kind;
  /** The value is a secret: replaced by this reference, never echoed. */
  secretRef?: string;
  convert?: (v: unknown) => unknown;
}

const SYNC = (key: string, kind: Kind, convert?: (v: unknown) => unknown): Target => ({
  path: ["spec", "sync", key],
  kind,
  convert,
});

export const MO_SECRET_REF = "${env:STSORG_MO_SECRET}";

/** Exporter setting (upper case, without the old `OS2SYNC_` prefix) -> manifest key. */
const TARGETS: Record<string, Target> = {
  MUNICIPALITY: { path: ["spec", "municipality", "cvr"], kind: "string" },
  TOP_UNIT_UUID: SYNC("topUnitUuid", "uuid"),
  API_URL: { path: ["spec", "os2sync", "url"], kind: "url" },
  SYNC_CPR: SYNC("syncCpr", "bool"),
  XFER_CPR: SYNC("syncCpr", "bool"),
  PHONE_SCOPE_CLASSES: SYNC("phoneScopeClasses", "uuidList"),
  LANDLINE_SCOPE_CLASSES: SYNC("landlineScopeClasses", "uuidList"),
  EMAIL_SCOPE_CLASSES: SYNC("emailScopeClasses", "uuidList"),
  IGNORED_UNIT_LEVELS: SYNC("ignoredUnitLevels", "uuidList"),
  IGNORED_UNIT_TYPES: SYNC("ignoredUnitTypes", "uuidList"),
  FILTER_ORGUNIT_UUID: SYNC("filterOrgunitUuids", "uuidList"),
  FILTER_HIERARCHY_NAMES: SYNC("filterHierarchyNames", "stringList"),
  FILTER_USERS_BY_IT_SYSTEM: SYNC("filterUsersByItSystem", "bool"),
  USER_KEY_IT_SYSTEM_NAMES: SYNC("userKeyItSystemNames", "stringList"),
  // The older single-system setting.
  USER_KEY_IT_SYSTEM_NAME: SYNC("userKeyItSystemNames", "string", (v) => [v]),
  UUID_FROM_IT_SYSTEMS: SYNC("uuidFromItSystems", "stringList"),
  USE_NICKNAME: SYNC("useNickname", "bool"),
  SYNC_MANAGERS: SYNC("syncManagers", "bool"),
  ENABLE_KLE: SYNC("enableKle", "bool"),
  USE_CONTACT_FOR_TASKS: SYNC("useContactForTasks", "bool"),
  EMPLOYEE_ENGAGEMENT_ADDRESS: SYNC("employeeEngagementAddress", "stringList"),
  TRUNCATE_LENGTH: SYNC("truncateLength", "int"),
  GROUP_BY_ENGAGEMENT_UUID: SYNC("groupByEngagementUuid", "bool"),
  EXTENSION_FIELD_AS_JOB_FUNCTION: SYNC("extensionFieldAsJobFunction", "string", extensionField),
  // The exporter's boolean flag uses extension_3.
  USE_EXTENSION_FIELD_AS_JOB_FUNCTION: SYNC("extensionFieldAsJobFunction", "bool", (v) => (v === true ? "3" : null)),
  MO_URL: { path: ["spec", "os2mo", "url"], kind: "url" },
  AUTH_SERVER: { path: ["spec", "os2mo", "auth", "authServer"], kind: "url" },
  AUTH_REALM: { path: ["spec", "os2mo", "auth", "realm"], kind: "string" },
  CLIENT_ID: { path: ["spec", "os2mo", "auth", "clientId"], kind: "string" },
  CLIENT_SECRET: { path: ["spec", "os2mo", "auth", "clientSecret"], kind: "string", secretRef: MO_SECRET_REF },
};

/** Exporter settings with no stsorg counterpart, and why. */
const NOT_NEEDED: Record<string, string> = {
  AUTOWASH: "stsorg plans deletes itself and guards them with spec.safety",
  CA_VERIFY_OS2SYNC: "stsorg always verifies TLS; give spec.os2sync.caFile for a private CA",
  CA_VERIFY_OS2MO: "stsorg always verifies TLS; give spec.os2mo.caFile for a private CA",
  TEMPLATES: "person.name / person.user_id templates are not supported; the person's name and the account user_key are used",
  NEW: "the exporter's alternative integration has no counterpart",
  IT_SYSTEM_USER_KEYS: "only used by the exporter's alternative integration",
  LOG_LEVEL: "stsorg has its own output options",
};

const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|CREDENTIAL|DSN/;

/** The exporter setting an env key names, after dropping `FASTRAMQPI__` and the old `OS2SYNC_` prefix. */
function canonicalKey(key: string): { name: string; fastramqpi: boolean } {
  let k = key.toUpperCase();
  let fastramqpi = false;
  if (k.startsWith("FASTRAMQPI__")) {
    k = k.slice("FASTRAMQPI__".length);
    fastramqpi = true;
  }
  if (k === "OS2SYNC_API_URL") return { name: "API_URL", fastramqpi };
  if (k.startsWith("OS2SYNC_")) k = k.slice("OS2SYNC_".length);
  return { name: k, fastramqpi };
}

function extensionField(v: unknown): unknown {
  const s = String(v).trim().toLowerCase();
  if (s === "1" || s === "extension_1") return "1";
  if (s === "3" || s === "extension_3") return "3";
  if (s === "" || s === "false" || s === "0" || s === "none" || s === "null") return null;
  throw new Error('expected "1" or "3" (extension_1 or extension_3)');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRUE = new Set(["1", "true", "t", "yes", "y", "on"]);
const FALSE = new Set(["0", "false", "f", "no", "n", "off"]);

function parseValue(kind: Kind, value: string): unknown {
  switch (kind) {
    case "bool": {
      const v = value.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new Error("expected true or false");
    }
    case "int":
      if (!/^\d+$/.test(value.trim())) throw new Error("expected a whole number");
      return Number(value.trim());
    case "uuid":
      if (!UUID.test(value.trim())) throw new Error("expected a uuid");
      return value.trim().toLowerCase();
    case "uuidList":
      return jsonList(value).map((v) => {
        if (!UUID.test(v)) throw new Error(`expected a JSON list of uuids; "${v.slice(0, 40)}" is not a uuid`);
        return v.toLowerCase();
      });
    case "stringList":
      return jsonList(value);
    case "url":
      if (!/^https?:\/\/\S+$/.test(value.trim())) throw new Error("expected an http(s) URL");
      return value.trim().replace(/\/+$/, "");
    case "string":
      return value;
  }
}

function jsonList(value: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(value.trim() === "" ? "[]" : value);
  } catch {
    throw new Error('expected a JSON list, e.g. ["a", "b"]');
  }
  if (!Array.isArray(data) || data.some((v) => typeof v !== "string")) throw new Error("expected a JSON list of strings");
  return (data as string[]).map((v) => v.trim());
}

export interface ImportedSettings {
  /** The manifest fragment: `{ spec: { municipality?, os2mo?, os2sync?, sync } }`. */
  manifest: { spec: Record<string, unknown> };
  /** Notes for stderr: unknown keys, settings without counterpart, secrets replaced. Never a secret value. */
  notes: string[];
}

/** Converts parsed env entries to the manifest fragment. Throws one UsageError listing every bad value. */
export function importExporterSettings(entries: EnvEntry[], file: string): ImportedSettings {
  const spec: Record<string, unknown> = {};
  const notes: string[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const e of entries) {
    const { name, fastramqpi } = canonicalKey(e.key);
    const where = `${file}:${e.line}`;
    const target = TARGETS[name];
    if (!target) {
      const reason = NOT_NEEDED[name];
      if (reason) notes.push(`${where}: ${e.key} is not imported: ${reason}.`);
      else if (fastramqpi) notes.push(`${where}: ${e.key} is not imported: stsorg does not use the exporter's FastRAMQPI runtime settings.`);
      else notes.push(`${where}: ${e.key} is unknown and not imported.`);
      if (name === "TEMPLATES" && e.value.trim() !== "" && e.value.trim() !== "{}") {
        notes.push(`${where}: the exporter rendered templates here; compare user names and UserIds in the first plan.`);
      }
      continue;
    }
    const id = target.path.join(".");
    const before = seen.get(id);
    if (before !== undefined) notes.push(`${where}: ${e.key} sets ${id} again (first set on line ${before}); the last value is used.`);
    seen.set(id, e.line);
    if (target.secretRef) {
      setPath(spec, target.path.slice(1), target.secretRef);
      const envName = /\$\{env:([^}]+)\}/.exec(target.secretRef)?.[1];
      notes.push(`${where}: ${e.key} is a secret and is not copied; set ${envName} where stsorg runs (referenced as ${target.secretRef}).`);
      continue;
    }
    if (name === "API_URL" && e.value.trim() === "stub") {
      notes.push(`${where}: ${e.key}=stub (the exporter's dry-run mode) is not imported; use \`stsorg plan\` for a dry run.`);
      continue;
    }
    try {
      let v = parseValue(target.kind, e.value);
      if (target.convert) v = target.convert(v);
      setPath(spec, target.path.slice(1), v);
    } catch (err) {
      const shown = SECRET_NAME.test(name) ? "" : ` (got ${JSON.stringify(e.value.slice(0, 60))})`;
      problems.push(`${where}: ${e.key}: ${(err as Error).message}${shown}`);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`${file} has values that cannot be imported:\n  ${problems.join("\n  ")}`, {
      file,
      hint: "Fix the values (lists are JSON arrays in the exporter's env file) and run import-settings again.",
    });
  }
  const auth = (spec.os2mo as Record<string, unknown> | undefined)?.auth as Record<string, unknown> | undefined;
  if (auth !== undefined && auth.clientSecret === undefined) {
    auth.clientSecret = MO_SECRET_REF;
    notes.push(`${file}: no client secret is set; the manifest references ${MO_SECRET_REF}, set it where stsorg runs.`);
  }
  const sync = (spec.sync ?? {}) as Record<string, unknown>;
  spec.sync = sync;
  if (sync.topUnitUuid === undefined) notes.push(`${file}: TOP_UNIT_UUID is not set; spec.sync.topUnitUuid is required.`);
  const cvr = (spec.municipality as Record<string, unknown> | undefined)?.cvr;
  if (typeof cvr === "string" && !/^\d{8}$/.test(cvr.trim())) notes.push(`${file}: MUNICIPALITY "${cvr}" is not an 8-digit CVR number.`);
  return { manifest: { spec: orderSpec(spec) }, notes };
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next === "object" && next !== null) cur = next as Record<string, unknown>;
    else cur = cur[key] = {};
  }
  cur[path[path.length - 1]!] = value;
}

/** Keys in the order the manifest reference documents them, so output is stable and reads naturally. */
const ORDER = [
  "municipality", "os2mo", "os2sync", "sync", "cvr", "url", "auth", "authServer", "realm", "clientId", "clientSecret",
  "topUnitUuid", "syncCpr", "phoneScopeClasses", "landlineScopeClasses", "emailScopeClasses", "ignoredUnitLevels",
  "ignoredUnitTypes", "filterOrgunitUuids", "filterHierarchyNames", "filterUsersByItSystem", "userKeyItSystemNames",
  "uuidFromItSystems", "useNickname", "syncManagers", "enableKle", "useContactForTasks", "employeeEngagementAddress",
  "extensionFieldAsJobFunction", "truncateLength", "groupByEngagementUuid",
];

function orderSpec(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  for (const k of keys) {
    const v = value[k];
    out[k] = typeof v === "object" && v !== null && !Array.isArray(v) ? orderSpec(v as Record<string, unknown>) : v;
  }
  return out;
}

/** The YAML printed on stdout. */
export function renderImportedSettings(imported: ImportedSettings, file: string): string {
  const doc = new Document(imported.manifest);
  doc.commentBefore = [
    ` Imported from the os2mo-os2sync-export settings in ${file}.`,
    " Merge into spec: of environments/<name>.yaml; the manifest also needs spec.stage, spec.sts.adminTopUuid",
    " (FK's root unit), the service agreement and the certificate.",
  ].join("\n");
  return doc.toString({ lineWidth: 0 });
}

export const importSettingsCommand: Command = {
  command: "import-settings <file>",
  describe: "Print the manifest settings (spec.sync and the OS2mo/OS2sync connection) equivalent to an os2mo-os2sync-export env file",
  builder: (y: Argv) =>
    y
      .positional("file", { type: "string", describe: "The exporter's env file (docker.env style)" })
      .example("$0 import-settings docker.env", "Print the equivalent YAML; notes on unknown or unused keys go to stderr"),
  handler: async (args: Record<string, unknown>, io: CliIo): Promise<number> => {
    const file = args["file"];
    if (typeof file !== "string" || file.trim() === "") throw new UsageError("import-settings needs the exporter's env file");
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, file), "utf8");
    } catch (cause) {
      throw new UsageError(`Cannot read ${file}.`, { file, cause, hint: "Give the path of the exporter's env file." });
    }
    const imported = importExporterSettings(parseEnvFile(text, file), file);
    for (const note of imported.notes) io.stderr.write(`Note: ${note}\n`);
    io.stdout.write(renderImportedSettings(imported, file));
    return 0;
  },
};
