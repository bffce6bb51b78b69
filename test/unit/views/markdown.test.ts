import { describe, expect, it } from "vitest";
import { computePlan } from "../../../src/plan/index.js";
import { DEFAULT_MAX_CHARS, renderMarkdown } from "../../../src/views/index.js";
import { largeFirstPlan, scenario } from "../plan/scenario.js";

const objectHeads = (text: string, symbol: string): number =>
  text.split("\n").filter((l) => l.startsWith(`${symbol} orgunit "`) || l.startsWith(`${symbol} user "`)).length;

describe("markdown for a pull request comment", () => {
  it("keeps a first plan of 30,000 creates under the limit and says what it left out and where the rest is", () => {
    const plan = computePlan(largeFirstPlan(1000, 29_000));
    expect(plan.summary.create).toBe(30_000);
    const text = renderMarkdown(plan, { fullPlanHint: "the `plan.txt` artifact of this pipeline" });
    expect(text.length).toBeLessThanOrEqual(DEFAULT_MAX_CHARS);
    const shown = objectHeads(text, "+");
    expect(shown).toBeGreaterThan(100);
    expect(text).toContain(`_${30_000 - shown} of 30000 creates left out here; see the full plan._`);
    expect(text).toContain(`**Output truncated:** ${30_000 - shown} entries left out (${30_000 - shown} creates)`);
    expect(text).toContain("The full plan: the `plan.txt` artifact of this pipeline.");
    // The counts table still tells the whole story.
    expect(text).toContain("| **total** | **30000** | **0** | **0** | **0** |");
    // Whole objects only: every object in the diff block has all of its lines (units here: head + 4 attributes).
    const block = text.slice(text.indexOf("```diff\n") + 8, text.indexOf("\n```\n", text.indexOf("```diff")));
    const objects = block.split("\n\n");
    expect(objects).toHaveLength(shown);
    expect(objects.every((o) => o.split("\n").length === 5)).toBe(true);
  });

  it("keeps deletes and errors ahead of creates when space is short", () => {
    const { input } = scenario();
    const plan = computePlan(input);
    const text = renderMarkdown(plan, { maxChars: 3000 });
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toContain("duplicate-user-id");
    expect(objectHeads(text, "-")).toBeGreaterThan(0);
    expect(objectHeads(text, "+")).toBeLessThan(plan.summary.create);
    expect(text).toContain("**Output truncated:**");
  });

  it("leaves nothing out when the plan fits", () => {
    const plan = computePlan(scenario().input);
    const text = renderMarkdown(plan);
    expect(text).not.toContain("left out");
    expect(objectHeads(text, "+")).toBe(plan.summary.create);
    expect(objectHeads(text, "~")).toBe(plan.summary.update + 1); // and the one drifted unit
  });

  it("cannot be broken out of by an object name with backticks or HTML", () => {
    const { input } = scenario();
    const u = input.desired.orgUnits.get("00000000-0000-4000-8000-000000000012")!;
    input.desired.orgUnits.set(u.Uuid, { ...u, Name: "```</details><script>x</script>" });
    const text = renderMarkdown(computePlan(input));
    expect(text).toContain("````diff");
    const outsideCode = text.replace(/^(`{3,})diff\n[\s\S]*?\n\1$/gm, "");
    expect(outsideCode).not.toContain("<script>");
    const lines = text.split("\n");
    expect(lines.filter((l) => l === "</details>").length).toBe(lines.filter((l) => l.startsWith("<details>")).length);
  });
});
