import type { Plan } from "../model/index.js";
import { canonicalJson } from "../model/index.js";

/** The plan file format (schemas/plan.schema.json): canonical JSON, so equal plans are equal bytes. */
export function renderJson(plan: Plan, opts: { indent?: number } = {}): string {
  return canonicalJson(plan, opts.indent ?? 2) + "\n";
}
