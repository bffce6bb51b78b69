import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

/**
 * The public file formats' JSON Schemas (schemas/*.schema.json), compiled once per process with ajv
 * (draft 2020-12, formats on). One place so every reader validates the same way.
 */
export type SchemaName = "environment" | "plan" | "state";

const cache = new Map<string, ValidateFunction>();

export const SCHEMA_NAMES: readonly SchemaName[] = ["environment", "plan", "state"];

export function schemaUrl(name: SchemaName): URL {
  return new URL(`../../schemas/${name}.schema.json`, import.meta.url);
}

export function schemaValidator(name: SchemaName, opts: { allErrors?: boolean; verbose?: boolean } = {}): ValidateFunction {
  const key = `${name}:${opts.allErrors ? 1 : 0}:${opts.verbose ? 1 : 0}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const schema = JSON.parse(readFileSync(schemaUrl(name), "utf8")) as object;
  const ajv = new Ajv2020({
    allErrors: opts.allErrors ?? false,
    verbose: opts.verbose ?? false,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    // The schemas are stsorg's own files, checked against the draft 2020-12 meta-schema by a test
    // (test/unit/jsonschema); checking them again at every start cost a third of compiling them.
    validateSchema: false,
  });
  // ajv-formats is CommonJS; depending on the loader its function is the module or its `default`.
  const mod = addFormatsModule as unknown as { default?: (a: Ajv2020) => unknown } & ((a: Ajv2020) => unknown);
  (mod.default ?? mod)(ajv);
  const validate = ajv.compile(schema);
  cache.set(key, validate);
  return validate;
}

/** ajv's errors as short `path: message` lines (the first few). */
export function schemaErrors(validate: ValidateFunction, max = 5): string[] {
  return (validate.errors ?? []).slice(0, max).map((e) => `${e.instancePath || "/"}: ${e.message ?? "invalid"}`);
}
