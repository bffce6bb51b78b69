import type { ActualState, DesiredState, FieldName, ResourceAddress, StateFile } from "../model/index.js";

/** What the plan engine needs from the sync policy and the manifest's `safety` section. */
export interface PlanPolicy {
  /** Fields never diffed; an update keeps FK's value for them (OS2sync replaces the whole object). */
  unmanagedFields: FieldName[];
  /** `managed`: delete only objects recorded in state; `all-under-top`: any active FK object under the top unit. */
  prune: "managed" | "all-under-top";
  /** FK uuids of units never deleted (in addition to the admin top unit). */
  protectedUnits: string[];
  /** FK uuid of the municipality's root unit in STS Organisation: never deleted. */
  adminTopUuid: string;
  /** More deletes than `count`, or than `percent` of the managed objects, need `allowDeletes`. */
  maxDeletes: { count: number; percent: number };
  /** `--allow-deletes N`: up to N deletes pass the max-deletes guard. */
  allowDeletes: number | null;
  /** `--target`: limit the plan to these objects. Empty: the whole organisation. */
  targets: ResourceAddress[];
  /** `--refresh-only`: report drift, plan no writes. */
  refreshOnly: boolean;
  /** The resolved CPR hash key when CPR numbers are synchronised; null otherwise. */
  cprHashKey: string | null;
}

export interface PlanMeta {
  toolVersion: string;
  /** ISO datetime; passed in so the engine reads no clock. */
  createdAt: string;
  environment: { name: string; stage: string; cvr: string; admin_top_uuid: string };
  manifestSha256: string;
}

export interface PlanInput {
  /** From the mapping. CPR numbers in clear (in memory only). */
  desired: DesiredState;
  /** From the refresh. CPR numbers in clear (in memory only). */
  actual: ActualState;
  state: StateFile | null;
  policy: PlanPolicy;
  meta: PlanMeta;
}
