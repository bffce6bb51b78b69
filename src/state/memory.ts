import { randomUUID } from "node:crypto";
import type { StateFile } from "../model/index.js";
import { checkCas, checkLockHeld, noLockError } from "./cas.js";
import { decodeState, encodeState } from "./codec.js";
import { isExpired, lockedError, newLockInfo } from "./lock.js";
import type { ExpectedVersion, LockInfo, LockRequest, StateBackend, StateIdentity } from "./types.js";

/** What several MemoryStateBackend handles share, as several processes share one state file. */
export interface MemoryStateStore {
  state: string | null;
  /** Lineage and serial of `state`, so a compare-and-swap need not decode it. */
  version: { lineage: string; serial: number } | null;
  lock: LockInfo | null;
  writes: number;
}

export function memoryStore(): MemoryStateStore {
  return { state: null, version: null, lock: null, writes: 0 };
}

export interface MemoryBackendOptions {
  store?: MemoryStateStore;
  identity?: StateIdentity;
  now?: () => Date;
  newId?: () => string;
  version?: string;
  name?: string;
}

/** A state backend in memory, for tests. States are stored encoded, as a file would hold
 * them, so callers cannot alias them and the same validation applies. */
export class MemoryStateBackend implements StateBackend {
  readonly store: MemoryStateStore;
  private readonly now: () => Date;
  private readonly newId: () => string;
  constructor(private readonly opts: MemoryBackendOptions = {}) {
    this.store = opts.store ?? memoryStore();
    this.now = opts.now ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
  }

  describe(): string {
    return `memory ${this.opts.name ?? "state"}`;
  }

  async read(): Promise<StateFile | null> {
    if (this.store.state === null) return null;
    return decodeState(this.store.state, { source: this.describe(), identity: this.opts.identity });
  }

  async write(next: StateFile, expected: ExpectedVersion): Promise<void> {
    checkLockHeld(this.store.lock, expected.lockId, this.describe());
    checkCas(this.store.version, next, expected, this.describe());
    this.store.state = encodeState(next);
    this.store.version = { lineage: next.lineage, serial: next.serial };
    this.store.writes++;
  }

  async lock(req: LockRequest): Promise<LockInfo> {
    const now = this.now();
    const info = newLockInfo(req, this.newId(), now, this.opts.version ?? "0.0.0", this.describe());
    const held = this.store.lock;
    if (held !== null) {
      if (!isExpired(held, now)) throw lockedError(held, now, 0);
      info.TakenOver = { ID: held.ID, Who: held.Who, Operation: held.Operation, Created: held.Created, Expires: held.Expires };
    }
    this.store.lock = info;
    return { ...info };
  }

  async refreshLock(id: string, ttlMs: number): Promise<LockInfo> {
    const held = this.store.lock;
    if (held === null || held.ID !== id) throw noLockError(id, held, this.describe());
    held.Expires = new Date(this.now().getTime() + ttlMs).toISOString();
    return { ...held };
  }

  async unlock(id: string): Promise<void> {
    const held = this.store.lock;
    if (held === null || held.ID !== id) throw noLockError(id, held, this.describe());
    this.store.lock = null;
  }

  async currentLock(): Promise<LockInfo | null> {
    return this.store.lock === null ? null : { ...this.store.lock };
  }
}
