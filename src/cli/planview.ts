import type { DesiredState, Plan } from "../model/index.js";
import { renderHuman, renderJson, renderMarkdown, renderSummary, renderTree } from "../views/index.js";

export type PlanFormat = "human" | "tree" | "markdown" | "json";
export const PLAN_FORMATS: PlanFormat[] = ["human", "tree", "markdown", "json"];

export interface PlanViewChoice {
  format: PlanFormat;
  summary: boolean;
  color: boolean;
  maxChars?: number;
  fullPlanHint?: string;
  desired?: DesiredState;
}

/** One place that turns a plan into the text a command prints, so `plan`, `show` and `apply` agree. */
export function renderPlan(plan: Plan, v: PlanViewChoice): string {
  switch (v.format) {
    case "json":
      return renderJson(plan);
    case "markdown":
      return renderMarkdown(plan, {
        ...(v.maxChars !== undefined ? { maxChars: v.maxChars } : {}),
        ...(v.fullPlanHint !== undefined ? { fullPlanHint: v.fullPlanHint } : {}),
        ...(v.desired ? { desired: v.desired } : {}),
      });
    case "tree":
      return renderTree(plan, { color: v.color, ...(v.desired ? { desired: v.desired } : {}) });
    case "human":
      return v.summary ? renderSummary(plan, { color: v.color }) : renderHuman(plan, { color: v.color, ...(v.desired ? { desired: v.desired } : {}) });
  }
}

export function withNewline(s: string): string {
  return s.endsWith("\n") ? s : s + "\n";
}
