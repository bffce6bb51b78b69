import type { Plan } from "../model/index.js";

/**
 * The exit code of `stsorg plan`: 1 when the plan is refused (mapping errors, a guard), otherwise 0, or
 * with `--detailed-exitcode` 2 when there is something to do (Terraform's convention). A refresh-only
 * plan is about drift alone: 2 when FK drifted, and OS2mo's data errors do not fail it (they do not
 * bear on drift, and a scheduled drift check should not turn red over them).
 */
export function planExitCode(plan: Plan, detailed: boolean): 0 | 1 | 2 {
  if (plan.options.refresh_only) return detailed && plan.drift.length > 0 ? 2 : 0;
  if (plan.errors.length > 0 || plan.guards.length > 0) return 1;
  return detailed && plan.changes.length > 0 ? 2 : 0;
}
