import { describe, expect, it } from "vitest";
import { checkPlanApplicable } from "../../../src/apply/index.js";
import { PlanRefusedError } from "../../../src/errors/index.js";
import { newState } from "../../../src/state/index.js";
import { create, ENV, makePlan, TOP, unit } from "./fake-fk.js";

const LINEAGE = "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c";
const state = { ...newState({ lineage: LINEAGE, environment: ENV.name, cvr: ENV.cvr, admin_top_uuid: TOP, tool_version: "0.1.0" }), serial: 7 };
const plan = makePlan([create(unit(1, TOP))], { lineage: LINEAGE, serial: 7 });
const ctx = { state, manifestSha256: plan.manifest_sha256, now: new Date(Date.parse(plan.created_at) + 3600_000) };

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanRefusedError);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

describe("checkPlanApplicable", () => {
  it("accepts a fresh plan made against the current state and manifest", () => {
    expect(() => checkPlanApplicable(plan, ctx)).not.toThrow();
    // A plan made before any state existed applies to an empty state.
    expect(() => checkPlanApplicable({ ...plan, state: { lineage: null, serial: 0 } }, { ...ctx, state: null })).not.toThrow();
  });

  it("refuses a plan from another lineage", () => {
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, state: { ...state, lineage: "11111111-1111-4111-8111-111111111111" } }))).toMatch(
      /^Saved plan does not match the given state/,
    );
  });

  it("refuses a plan made against an older serial, and one made before a state was written", () => {
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, state: { ...state, serial: 8 } }))).toMatch(/^Saved plan is stale.*plan serial 7, state serial 8/);
    expect(refusal(() => checkPlanApplicable({ ...plan, state: { lineage: null, serial: 0 } }, ctx))).toMatch(/^Saved plan is stale/);
  });

  it("refuses a plan made with another manifest", () => {
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, manifestSha256: "0".repeat(64) }))).toMatch(/another version of the manifest/);
  });

  it("refuses a plan dated in the future (beyond a few minutes of clock difference), whose age cannot be checked", () => {
    const created = Date.parse(plan.created_at);
    expect(() => checkPlanApplicable(plan, { ...ctx, now: new Date(created - 5 * 60_000) })).not.toThrow();
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, now: new Date(created - 5 * 60_000 - 1000) }))).toMatch(/^Saved plan is dated in the future: made at .*, 5m1s from now/);
  });

  it("refuses a plan older than the limit (24 h by default)", () => {
    const created = Date.parse(plan.created_at);
    expect(() => checkPlanApplicable(plan, { ...ctx, now: new Date(created + 24 * 3600_000) })).not.toThrow();
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, now: new Date(created + 24 * 3600_000 + 1000) }))).toMatch(/too old: made 24h0m ago, the limit is 24h0m/);
    expect(refusal(() => checkPlanApplicable(plan, { ...ctx, maxPlanAgeMs: 30 * 60_000 }))).toMatch(/the limit is 30m0s/);
  });

  it("refuses a plan with errors, a guard, or made with --refresh-only", () => {
    const issue = { severity: "error" as const, code: "cycle", message: "units form a cycle", objects: [] };
    expect(refusal(() => checkPlanApplicable({ ...plan, errors: [issue] }, ctx))).toMatch(/1 error\(s\).*units form a cycle/);
    const guard = { guard: "max-deletes" as const, message: "120 deletes exceed the limit of 50", override: "--allow-deletes 120" };
    const err = (() => {
      try {
        checkPlanApplicable({ ...plan, guards: [guard] }, ctx);
      } catch (e) {
        return e as PlanRefusedError;
      }
    })();
    expect(err?.message).toMatch(/120 deletes exceed/);
    // --allow-deletes on apply cannot change a saved plan: the way on is a new plan.
    expect(err?.hint).toBe("A saved plan is applied exactly as it was made. Check the plan, then plan again with --allow-deletes 120 and apply that plan.");
    expect(refusal(() => checkPlanApplicable({ ...plan, options: { ...plan.options, refresh_only: true } }, ctx))).toMatch(/refresh-only/);
  });
});
