import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { SCHEMA_NAMES, schemaUrl, schemaValidator } from "../../../src/jsonschema/index.js";

// stsorg compiles its schemas without checking them against the meta-schema (to start faster); this is
// where they are checked.
describe("stsorg's JSON Schemas", () => {
  it.each(SCHEMA_NAMES)("%s.schema.json is a valid draft 2020-12 schema and compiles in strict mode", (name) => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    const addFormats = addFormatsModule as unknown as { default?: (a: Ajv2020) => unknown } & ((a: Ajv2020) => unknown);
    (addFormats.default ?? addFormats)(ajv);
    const schema = JSON.parse(readFileSync(schemaUrl(name), "utf8")) as object;
    const valid = ajv.validateSchema(schema);
    expect(ajv.errors ?? [], JSON.stringify(ajv.errors)).toEqual([]);
    expect(valid).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
    expect(typeof schemaValidator(name)).toBe("function");
  });
});
