import type { FkState, Plan, PlanContext, UserRegistration } from "../model/index.js";
import { renderHuman, renderJson, renderMarkdown, renderSummary, renderTree } from "../views/index.js";

export type PlanFormat = "human" | "tree" | "markdown" | "json";
export const PLAN_FORMATS: PlanFormat[] = ["human", "tree", "markdown", "json"];

export interface PlanViewChoice {
  format: PlanFormat;
  summary: boolean;
  color: boolean;
  maxChars?: number;
  fullPlanHint?: string;
  /** Names and places the objects the plan does not change (the views read only its units and users). */
  desired?: FkState;
}

/**
 * One place that turns a plan into the text a command prints, so `plan`, `show` and `apply` agree. A plan
 * that carries its context is drawn from that alone, so a saved plan shows exactly as it was printed.
 */
export function renderPlan(plan: Plan, choice: PlanViewChoice): string {
  const fromContext = contextState(plan);
  const v: PlanViewChoice = fromContext ? { ...choice, desired: fromContext } : choice;
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

/** The plan with the context its views need (see PlanContext), taken from the desired state it was made from. */
export function withViewContext(plan: Plan, desired: FkState): Plan {
  const changedUsers = new Set(plan.changes.filter((c) => c.kind === "user").map((c) => c.uuid));
  const unchanged = new Map<string, number>();
  for (const [uuid, u] of desired.users) {
    const home = u.Positions[0]?.OrgUnitUuid;
    if (home !== undefined && !changedUsers.has(uuid)) unchanged.set(home, (unchanged.get(home) ?? 0) + 1);
  }
  const units: PlanContext["units"] = [...desired.orgUnits.values()]
    .map((u) => {
      const entry: PlanContext["units"][number] = { uuid: u.Uuid, name: u.Name, unchanged_users: unchanged.get(u.Uuid) ?? 0 };
      if (u.ParentOrgUnitUuid !== undefined) entry.parent = u.ParentOrgUnitUuid;
      return entry;
    })
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  return { ...plan, context: { units } };
}

/**
 * The context as the views take it: units by uuid, and one stand-in per unchanged user (the views only
 * count those, by the unit of their first position).
 */
function contextState(plan: Plan): FkState | undefined {
  if (!plan.context) return undefined;
  const orgUnits: FkState["orgUnits"] = new Map();
  const users: FkState["users"] = new Map();
  for (const u of plan.context.units) {
    orgUnits.set(u.uuid, { Uuid: u.uuid, Name: u.name, ...(u.parent !== undefined ? { ParentOrgUnitUuid: u.parent } : {}) });
    for (let i = 0; i < u.unchanged_users; i++) {
      const key = `${u.uuid}#${i}`;
      const standIn: UserRegistration = { Uuid: key, UserId: "", Positions: [{ Name: "", OrgUnitUuid: u.uuid }], Person: { Name: "" } };
      users.set(key, standIn);
    }
  }
  return { orgUnits, users };
}
