import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { ObjectKind, OrgUnitRegistration, UserRegistration } from "../../model/index.js";
import { normaliseOrgUnit, normaliseUser } from "../../model/index.js";
import { defaultRules, type FkRejection, type RejectionRule } from "./rules.js";

/**
 * An in-memory FK Organisation for the sandboxes: one municipality's org units and users with their
 * lifecycle (active, deactivated by a DELETE, passivated), optionally persisted to one JSON file so
 * that separate runs see the same FK. Sandboxes that speak FK's protocols (OS2sync REST, FK GraphQL)
 * sit in front of it; writes that FK would refuse are turned away by rejection rules.
 */

/** FK's lifecycle: `inactive` is Gyldighed=Inaktiv (a DELETE), `passive` is a passivated registration. */
export type FkLifecycle = "active" | "inactive" | "passive";

export interface FkRecord<T> {
  uuid: string;
  registration: T;
  lifecycle: FkLifecycle;
  /** When FK last registered a change to the object (ISO datetime). */
  timestamp: string;
}

export type FkWrite =
  | { kind: "orgunit"; op: "upsert"; registration: OrgUnitRegistration }
  | { kind: "user"; op: "upsert"; registration: UserRegistration }
  | { kind: ObjectKind; op: "deactivate" | "passivate"; uuid: string };

export type FkWriteResult = { ok: true } | { ok: false; rejection: FkRejection };

export interface FkStoreOptions {
  /** JSON file to load from (when it exists) and save to. */
  file?: string;
  now?: () => Date;
  /** Rules checked before every write; defaults to `defaultRules()`. */
  rules?: RejectionRule[];
  /** Saves are coalesced over this many ms (default 20); `flush()` saves at once. */
  saveDebounceMs?: number;
}

/** Read access the rejection rules get. */
export interface FkStoreReader {
  isActive(kind: ObjectKind, uuid: string): boolean;
  record(kind: "orgunit", uuid: string): FkRecord<OrgUnitRegistration> | undefined;
  record(kind: "user", uuid: string): FkRecord<UserRegistration> | undefined;
}

export const FK_STORE_FORMAT_VERSION = 1;

interface StoreFile {
  format_version: typeof FK_STORE_FORMAT_VERSION;
  orgUnits: FkRecord<OrgUnitRegistration>[];
  users: FkRecord<UserRegistration>[];
  /** Data of the servers in front of the store (e.g. OS2sync's queue), saved with it so both stay consistent. */
  sections: Record<string, unknown>;
}

export class FkStore implements FkStoreReader {
  readonly file?: string;
  rules: RejectionRule[];
  private readonly now: () => Date;
  private readonly debounceMs: number;
  private orgUnits = new Map<string, FkRecord<OrgUnitRegistration>>();
  private users = new Map<string, FkRecord<UserRegistration>>();
  private sections = new Map<string, unknown>();
  private saveTimer: NodeJS.Timeout | undefined;
  private listeners: (() => void)[] = [];
  /** Incremented on every change; lets readers cache derived views. */
  version = 0;

  constructor(opts: FkStoreOptions = {}) {
    this.file = opts.file;
    this.now = opts.now ?? (() => new Date());
    this.rules = opts.rules ?? defaultRules();
    this.debounceMs = opts.saveDebounceMs ?? 20;
    if (this.file !== undefined && existsSync(this.file)) this.load(this.file);
  }

