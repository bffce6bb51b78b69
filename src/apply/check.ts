import { PlanRefusedError } from "../errors/index.js";
import type { Plan, StateFile } from "../model/index.js";
import { formatAge } from "../state/index.js";

export const DEFAULT_MAX_PLAN_AGE_MS = 24 * 3600 * 1000;
/** Clocks of the machine that planned and the one that applies may differ a little. */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

export interface PlanCheckContext {
  /** The state as it is now (null: none yet). */
  state: StateFile | null;
  /** sha256 of the manifest as it is now. */
  manifestSha256: string;
  now: Date;
  maxPlanAgeMs?: number;
  /** The saved plan's file, named in every refusal. */
  file?: string;
}

/** Refuses a saved plan that must not be carried out; returns normally when it may be. */
export function checkPlanApplicable(plan: Plan, ctx: PlanCheckContext): void {
  checkPlanState(plan, ctx.state, ctx.file);
  if (plan.manifest_sha256 !== ctx.manifestSha256) {
    throw new PlanRefusedError("Saved plan was made with another version of the manifest.", {
      file: ctx.file,
      hint: "The manifest changed after the plan was made. Run plan again and review the new plan.",
    });
  }
  const maxAge = ctx.maxPlanAgeMs ?? DEFAULT_MAX_PLAN_AGE_MS;
  const created = Date.parse(plan.created_at);
  if (Number.isNaN(created)) throw new PlanRefusedError(`Saved plan has an unreadable created_at: ${JSON.stringify(plan.created_at)}.`, { file: ctx.file });
  const age = ctx.now.getTime() - created;
  if (-age > FUTURE_TOLERANCE_MS) {
    throw new PlanRefusedError(`Saved plan is dated in the future: made at ${plan.created_at}, ${formatAge(-age)} from now.`, {
      file: ctx.file,
      hint: "Its age cannot be checked. Check the clocks of this machine and of the one that made the plan, then make the plan again.",
    });
  }
  if (age > maxAge) {
    throw new PlanRefusedError(`Saved plan is too old: made ${formatAge(age)} ago, the limit is ${formatAge(maxAge)}.`, {
      file: ctx.file,
      hint: "OS2mo has probably changed since. Run plan again, or raise the limit with --max-plan-age.",
    });
  }
  if (plan.options.refresh_only) {
    throw new PlanRefusedError("Saved plan is a refresh-only plan; it reports drift and cannot be applied.", {
      file: ctx.file,
      hint: "Run plan without --refresh-only to make a plan that can be applied.",
    });
  }
  if (plan.errors.length > 0) {
    const first = plan.errors.slice(0, 3).map((e) => e.message);
    throw new PlanRefusedError(`Saved plan has ${plan.errors.length} error(s) and cannot be applied: ${first.join("; ")}`, {
      file: ctx.file,
      hint: "Fix the errors in OS2mo (see plan output) and run plan again.",
    });
  }
  if (plan.guards.length > 0) {
    throw new PlanRefusedError(`Saved plan was refused by a safety guard: ${plan.guards.map((g) => g.message).join("; ")}`, {
      file: ctx.file,
      hint: `A saved plan is applied exactly as it was made. Check the plan, then plan again${overrides(plan)} and apply that plan.`,
    });
  }
}

/** The lineage and serial rule alone (apply checks it again under the lock, just before writing). */
export function checkPlanState(plan: Plan, state: StateFile | null, file?: string): void {
  const lineage = state?.lineage ?? null;
  if (plan.state.lineage !== null && plan.state.lineage !== lineage) {
    throw new PlanRefusedError("Saved plan does not match the given state: it was made against another state lineage.", {
      file,
      hint: `The plan was made against lineage ${plan.state.lineage}; the state has ${lineage ?? "none"}. Run plan again against this environment's state.`,
    });
  }
  if (plan.state.lineage === null && lineage !== null) {
    throw new PlanRefusedError("Saved plan is stale: it was made before any state existed, and a state has been written since.", {
      file,
      hint: "Run plan again.",
    });
  }
  const serial = state?.serial ?? 0;
  if (lineage !== null && plan.state.serial !== serial) {
    throw new PlanRefusedError(
      `Saved plan is stale: the state changed after the plan was made (plan serial ${plan.state.serial}, state serial ${serial}).`,
      { file, hint: "Run plan again to see the changes as they are now." },
    );
  }
}

function overrides(plan: Plan): string {
  const given = plan.guards.map((g) => g.override).filter((o): o is string => typeof o === "string" && o !== "");
  return given.length > 0 ? ` with ${given.join(" ")}` : "";
}
