import { canonicalJson, sha256Hex } from "./canonical.js";
import type { FieldName, ObjectKind, ResourceAddress } from "./fk.js";
import type { Attributes } from "./state.js";
import type { ConsistencyIssue, RefreshMode } from "./states.js";

/**
 * The plan: plain, JSON-serialisable data (`schemas/plan.schema.json`). Computed by `computePlan`,
 * rendered by the views, written by `plan -out`, carried out by `apply`.
 */

export const PLAN_FORMAT_VERSION = "1.0";

export type Action = "create" | "update" | "delete" | "adopt";

/** One attribute that differs. Values are as in `Attributes` (a CPR only ever as `hmac-sha256:…`). */
export interface FieldChange {
  field: FieldName;
  before?: unknown;
  after?: unknown;
  /** The value is personal data: views print `(sensitive value)`. */
  sensitive?: boolean;
  /** The field was not read from FK in this refresh: `before` is what state says was applied. */
  unobserved?: boolean;
}

/**
 * One planned action on one FK object.
 *
 * | action | before                          | after                                              |
 * |--------|---------------------------------|----------------------------------------------------|
 * | create | absent                          | the registration to POST                           |
 * | update | FK's current content (refreshed, unobserved fields from state) | the registration to POST: desired, with FK's values kept for unmanaged fields |
 * | delete | FK's current content, or state's | absent                                            |
 * | adopt  | FK's current content            | the same content, recorded in state without a write |
 */
export interface Change {
  action: Action;
  address: ResourceAddress;
  kind: ObjectKind;
  uuid: string;
  /** Display name: unit Name; for users, the person's name and UserId. */
  name: string;
  /** For the tree view: parent unit (units) or the unit of the first position (users). */
  parent?: string;
  before?: Attributes;
  after?: Attributes;
  /** update: the changed fields only; adopt: empty. */
  fields?: FieldChange[];
  /** Managed fields compared against state rather than FK (refresh did not observe them). */
  unobserved?: FieldName[];
  /** Why (for deletes: ownership; for adopt: "matches"). */
  reason?: string;
}

/** An FK object that changed outside stsorg since it was last applied: state says `before`, FK says `after`. */
export interface Drift {
  address: ResourceAddress;
  kind: ObjectKind;
  uuid: string;
  name: string;
  /** "changed" (fields differ) or "deleted" (managed object gone from FK). */
  type: "changed" | "deleted";
  fields: FieldChange[];
}

export interface GuardResult {
  guard: "max-deletes" | "protected-unit";
  message: string;
  /** How to override, e.g. `--allow-deletes 120`. */
  override?: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  adopt: number;
  drift: number;
  orgunit: { create: number; update: number; delete: number; adopt: number };
  user: { create: number; update: number; delete: number; adopt: number };
}

/**
 * What the views need to name and place the objects a plan does not change: every unit of the desired
 * state with its parent, and how many unchanged users have their first position there. Recorded by
 * `plan`, so that `show` of a saved plan prints what `plan` printed. Presentation only: not part of the
 * plan id, and apply does not read it.
 */
export interface PlanContext {
  units: { uuid: string; name: string; parent?: string; unchanged_users: number }[];
}

export interface Plan {
  format_version: typeof PLAN_FORMAT_VERSION;
  /** sha256 of the canonical plan body (everything but `plan_id`, `created_at`, `context`, and `refresh.observed_at`); identifies the plan. */
  plan_id: string;
  tool_version: string;
  created_at: string;
  environment: { name: string; stage: string; cvr: string; admin_top_uuid: string };
  manifest_sha256: string;
  /** The state the plan was made against; apply refuses another lineage or a newer serial. */
  state: { lineage: string | null; serial: number };
  refresh: {
    mode: RefreshMode;
    observed_at: string | null;
    /** Objects whose every managed field was read from FK, and those with some fields taken from state. */
    fully_observed: number;
    partially_observed: number;
  };
  options: {
    refresh_only: boolean;
    targets: ResourceAddress[];
    prune: "managed" | "all-under-top";
    allow_deletes: number | null;
  };
  /** In apply order: unit creates/updates parents first, then users; deletes users first, then units leaves first. */
  changes: Change[];
  drift: Drift[];
  /** Consistency errors (from the mapping) and refusals: a plan with errors cannot be applied. */
  errors: ConsistencyIssue[];
  warnings: ConsistencyIssue[];
  guards: GuardResult[];
  summary: PlanSummary;
  /** When CPR numbers are synchronised, the id of the hash key used (never the key itself). */
  cpr: { synced: boolean; key_id: string | null };
  context?: PlanContext;
}

/**
 * The plan's id: sha256 of its canonical body. The moment FK was read is metadata, like `created_at`, so
 * two plans of the same inputs share an id whenever they ran; `context` only feeds the views.
 */
export function planIdOf(plan: Omit<Plan, "plan_id" | "created_at"> & { plan_id?: unknown; created_at?: unknown }): string {
  const { plan_id: _id, created_at: _at, context: _context, ...body } = plan;
  return sha256Hex(canonicalJson({ ...body, refresh: { ...body.refresh, observed_at: null } }));
}

/** True when `apply` may carry the plan out. */
export function isApplicable(plan: Plan): boolean {
  return plan.errors.length === 0 && plan.guards.length === 0 && !plan.options.refresh_only;
}

export function hasChanges(plan: Plan): boolean {
  return plan.changes.length > 0;
}