  private load(file: string): void {
    let data: StoreFile;
    try {
      data = JSON.parse(readFileSync(file, "utf8")) as StoreFile;
    } catch (e) {
      throw new Error(`FK sandbox data file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (data.format_version !== FK_STORE_FORMAT_VERSION) {
      throw new Error(`FK sandbox data file ${file} has format_version ${String(data.format_version)}; expected ${FK_STORE_FORMAT_VERSION}`);
    }
    for (const r of data.orgUnits ?? []) this.orgUnits.set(r.uuid, r);
    for (const r of data.users ?? []) this.users.set(r.uuid, r);
    for (const [k, v] of Object.entries(data.sections ?? {})) this.sections.set(k, v);
  }

  isActive(kind: ObjectKind, uuid: string): boolean {
    return this.map(kind).get(uuid.toLowerCase())?.lifecycle === "active";
  }

  record(kind: "orgunit", uuid: string): FkRecord<OrgUnitRegistration> | undefined;
  record(kind: "user", uuid: string): FkRecord<UserRegistration> | undefined;
  record(kind: ObjectKind, uuid: string): FkRecord<OrgUnitRegistration | UserRegistration> | undefined;
  record(kind: ObjectKind, uuid: string): FkRecord<OrgUnitRegistration | UserRegistration> | undefined {
    return this.map(kind).get(uuid.toLowerCase());
  }

  /** Uuids of active objects, sorted. */
  activeUuids(kind: ObjectKind): string[] {
    const out: string[] = [];
    for (const [uuid, r] of this.map(kind)) if (r.lifecycle === "active") out.push(uuid);
    return out.sort();
  }

  activeOrgUnits(): FkRecord<OrgUnitRegistration>[] {
    return [...this.orgUnits.values()].filter((r) => r.lifecycle === "active").sort(byUuid);
  }

  activeUsers(): FkRecord<UserRegistration>[] {
    return [...this.users.values()].filter((r) => r.lifecycle === "active").sort(byUuid);
  }

  /** Every record in any lifecycle, sorted by uuid. */
  allRecords(kind: "orgunit"): FkRecord<OrgUnitRegistration>[];
  allRecords(kind: "user"): FkRecord<UserRegistration>[];
  allRecords(kind: ObjectKind): FkRecord<OrgUnitRegistration | UserRegistration>[] {
    return [...this.map(kind).values()].sort(byUuid);
  }

  /** A write as FK would take it: rules first, then the change. */
  apply(write: FkWrite): FkWriteResult {
    for (const rule of this.rules) {
      const rejection = rule.check(write, this);
      if (rejection) return { ok: false, rejection: { ...rejection, rule: rejection.rule ?? rule.name } };
    }
    if (write.op === "upsert") {
      if (write.kind === "orgunit") this.put("orgunit", write.registration);
      else this.put("user", write.registration);
    } else {
      this.setLifecycle(write.kind, write.uuid, write.op === "deactivate" ? "inactive" : "passive");
    }
    return { ok: true };
  }

  /** Sets an object's registration and makes it active, bypassing the rules (admin/drift use). */
  put(kind: "orgunit", registration: OrgUnitRegistration): void;
  put(kind: "user", registration: UserRegistration): void;
  put(kind: ObjectKind, registration: OrgUnitRegistration | UserRegistration): void {
    const reg =
      kind === "orgunit"
        ? normaliseOrgUnit(registration as unknown as Record<string, unknown>)
        : normaliseUser(registration as unknown as Record<string, unknown>);
    const uuid = reg.Uuid;
    const map = this.map(kind) as Map<string, FkRecord<OrgUnitRegistration | UserRegistration>>;
    map.set(uuid, { uuid, registration: reg, lifecycle: "active", timestamp: this.now().toISOString() });
    this.changed();
  }

  /** Changes an object's lifecycle; false when FK has no such object. */
  setLifecycle(kind: ObjectKind, uuid: string, lifecycle: FkLifecycle): boolean {
    const r = this.map(kind).get(uuid.toLowerCase());
    if (!r) return false;
    r.lifecycle = lifecycle;
    r.timestamp = this.now().toISOString();
    this.changed();
    return true;
  }

  /** Forgets an object entirely (as if it never existed). */
  remove(kind: ObjectKind, uuid: string): boolean {
    const had = this.map(kind).delete(uuid.toLowerCase());
    if (had) this.changed();
    return had;
  }

  counts(): { orgUnits: number; users: number; activeOrgUnits: number; activeUsers: number } {
    return {
      orgUnits: this.orgUnits.size,
      users: this.users.size,
      activeOrgUnits: this.activeUuids("orgunit").length,
      activeUsers: this.activeUuids("user").length,
    };
  }

  getSection<T>(name: string): T | undefined {
    return this.sections.get(name) as T | undefined;
  }

  setSection(name: string, data: unknown): void {
    this.sections.set(name, data);
    this.scheduleSave();
  }

  /** Empties FK and every section. */
  reset(): void {
    this.orgUnits.clear();
    this.users.clear();
    this.sections.clear();
    this.changed();
  }

  /** Called after every change to FK content. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.file === undefined || this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, this.debounceMs);
  }

  /** Saves pending changes now. */
  flush(): void {
    if (this.saveTimer !== undefined) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    this.save();
  }

  /** The persisted form (also what the admin API dumps). */
  snapshot(): StoreFile {
    return {
      format_version: FK_STORE_FORMAT_VERSION,
      orgUnits: [...this.orgUnits.values()].sort(byUuid),
      users: [...this.users.values()].sort(byUuid),
      sections: Object.fromEntries([...this.sections.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
  }

  private save(): void {
    if (this.file === undefined) return;
    writeFileAtomic(this.file, JSON.stringify(this.snapshot()) + "\n");
  }

  private map(kind: ObjectKind): Map<string, FkRecord<OrgUnitRegistration | UserRegistration>> {
    return (kind === "orgunit" ? this.orgUnits : this.users) as Map<string, FkRecord<OrgUnitRegistration | UserRegistration>>;
  }
}

let tmpCounter = 0;

/** Write to a temporary file in the same folder, fsync, then rename: readers see the old or the new file, never half. */
export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function byUuid(a: { uuid: string }, b: { uuid: string }): number {
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}
