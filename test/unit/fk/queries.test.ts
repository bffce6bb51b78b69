import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buildSchema,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  isNonNullType,
  parse,
  validate,
  type GraphQLSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import { loadFkSandboxSchema } from "../../../src/sandbox/fk/index.js";
import { FK_QUERIES_DIR, FK_QUERY_NAMES } from "../../../src/targets/fk/index.js";

/** KOMBIT's published OrganisationHent v1 schema, kept next to the repository (../shared/contracts/). */
const CONTRACT = fileURLToPath(new URL("../../../../shared/contracts/fk-organisation-graphql-v1.graphql", import.meta.url));
const present = existsSync(CONTRACT);
const skipNote = present ? "" : ` (skipped: ${CONTRACT} is absent)`;
const dir = fileURLToPath(FK_QUERIES_DIR);
const files = readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort();

function errorsAgainst(schema: GraphQLSchema, file: string): string[] {
  return validate(schema, parse(readFileSync(`${dir}/${file}`, "utf8"))).map((e) => e.message);
}

/** Every way the sandbox's SDL could accept what KOMBIT's schema rejects, or answer in other types. */
function subsetProblems(sub: GraphQLSchema, full: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(sub.getTypeMap())) {
    if (name.startsWith("__")) continue;
    const r = full.getType(name);
    if (!r) {
      problems.push(`type ${name} is not in the contract`);
      continue;
    }
    if (t.constructor !== r.constructor) {
      problems.push(`${name} is a different kind of type`);
      continue;
    }
    if (t instanceof GraphQLScalarType) continue;
    if (t instanceof GraphQLEnumType) {
      const values = (r as GraphQLEnumType).getValues().map((v) => v.name);
      for (const v of t.getValues()) if (!values.includes(v.name)) problems.push(`${name}.${v.name} is not in the contract`);
      continue;
    }
    if (t instanceof GraphQLObjectType || t instanceof GraphQLInterfaceType) {
      const rf = (r as GraphQLObjectType).getFields();
      for (const [fname, f] of Object.entries(t.getFields())) {
        const g = rf[fname];
        if (!g) {
          problems.push(`${name}.${fname} is not in the contract`);
          continue;
        }
        if (String(f.type) !== String(g.type)) problems.push(`${name}.${fname}: ${String(f.type)} here, ${String(g.type)} in the contract`);
        for (const a of f.args) {
          const b = g.args.find((x) => x.name === a.name);
          if (!b || String(a.type) !== String(b.type)) problems.push(`${name}.${fname}(${a.name}) differs from the contract`);
        }
        for (const b of g.args) {
          if (isNonNullType(b.type) && !f.args.some((a) => a.name === b.name)) problems.push(`${name}.${fname} lacks required argument ${b.name}`);
        }
      }
    }
    if (t instanceof GraphQLInputObjectType) problems.push(`input ${name} is served but not used`);
  }
  return problems;
}

describe("the FK client's GraphQL queries", () => {
  it("are exactly the files the client loads", () => {
    expect(files).toEqual(FK_QUERY_NAMES.map((n) => `${n}.graphql`).sort());
  });

  const sandbox = loadFkSandboxSchema();
  it.each(files)("%s is valid against the sandbox's schema", (file) => {
    expect(errorsAgainst(sandbox, file)).toEqual([]);
  });

  const contract = present ? buildSchema(readFileSync(CONTRACT, "utf8")) : undefined;
  it.skipIf(!present).each(files)(`%s is valid against KOMBIT's published schema${skipNote}`, (file) => {
    expect(errorsAgainst(contract as GraphQLSchema, file)).toEqual([]);
  });

  it.skipIf(!present)(`the sandbox's SDL is a faithful subset of KOMBIT's published schema${skipNote}`, () => {
    expect(subsetProblems(sandbox, contract as GraphQLSchema)).toEqual([]);
  });

  it.skipIf(!present)("the subset check catches a drifted field", () => {
    const drifted = buildSchema("scalar UUID\ntype Bruger { uuid: String }\ntype Query { x: Bruger }");
    expect(subsetProblems(drifted, contract as GraphQLSchema)).toContain("Bruger.uuid: String here, UUID! in the contract");
  });

  it("asks for the CPR only under the withCpr condition", () => {
    const text = readFileSync(`${dir}/users.graphql`, "utf8");
    expect(text).toMatch(/cpr @include\(if: \$withCpr\)/);
    expect(text.match(/\bcpr\b/g)).toHaveLength(1);
  });
});
