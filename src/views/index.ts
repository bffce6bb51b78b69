/** Plan views: pure functions from a Plan (and options) to text. Colour is always decided by the caller. */
export { renderHuman, type HumanViewOptions } from "./human.js";
export { renderTree, type TreeViewOptions } from "./tree.js";
export { renderSummary, type SummaryViewOptions } from "./summary.js";
export { renderMarkdown, DEFAULT_MAX_CHARS, type MarkdownViewOptions } from "./markdown.js";
export { renderJson } from "./json.js";
export { planLine, NO_CHANGES } from "./format.js";

import type { FkState, Plan } from "../model/index.js";
import { renderHuman } from "./human.js";
import { renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import { renderSummary } from "./summary.js";
import { renderTree } from "./tree.js";

export type PlanFormat = "human" | "tree" | "markdown" | "json";

export interface RenderOptions {
  format: PlanFormat;
  /** `--summary`: counts and the first `limit` objects per action (human and tree formats). */
  summary?: boolean;
  limit?: number;
  color: boolean;
  desired?: FkState;
  maxChars?: number;
  fullPlanHint?: string;
}

/** One entry point for `plan` and `show`: the plan in the chosen format. */
export function renderPlan(plan: Plan, opts: RenderOptions): string {
  switch (opts.format) {
    case "json":
      return renderJson(plan);
    case "markdown":
      return renderMarkdown(plan, { maxChars: opts.maxChars, fullPlanHint: opts.fullPlanHint, desired: opts.desired });
    case "tree":
      return opts.summary ? renderSummary(plan, { color: opts.color, limit: opts.limit }) : renderTree(plan, { color: opts.color, desired: opts.desired });
    case "human":
      return opts.summary ? renderSummary(plan, { color: opts.color, limit: opts.limit }) : renderHuman(plan, { color: opts.color, desired: opts.desired });
  }
}
