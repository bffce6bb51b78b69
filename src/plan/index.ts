/** The plan engine: desired state, actual state, state file and policy in; a Plan out. Pure. */
export { computePlan } from "./compute.js";
export type { PlanInput, PlanMeta, PlanPolicy } from "./types.js";
export { managedFields, sameValue, getField, displayName } from "./fields.js";
export { planExitCode } from "./exitcode.js";
