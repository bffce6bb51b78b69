/** OS2sync as stsorg's target: the REST client and the refresh strategies that read FK's actual state. */
export { Os2syncClient, createOs2syncClient } from "./client.js";
export type {
  ClientStats,
  HierarchyOptions,
  HierarchyOU,
  HierarchyResult,
  HierarchyUser,
  Os2syncClientOptions,
  ProgressStream,
  UpsertOptions,
} from "./client.js";
export {
  refreshActual,
  mergePositions,
  HIERARCHY_OBSERVED_ORG_UNIT_FIELDS,
  HIERARCHY_OBSERVED_USER_FIELDS,
  HIERARCHY_POSITION_RULE,
} from "./refresh.js";
export type { Os2syncRefreshMode, RefreshClient, RefreshDeps } from "./refresh.js";
export { Semaphore, mapLimit } from "./semaphore.js";
export { backoffDelay, isRetryableStatus, sleepUnlessAborted } from "./backoff.js";
