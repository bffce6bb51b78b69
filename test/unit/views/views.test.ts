import { describe, expect, it } from "vitest";
import type { Plan } from "../../../src/model/index.js";
import { computePlan } from "../../../src/plan/index.js";
import { NO_CHANGES, renderHuman, renderSummary, renderTree } from "../../../src/views/index.js";
import { CPR, actualOf, desiredOf, inputOf, resource, scenario, stateOf, TOP, unit, uuid } from "../plan/scenario.js";

const ANSI = /\u001b\[/;

function planOf(...args: Parameters<typeof inputOf>): Plan {
  return computePlan(inputOf(...args));
}

describe("human view", () => {
  it("says there is nothing to do for an empty plan, with no legend", () => {
    const u = unit(10, "Borgerservice", TOP);
    const text = renderHuman(planOf(desiredOf([u], []), actualOf([u], []), stateOf([resource("orgunit", u)])), { color: false });
    expect(text).toContain(NO_CHANGES);
    expect(text).not.toContain("Plan:");
    expect(text).not.toContain("symbols");
  });

  it("shows only the symbols present in the legend, and no adoption count when nothing is adopted", () => {
    const text = renderHuman(planOf(desiredOf([unit(10, "Borgerservice", TOP)], []), actualOf([], []), null), { color: false });
    const legend = text.slice(text.indexOf("symbols:"), text.indexOf("stsorg will perform"));
    expect(legend).toContain("+ create");
    expect(legend).not.toContain("update in-place");
    expect(legend).not.toContain("destroy");
    expect(text).toContain('# orgunit "Borgerservice" (00000000-0000-4000-8000-000000000010) will be created');
    expect(text).toContain("Plan: 1 to add, 0 to change, 0 to destroy.\n");
  });

  it("uses colour only when asked", () => {
    const { input, desired } = scenario();
    const plan = computePlan(input);
    expect(renderHuman(plan, { color: false, desired })).not.toMatch(ANSI);
    expect(renderHuman(plan, { color: true, desired })).toMatch(ANSI);
    expect(renderTree(plan, { color: false, desired })).not.toMatch(ANSI);
    expect(renderSummary(plan, { color: false })).not.toMatch(ANSI);
  });

  it("shows a long text change as a word diff and a short one as before -> after", () => {
    const text = renderHuman(computePlan(scenario().input), { color: false });
    expect(text).toContain("10.00-[-17-]{+18+}.[-30-]{+00+}");
    expect(text).toContain('~ Name:        "Teknik og Miljø" -> "Teknik & Miljø"');
  });

  it("never shows a CPR number, hashed or not", () => {
    const text = renderHuman(computePlan(scenario().input), { color: false });
    expect(text).not.toMatch(/(?<![\d-])\d{10}(?!\d)/);
    for (const cpr of Object.values(CPR)) expect(text).not.toContain(cpr);
    expect(text).not.toContain("hmac-sha256");
    expect(text).toContain("~ Person.Cpr: (sensitive value) -> (sensitive value)");
  });

  it("names the refresh mode and marks fields compared against state", () => {
    const applied = unit(10, "Borgerservice", TOP, { Location: "Rådhuset" });
    const actual = actualOf([applied], [], { mode: "hierarchy", observed: new Map([[uuid(10), ["Name", "ParentOrgUnitUuid"]]]) });
    const text = renderHuman(
      planOf(desiredOf([unit(10, "Borgerservice", TOP, { Location: "Rådhus 2" })], []), actual, stateOf([resource("orgunit", applied)])),
      { color: false },
    );
    expect(text).toContain("Refresh: hierarchy");
    expect(text).toContain("0 objects fully observed, 1 partially observed");
    expect(text).toContain('~ Location: "Rådhuset" -> "Rådhus 2"  # not read from FK; old value from state');
  });

  it("shows drift first and, for a refresh-only plan without drift, says FK still matches", () => {
    const { input } = scenario();
    const text = renderHuman(computePlan(input), { color: false });
    expect(text.indexOf("Objects have changed outside of stsorg")).toBeLessThan(text.indexOf("stsorg will perform"));
    const u = unit(10, "Borgerservice", TOP);
    const quiet = renderHuman(planOf(desiredOf([u], []), actualOf([u], []), stateOf([resource("orgunit", u)]), { refreshOnly: true }), {
      color: false,
    });
    expect(quiet).toContain("No changes. STS Organisation still matches what stsorg last applied.");
  });

  it("ends with the guard refusal and says the plan cannot be applied", () => {
    const text = renderHuman(computePlan(scenario().input), { color: false });
    expect(text).toContain("Error: Too many deletes [max-deletes]");
    expect(text).toContain("To override: --allow-deletes 3");
    expect(text.trimEnd().endsWith("This plan cannot be applied until the errors above are resolved.")).toBe(true);
  });
});

describe("tree view", () => {
  it("collapses unchanged subtrees to one line and folds user changes under their unit", () => {
    const { input, desired } = scenario();
    const text = renderTree(computePlan(input), { color: false, desired });
    expect(text).toContain("└─ Økonomi (00000000-0000-4000-8000-000000000019) · unchanged, 1 unit below, 1 user");
    expect(text).not.toContain("Løn");
    const lines = text.split("\n");
    const groenne = lines.findIndex((l) => l.includes("+ Grønne områder"));
    expect(lines[groenne + 1]).toContain("+ user Bo Jensen (bjen)");
  });

  it("shows moved units under their new parent with where they came from", () => {
    const a = unit(20, "A", TOP);
    const b = unit(21, "B", TOP);
    const c = unit(22, "C", uuid(20));
    const moved = unit(22, "C", uuid(21));
    const plan = planOf(desiredOf([a, b, moved], []), actualOf([a, b, c], []), stateOf([a, b, c].map((u) => resource("orgunit", u))));
    const text = renderTree(plan, { color: false, desired: desiredOf([a, b, moved], []) });
    expect(text).toContain('└─ B (00000000-0000-4000-8000-000000000021)\n   └─ ~ C (00000000-0000-4000-8000-000000000022) · moved from "A"');
    expect(text).toContain("├─ A (00000000-0000-4000-8000-000000000020) · unchanged");
  });
});

describe("summary view", () => {
  it("lists counts per kind and action and the first N objects per action", () => {
    const plan = computePlan(scenario().input);
    const text = renderSummary(plan, { color: false, limit: 1 });
    expect(text).toMatch(/orgunit\s+3\s+2\s+2\s+1\n\s+user\s+1\s+2\s+1\s+1\n\s+total\s+4\s+4\s+3\s+2/);
    expect(text).toContain("To create (4; first 1):");
    expect(text).toContain("  … and 3 more");
    expect(text.match(/^  \+ /gm)).toHaveLength(1);
  });
});
