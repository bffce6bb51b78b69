import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buildSchema,
  GraphQLInputObjectType,
  GraphQLObjectType,
  GraphQLScalarType,
  isNonNullType,
  type GraphQLSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import { loadSandboxSchema } from "../../../src/sandbox/os2mo/index.js";

const REAL_SCHEMA = fileURLToPath(new URL("../../../../shared/contracts/os2mo-graphql-v25.graphql", import.meta.url));
const present = existsSync(REAL_SCHEMA);

/** Every difference that would let the sandbox accept a query OS2mo v25 rejects. */
function subsetProblems(sub: GraphQLSchema, full: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(sub.getTypeMap())) {
    if (name.startsWith("__")) continue;
    const r = full.getType(name);
    if (!r) {
      problems.push(`type ${name} is not in v25`);
      continue;
    }
    if (t instanceof GraphQLScalarType) {
      if (!(r instanceof GraphQLScalarType)) problems.push(`${name} is a scalar here only`);
      continue;
    }
    if (t instanceof GraphQLObjectType) {
      if (!(r instanceof GraphQLObjectType)) {
        problems.push(`${name} is an object type here only`);
        continue;
      }
      const rf = r.getFields();
      for (const [fname, f] of Object.entries(t.getFields())) {
        const g = rf[fname];
        if (!g) problems.push(`${name}.${fname} is not in v25`);
        else {
          if (String(f.type) !== String(g.type)) problems.push(`${name}.${fname}: ${String(f.type)} here, ${String(g.type)} in v25`);
          for (const a of f.args) {
            const b = g.args.find((x) => x.name === a.name);
            if (!b || String(a.type) !== String(b.type) || a.defaultValue !== b.defaultValue)
              problems.push(`${name}.${fname}(${a.name}) differs from v25`);
          }
          for (const b of g.args) {
            if (isNonNullType(b.type) && b.defaultValue === undefined && !f.args.some((a) => a.name === b.name))
              problems.push(`${name}.${fname} lacks required argument ${b.name}`);
          }
        }
      }
    }
    if (t instanceof GraphQLInputObjectType) {
      if (!(r instanceof GraphQLInputObjectType)) {
        problems.push(`${name} is an input type here only`);
        continue;
      }
      const rf = r.getFields();
      for (const [fname, f] of Object.entries(t.getFields())) {
        const g = rf[fname];
        if (!g || String(f.type) !== String(g.type) || f.defaultValue !== g.defaultValue) problems.push(`input ${name}.${fname} differs from v25`);
      }
      for (const [fname, g] of Object.entries(rf)) {
        if (isNonNullType(g.type) && g.defaultValue === undefined && !t.getFields()[fname]) problems.push(`input ${name} lacks required ${fname}`);
      }
    }
  }
  return problems;
}

describe("the sandbox's SDL", () => {
  it.skipIf(!present)(
    `is a faithful subset of OS2mo's v25 schema${present ? "" : ` (skipped: ${REAL_SCHEMA} is absent)`}`,
    () => {
      const full = buildSchema(readFileSync(REAL_SCHEMA, "utf8"));
      expect(subsetProblems(loadSandboxSchema(), full)).toEqual([]);
    },
  );

  it.skipIf(!present)("would catch a field whose type drifted from v25", () => {
    const full = buildSchema(readFileSync(REAL_SCHEMA, "utf8"));
    const drifted = buildSchema("scalar int\nscalar Cursor\ntype PageInfo { next_cursor: String }\ntype Query { x: PageInfo }");
    expect(subsetProblems(drifted, full)).toContain("PageInfo.next_cursor: String here, Cursor in v25");
  });
});
