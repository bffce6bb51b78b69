import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { schemaValidator } from "../jsonschema/index.js";
import type { DocPath, Finding } from "./diagnostics.js";

/** The manifest's JSON Schema, shipped in schemas/ next to dist/ and src/. */
export const ENVIRONMENT_SCHEMA_URL = new URL("../../schemas/environment.schema.json", import.meta.url);

type JsonSchema = Record<string, unknown>;

let compiled: { validate: ValidateFunction; schema: JsonSchema } | undefined;

export function environmentSchema(): JsonSchema {
  return compile().schema;
}

function compile(): { validate: ValidateFunction; schema: JsonSchema } {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(ENVIRONMENT_SCHEMA_URL, "utf8")) as JsonSchema;
  compiled = { validate: schemaValidator("environment", { allErrors: true, verbose: true }), schema };
  return compiled;
}

/** Schema findings for a parsed manifest: every violation, each with a message a person can act on. */
export function schemaFindings(value: unknown): Finding[] {
  const { validate } = compile();
  if (validate(value)) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const f = findingFor(err, value);
    if (!f) continue;
    const key = `${JSON.stringify(f.at)}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(f);
  }
  return findings;
}

function pathOf(instancePath: string): DocPath {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, path: DocPath): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[String(seg)];
  }
  return v;
}

const SECRET_HINT = "write it as a reference, ${env:NAME} or ${file:PATH}, never as a literal value";

function findingFor(err: ErrorObject, root: unknown): Finding | undefined {
  const at = pathOf(err.instancePath);
  const params = err.params as Record<string, unknown>;
  const base = { severity: "error" as const };
  switch (err.keyword) {
    case "if":
      return undefined; // the failing `then`/`else` branch reports the actual problem
    case "required": {
      const missing = String(params.missingProperty);
      return { ...base, code: "schema.required", message: `required key "${missing}" is missing`, at: [...at, missing], atKey: true };
    }
    case "additionalProperties": {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys((err.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      let message = `unknown key "${extra}"`;
      if (extra === "templates" && at[at.length - 1] === "sync") {
        message += ": person name and user id templates are not supported by stsorg";
      } else {
        const guess = closest(extra, allowed);
        if (guess) message += ` (did you mean "${guess}"?)`;
        else if (allowed.length > 0) message += `; allowed here: ${allowed.join(", ")}`;
      }
      return { ...base, code: "schema.unknown-key", message, at: [...at, extra], atKey: true };
    }
    case "false schema":
      if (at.join(".") === "spec.sandbox") {
        return { ...base, code: "schema.sandbox-stage", message: "spec.sandbox is only allowed with stage: sandbox", at, atKey: true };
      }
      return { ...base, code: "schema.not-allowed", message: "this key is not allowed here", at, atKey: true };
    case "enum":
      return {
        ...base,
        code: "schema.enum",
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
        at,
      };
    case "const":
      return { ...base, code: "schema.const", message: `must be ${JSON.stringify(params.allowedValue)}`, at };
    case "type": {
      const want = String(params.type).replace(/,/g, " or ");
      const got = valueAt(root, at);
      // The value itself is never echoed: it may be a secret written in the wrong place.
      let message = `must be ${article(want)}${want}, not ${describe(got)}`;
      if (want === "string" && (typeof got === "number" || typeof got === "boolean")) message += " (put the value in quotes)";
      return { ...base, code: "schema.type", message, at };
    }
    case "pattern":
      return { ...base, code: "schema.pattern", message: patternMessage(err.schemaPath, String(params.pattern), at, err.data), at };
    case "format":
      return {
        ...base,
        code: "schema.format",
        message: params.format === "date" ? "must be a date written YYYY-MM-DD" : `must be a valid ${String(params.format)}`,
        at,
      };
    default:
      return { ...base, code: `schema.${err.keyword}`, message: err.message ?? "is not valid", at };
  }
}

function patternMessage(schemaPath: string, pattern: string, at: DocPath, value: unknown): string {
  if (schemaPath.includes("/secretRef/")) {
    // `${env:NAME` (no closing brace), `${ENV:NAME}`, `${vault:…}`: meant as a reference, not written as one.
    if (typeof value === "string" && value.trim().startsWith("${")) return "is not a secret reference as stsorg reads them: write ${env:NAME} or ${file:PATH}";
    return `is a literal secret: ${SECRET_HINT}`;
  }
  if (schemaPath.includes("/uuid/")) return "must be a UUID (8-4-4-4-12 hexadecimal digits)";
  if (schemaPath.includes("/httpUrl/")) return "must be an http:// or https:// URL";
  if (schemaPath.includes("/sqlName/")) return "must be an SQL identifier (letters, digits, underscore)";
  if (at.join(".") === "spec.municipality.cvr") return "must be exactly 8 digits";
  if (at.join(".") === "metadata.name") return "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'";
  return `must match the pattern ${pattern}`;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an " : "a ";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return "a string";
  return `a ${typeof v}`;
}

/** The allowed key nearest to a misspelt one, when it is close enough to be a likely typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
