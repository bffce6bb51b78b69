import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { computePlan } from "../../../src/plan/index.js";
import { renderHuman, renderJson, renderMarkdown, renderSummary, renderTree } from "../../../src/views/index.js";
import { scenario } from "../plan/scenario.js";

/**
 * Every output format for one fixed scenario (every action, both kinds of drift, an error, a warning and
 * the delete guard). Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/unit/views/golden.test.ts`
 * and read the diff before committing.
 */
const DIR = resolve(import.meta.dirname, "../../golden/views");
const update = process.env.UPDATE_GOLDEN === "1";

function golden(name: string, actual: string): void {
  const file = join(DIR, name);
  if (update || !existsSync(file)) {
    if (!update) throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1 to create it`);
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("golden output for the fixed scenario", () => {
  const { input, desired } = scenario();
  const plan = computePlan(input);

  it("human", () => golden("human.txt", renderHuman(plan, { color: false, desired })));
  it("human with colour", () => golden("human-color.txt", renderHuman(plan, { color: true, desired })));
  it("human, refresh-only", () => {
    const refreshOnly = computePlan({ ...input, policy: { ...input.policy, refreshOnly: true } });
    golden("human-refresh-only.txt", renderHuman(refreshOnly, { color: false, desired }));
  });
  it("tree", () => golden("tree.txt", renderTree(plan, { color: false, desired })));
  it("summary", () => golden("summary.txt", renderSummary(plan, { color: false, limit: 3 })));
  it("markdown", () =>
    golden("markdown.md", renderMarkdown(plan, { desired, fullPlanHint: "run `stsorg show plan.json`" })));
  it("json", () => golden("plan.json", renderJson(plan)));

  it("every format gives the same bytes for a plan computed again from the same inputs", () => {
    const again = computePlan(scenario().input);
    expect(renderJson(again)).toBe(renderJson(plan));
    expect(renderHuman(again, { color: true, desired })).toBe(renderHuman(plan, { color: true, desired }));
    expect(renderTree(again, { color: false, desired })).toBe(renderTree(plan, { color: false, desired }));
    expect(renderMarkdown(again, { desired })).toBe(renderMarkdown(plan, { desired }));
  });
});
