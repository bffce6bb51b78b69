import type { StateFile } from "../model/index.js";

/**
 * A state backend (in the style of Terraform's statemgr: Reader + Writer + Locker). Every backend must
 * pass the shared conformance suite in test/unit/state/conformance.ts.
 */
export interface StateBackend {
  /** The stored state, validated; null when none has been written yet. */
  read(): Promise<StateFile | null>;
  /**
   * Replaces the stored state with `next` if, and only if, the stored state is still `expected`
   * (compare-and-swap on lineage and serial; `{lineage: null, serial: null}` means "nothing stored yet").
   * Refuses with a StateError otherwise, and also when `next` keeps the lineage but does not raise the
   * serial, or when `expected.lockId` is given and that lock is no longer held.
   */
  write(next: StateFile, expected: ExpectedVersion, options?: WriteOptions): Promise<void>;
  /** Takes the lock, or takes over an expired one. A live lock held by someone else: StateLockedError. */
  lock(req: LockRequest): Promise<LockInfo>;
  /** Extends the expiry of a lock we hold; a LockError if it is no longer ours. */
  refreshLock(id: string, ttlMs: number): Promise<LockInfo>;
  /** Releases the lock with this ID (whoever took it); a LockError if no lock or another ID is held. */
  unlock(id: string): Promise<void>;
  /** The lock currently recorded, expired or not; null when unlocked. */
  currentLock(): Promise<LockInfo | null>;
  /** One line for messages, e.g. `local file /srv/stsorg/state/prod.json`. */
  describe(): string;
  /**
   * Releases connections (database pools, HTTP agents) so the process can exit. Backends without any
   * keep none; callers call it when the command is done (`await backend.close?.()`).
   */
  close?(): Promise<void>;
}

export interface WriteOptions {
  /**
   * More writes of this state follow shortly (apply's journal batches); the last one is written without
   * this flag. A backend may then store `next` as its difference from the version it last read or wrote
   * (the local backend appends it to a journal) instead of whole; readers must see the same state either
   * way. Backends that store every version whole ignore it.
   */
  interim?: boolean;
}

export interface ExpectedVersion {
  lineage: string | null;
  serial: number | null;
  /** When given, the write is refused unless this lock is still held. */
  lockId?: string;
}

export interface LockRequest {
  /** What the holder is doing, e.g. `apply`, `plan`, `state rm`. */
  operation: string;
  /** `user@host` of the holder. */
  who: string;
  info?: string;
  /** How long the lock lives without a heartbeat. */
  ttlMs: number;
}

/** Lock information, field names as Terraform's LockInfo (plus Expires), so users recognise them. */
export interface LockInfo {
  ID: string;
  Operation: string;
  Info?: string;
  Who: string;
  /** stsorg version of the holder. */
  Version: string;
  /** ISO date-times. */
  Created: string;
  Expires: string;
  /** Where the state lives (file path, table, URL). */
  Path: string;
  /** Set when this lock replaced an expired one: whose it was. */
  TakenOver?: { ID: string; Who: string; Operation: string; Created: string; Expires: string };
}

/** What a state must belong to; a state read for another environment is refused. */
export interface StateIdentity {
  environment: string;
  cvr: string;
  admin_top_uuid: string;
}

export function versionOf(state: StateFile | null): { lineage: string | null; serial: number | null } {
  return state === null ? { lineage: null, serial: null } : { lineage: state.lineage, serial: state.serial };
}
