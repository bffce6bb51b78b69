import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSchema, parse, validate, type GraphQLSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { loadSandboxSchema } from "../../../src/sandbox/os2mo/index.js";
import { QUERIES_DIR, QUERY_NAMES } from "../../../src/sources/os2mo/index.js";

const dir = fileURLToPath(QUERIES_DIR);
const files = readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort();
/** OS2mo's published v25 schema, kept next to the repository (../shared/contracts/). */
const REAL_SCHEMA = fileURLToPath(new URL("../../../../shared/contracts/os2mo-graphql-v25.graphql", import.meta.url));

function errorsAgainst(schema: GraphQLSchema, file: string): string[] {
  return validate(schema, parse(readFileSync(`${dir}/${file}`, "utf8"))).map((e) => e.message);
}

describe("the reader's GraphQL queries", () => {
  it("are exactly the files the reader loads", () => {
    expect(files).toEqual(QUERY_NAMES.map((n) => `${n}.graphql`).sort());
  });

  const sandbox = loadSandboxSchema();
  it.each(files)("%s is valid against the sandbox schema", (file) => {
    expect(errorsAgainst(sandbox, file)).toEqual([]);
  });

  const present = existsSync(REAL_SCHEMA);
  const real = present ? buildSchema(readFileSync(REAL_SCHEMA, "utf8")) : undefined;
  it.skipIf(!present).each(files)(
    `%s is valid against OS2mo's published v25 schema${present ? "" : ` (skipped: ${REAL_SCHEMA} is absent)`}`,
    (file) => {
      expect(errorsAgainst(real as GraphQLSchema, file)).toEqual([]);
    },
  );

  it("declares limit with OS2mo's lower-case int scalar, which the sandbox enforces too", () => {
    const wrong = parse("query Q($limit: Int) { org_units(limit: $limit) { objects { uuid } } }");
    const messages = validate(sandbox, wrong).map((e) => e.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/"Int"[^]*"int"/);
    const right = parse("query Q($limit: int) { org_units(limit: $limit) { objects { uuid } } }");
    expect(validate(sandbox, right)).toEqual([]);
  });
});
