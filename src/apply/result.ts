import type { Action, Attributes, ObjectKind, ResourceAddress } from "../model/index.js";

/** A write OS2sync accepted (queued), for `--wait` to read back. */
export interface AppliedWrite {
  address: ResourceAddress;
  kind: ObjectKind;
  uuid: string;
  name: string;
  action: "create" | "update" | "delete";
  /** What was written (create/update), CPR hashed. */
  attributes?: Attributes;
  /** A read-back already saw FK hold it (after a retried write). */
  confirmed: boolean;
}

export interface FailedChange {
  address: ResourceAddress;
  name: string;
  action: Action;
  message: string;
  /** Retrying cannot help (OS2sync refused the content; a CPR check failed). */
  permanent: boolean;
  /** The write may or may not have reached OS2sync; its journal entry stays and the next run settles it. */
  outcomeUnknown: boolean;
}

export interface SkippedChange {
  address: ResourceAddress;
  name: string;
  action: Action;
  /** The failed (or skipped, or not started) change it depends on. */
  blockedBy: ResourceAddress;
}

export interface ApplyCounts {
  added: number;
  changed: number;
  destroyed: number;
  adopted: number;
}

export interface ApplyResult extends ApplyCounts {
  writes: AppliedWrite[];
  failures: FailedChange[];
  skipped: SkippedChange[];
  /** Changes never started because the run was interrupted. */
  notStarted: { address: ResourceAddress; name: string; action: Action }[];
  interrupted: boolean;
  /** Serial of the state as finally written (null when nothing was written). */
  serial: number | null;
  /** Number of state writes the run made. */
  stateWrites: number;
  /**
   * `Apply complete! Resources: X added, Y changed, Z destroyed.` (with `, N adopted` when any); an apply
   * that did not do everything says so instead: `Apply interrupted!` or `Apply failed!`, with what was
   * left undone.
   */
  summaryLine(): string;
}

export interface ApplyEnding {
  interrupted: boolean;
  failed: number;
  skipped: number;
  notStarted: number;
}

export function summaryLine(c: ApplyCounts, end: ApplyEnding = { interrupted: false, failed: 0, skipped: 0, notStarted: 0 }): string {
  const adopted = c.adopted > 0 ? `, ${c.adopted} adopted` : "";
  const done = `Resources: ${c.added} added, ${c.changed} changed, ${c.destroyed} destroyed${adopted}`;
  const undone = [
    end.failed > 0 ? `${end.failed} failed` : "",
    end.skipped > 0 ? `${end.skipped} skipped` : "",
    end.notStarted > 0 ? `${end.notStarted} not started` : "",
  ].filter(Boolean);
  if (end.interrupted) return `Apply interrupted! ${done}; ${undone.join(", ") || "nothing left undone"}.`;
  if (end.failed > 0 || end.skipped > 0) return `Apply failed! ${done}; ${undone.join(", ")}.`;
  return `Apply complete! ${done}.`;
}

/** The exit status of an apply: 130 interrupted, 1 when anything failed or was skipped, else 0. */
export function applyExitCode(r: ApplyResult): number {
  if (r.interrupted) return 130;
  return r.failures.length > 0 || r.skipped.length > 0 ? 1 : 0;
}
