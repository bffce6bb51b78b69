/**
 * Apply: carries out a saved plan against FK through the FkWriter port, with a write-ahead journal in
 * state, bounded parallelism in dependency order, retries that read back before resending, settling of
 * a crashed run's journal, and read-back confirmation (`--wait`).
 */
export { applyPlan, type ApplyDeps } from "./execute.js";
export { checkPlanApplicable, checkPlanState, DEFAULT_MAX_PLAN_AGE_MS, type PlanCheckContext } from "./check.js";
export { settlePending, settleBackend, readSettled, formatSettleReport, type SettleOutcome, type SettleReport, type SettleOptions } from "./settle.js";
export { confirmWrites, confirmAndRecord, markConfirmed, recordUnconfirmed, type ConfirmOptions, type ConfirmResult } from "./confirm.js";
export { attributesMatch, differingFields, displayName, type CompareOptions } from "./compare.js";
export { dependencies, checkAcyclic } from "./graph.js";
export {
  streamProgress,
  nullProgress,
  formatProgressBar,
  formatProgressLine,
  formatDuration,
  estimateEtaMs,
  type ProgressSink,
  type ProgressSnapshot,
  type ProgressStream,
  type StreamProgressOptions,
} from "./progress.js";
export {
  summaryLine,
  applyExitCode,
  type ApplyResult,
  type ApplyCounts,
  type AppliedWrite,
  type FailedChange,
  type SkippedChange,
} from "./result.js";
export { FkWriteError, isPermanentFailure, type FkReader, type FkWriter } from "./writer.js";
