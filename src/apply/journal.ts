import type { ExpectedVersion, StateBackend } from "../state/index.js";
import { compareAddress, sealResource, sealValue } from "../state/index.js";
import type { PendingWrite, ResourceAddress, StateFile, StateResource } from "../model/index.js";

/**
 * The state as apply changes it: indexed by address so that recording one outcome costs O(1), turned
 * back into a StateFile (sorted, serial + 1) only when persisted. Changes since the last persist are
 * tracked by `dirty`.
 */
export class WorkingState {
  private readonly header: Omit<StateFile, "resources" | "pending" | "serial">;
  readonly resources = new Map<string, StateResource>();
  /** Addresses in order as of the last snapshot (some may since be removed), and those added after it. */
  private sortedAddresses: string[] = [];
  private addedAddresses: string[] = [];
  readonly pending = new Map<string, PendingWrite>();
  private version: { lineage: string | null; serial: number | null };
  private nextSerial: number;
  dirty = false;
  writes = 0;
  /** The last persist was interim, so a whole one is still due (see persist). */
  wholeWriteDue = false;

  constructor(state: StateFile, stored: boolean, toolVersion?: string) {
    const { resources, pending, serial, ...header } = state;
    this.header = { ...header, tool_version: toolVersion ?? header.tool_version };
    for (const r of resources) this.resources.set(r.address, sealResource(r));
    this.addedAddresses = [...this.resources.keys()];
    for (const p of pending) this.pending.set(p.id, sealValue(p));
    this.version = stored ? { lineage: state.lineage, serial } : { lineage: null, serial: null };
    this.nextSerial = stored ? serial + 1 : serial;
  }

  get serial(): number | null {
    return this.version.serial;
  }

  get(address: ResourceAddress): StateResource | undefined {
    return this.resources.get(address);
  }

  /** Records a resource; it is sealed (frozen), so each persist reuses its encoding instead of redoing it. */
  put(r: StateResource): void {
    if (!this.resources.has(r.address)) this.addedAddresses.push(r.address);
    this.resources.set(r.address, sealResource(r));
    this.dirty = true;
  }

  remove(address: ResourceAddress): void {
    this.resources.delete(address);
    this.dirty = true;
  }

  /** Records a journal entry; it is sealed (frozen), so an interim persist can tell it unchanged. */
  addPending(p: PendingWrite): void {
    this.pending.set(p.id, sealValue(p));
    this.dirty = true;
  }

  clearPending(id: string): void {
    if (this.pending.delete(id)) this.dirty = true;
  }

  /** The state as a StateFile; resources in address order (kept between snapshots, so a persist does not sort them all again). */
  snapshot(): StateFile {
    const added = this.addedAddresses.sort(compareAddress);
    const old = this.sortedAddresses;
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < added.length) {
      const next = j >= added.length || (i < old.length && compareAddress(old[i]!, added[j]!) <= 0) ? old[i++]! : added[j++]!;
      if (this.resources.has(next) && merged[merged.length - 1] !== next) merged.push(next);
    }
    this.sortedAddresses = merged;
    this.addedAddresses = [];
    const resources = merged.map((a) => this.resources.get(a)!);
    return { ...this.header, serial: this.nextSerial, resources, pending: [...this.pending.values()] };
  }

  /**
   * Writes the current content (compare-and-swap against what this run last wrote). The snapshot is
   * taken synchronously, so outcomes recorded while the write is under way go into the next persist.
   * `interim`: more persists follow, so the backend may store only what changed (see WriteOptions); the
   * last persist of a run is whole.
   */
  async persist(backend: StateBackend, lockId?: string, opts: { interim?: boolean } = {}): Promise<number> {
    const next = this.snapshot();
    this.dirty = false;
    const expected: ExpectedVersion = { ...this.version };
    if (lockId !== undefined) expected.lockId = lockId;
    const interim = opts.interim === true;
    try {
      await backend.write(next, expected, { interim });
    } catch (e) {
      this.dirty = true;
      throw e;
    }
    this.version = { lineage: next.lineage, serial: next.serial };
    this.nextSerial = next.serial + 1;
    this.writes++;
    this.wholeWriteDue = interim;
    return next.serial;
  }
}
