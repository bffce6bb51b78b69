import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { schemaValidator } from "../../../src/jsonschema/index.js";
import type { Plan } from "../../../src/model/index.js";
import { computePlan } from "../../../src/plan/index.js";
import { renderJson } from "../../../src/views/index.js";
import { actualOf, scenario, uuid } from "../plan/scenario.js";

// The validator `stsorg apply` and `show` use on a saved plan.
const validate = schemaValidator("plan", { allErrors: true });
const schema = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../schemas/plan.schema.json"), "utf8")) as object;

function errorsOf(plan: unknown): string {
  return validate(plan) ? "" : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`).join("\n");
}

describe("schemas/plan.schema.json", () => {
  const { input } = scenario();
  const variants: [string, Plan][] = [
    ["the scenario", computePlan(input)],
    ["without CPR sync", computePlan({ ...input, policy: { ...input.policy, cprHashKey: null } })],
    ["refresh-only", computePlan({ ...input, policy: { ...input.policy, refreshOnly: true } })],
    ["targeted", computePlan({ ...input, policy: { ...input.policy, targets: [`user/${uuid(101)}`] } })],
    ["first plan, no state", computePlan({ ...input, actual: actualOf([], []), state: null })],
    ["all-under-top with protected units", computePlan({ ...input, policy: { ...input.policy, prune: "all-under-top", protectedUnits: [uuid(14)] } })],
  ];

  for (const [name, plan] of variants) {
    it(`accepts the plan file written for ${name}`, () => {
      expect(errorsOf(JSON.parse(renderJson(plan)))).toBe("");
    });
  }

  it("rejects a plan holding a CPR number in clear", () => {
    const plan = JSON.parse(renderJson(variants[0]![1])) as Plan;
    const created = plan.changes.find((c) => c.action === "create" && c.kind === "user")!;
    (created.after as { Person: { Cpr?: string } }).Person.Cpr = "0202902345";
    expect(errorsOf(plan)).toMatch(/Cpr/);
  });

  it("rejects a CPR field change that is not marked sensitive", () => {
    const plan = JSON.parse(renderJson(variants[0]![1])) as Plan;
    const fc = plan.changes.flatMap((c) => c.fields ?? []).find((f) => f.field === "Person.Cpr")!;
    delete fc.sensitive;
    expect(errorsOf(plan)).toMatch(/sensitive/);
  });

  it("rejects another format version and a create without content", () => {
    const plan = JSON.parse(renderJson(variants[0]![1])) as Record<string, unknown> & Plan;
    expect(errorsOf({ ...plan, format_version: "2.0" })).toMatch(/format_version/);
    const broken = structuredClone(plan);
    delete broken.changes.find((c) => c.action === "create")!.after;
    expect(errorsOf(broken)).toMatch(/after/);
  });

  it("describes every property it defines", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === "object") {
        for (const [key, sub] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          const described = typeof sub.description === "string" || (typeof sub.$ref === "string" && refDescribed(sub.$ref));
          // Conditions (if/then/else) refine properties defined and described elsewhere.
          if (!described && !/\/(if|then|else)(\/|$)/.test(path)) undocumented.push(`${path}/${key}`);
        }
      }
      for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
    };
    const refDescribed = (ref: string): boolean => {
      const def = (schema as { $defs: Record<string, { description?: string }> }).$defs[ref.replace("#/$defs/", "")];
      return typeof def?.description === "string";
    };
    walk(schema, "#");
    expect(undocumented).toEqual([]);
  });
});
