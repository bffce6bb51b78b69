import { canonicalJson, normaliseOrgUnit, normaliseUser, sha256Hex } from "../../model/index.js";
import type { ObjectKind } from "../../model/index.js";
import type { FkStore, FkWrite } from "../fkstore/index.js";
import type { JsonObject } from "./dto.js";

/**
 * OS2sync's database queue: POST/DELETE/passiver insert rows, a scheduled job drains them. Rows for the
 * same uuid collapse (newest wins), org units go before users, at most `usersPerRun` users per run,
 * a user identical to its last successful write is skipped unless `bypassCache`, and FK's refusals go
 * to a failure list the REST API never shows.
 */

export type QueueOperation = "UPDATE" | "DELETE" | "PASSIVER";

export interface QueueRow {
  id: number;
  kind: ObjectKind;
  operation: QueueOperation;
  uuid: string;
  /** The bound DTO for UPDATE. */
  payload?: JsonObject;
  bypassCache: boolean;
  priority: number;
  /** Epoch ms. */
  enqueuedAt: number;
}

export interface QueueFailure {
  id: number;
  kind: ObjectKind;
  operation: QueueOperation;
  uuid: string;
  name?: string;
  /** FK's status code (40, 44, …). */
  status: number;
  message: string;
  rule?: string;
  /** ISO datetime. */
  at: string;
}

export interface QueueStats {
  pending: number;
  succeeded: number;
  failed: number;
  /** Rows dropped because a newer row for the same uuid replaced them. */
  superseded: number;
  /** User rows skipped as identical to the last successful write. */
  skippedIdentical: number;
}

interface Persisted {
  nextId: number;
  rows: QueueRow[];
  failures: QueueFailure[];
  lastUserSuccess: Record<string, string>;
  stats: Omit<QueueStats, "pending">;
}

export interface QueueOptions {
  /** A row becomes eligible this many ms after it was queued. */
  delayMs: number;
  usersPerRun: number;
  now: () => Date;
}

const SECTION = "os2sync";

export class Os2syncQueue {
  private nextId = 1;
  private rows: QueueRow[] = [];
  private failures: QueueFailure[] = [];
  /** uuid → hash of the last successfully written user, ShortKey left out. */
  private lastUserSuccess = new Map<string, string>();
  private counters = { succeeded: 0, failed: 0, superseded: 0, skippedIdentical: 0 };

  constructor(
    private readonly store: FkStore,
    public options: QueueOptions,
  ) {
    const saved = store.getSection<Persisted>(SECTION);
    if (saved) {
      this.nextId = saved.nextId;
      this.rows = saved.rows;
      this.failures = saved.failures;
      this.lastUserSuccess = new Map(Object.entries(saved.lastUserSuccess));
      this.counters = { ...this.counters, ...saved.stats };
    }
  }

  enqueue(row: Omit<QueueRow, "id" | "enqueuedAt">): QueueRow {
    const full: QueueRow = { ...row, uuid: row.uuid.toLowerCase(), id: this.nextId++, enqueuedAt: this.options.now().getTime() };
    this.rows.push(full);
    this.persist();
    return full;
  }

  pending(): QueueRow[] {
    return [...this.rows];
  }

  failureList(): QueueFailure[] {
    return [...this.failures];
  }

  clearFailures(): void {
    this.failures = [];
    this.persist();
  }

  stats(): QueueStats {
    return { pending: this.rows.length, ...this.counters };
  }

  reset(): void {
    this.rows = [];
    this.failures = [];
    this.lastUserSuccess.clear();
    this.counters = { succeeded: 0, failed: 0, superseded: 0, skippedIdentical: 0 };
    this.persist();
  }

  /** One scheduler run over the rows that are due (all rows when `all`). Returns the rows handled. */
  runOnce(all = false): number {
    const now = this.options.now().getTime();
    const due = this.rows.filter((r) => all || r.enqueuedAt + this.options.delayMs <= now);
    if (due.length === 0) return 0;
    const newest = new Map<string, QueueRow>();
    for (const r of due) {
      const key = `${r.kind}/${r.uuid}`;
      const prev = newest.get(key);
      if (prev && prev.id > r.id) continue;
      newest.set(key, r);
    }
    const order = (a: QueueRow, b: QueueRow) => a.priority - b.priority || a.id - b.id;
    const units = [...newest.values()].filter((r) => r.kind === "orgunit").sort(order);
    const users = [...newest.values()].filter((r) => r.kind === "user").sort(order).slice(0, all ? undefined : this.options.usersPerRun);
    const handled = [...units, ...users];
    const handledKeys = new Set(handled.map((r) => `${r.kind}/${r.uuid}`));
    const maxIdByKey = new Map(handled.map((r) => [`${r.kind}/${r.uuid}`, r.id]));
    // Every due row of a handled uuid goes (older ones are superseded); rows queued later stay.
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => {
      const key = `${r.kind}/${r.uuid}`;
      if (!handledKeys.has(key)) return true;
      return r.id > (maxIdByKey.get(key) ?? 0);
    });
    this.counters.superseded += before - this.rows.length - handled.length;
    for (const row of handled) this.process(row);
    this.persist();
    return handled.length;
  }

  /** Drains everything queued, due or not. */
  drain(): void {
    while (this.rows.length > 0) this.runOnce(true);
  }

  private process(row: QueueRow): void {
    let write: FkWrite;
    let userHash: string | undefined;
    if (row.operation === "UPDATE") {
      const payload = (row.payload ?? {}) as Record<string, unknown>;
      if (row.kind === "orgunit") {
        write = { kind: "orgunit", op: "upsert", registration: normaliseOrgUnit(payload) };
      } else {
        const registration = normaliseUser(payload);
        const { ShortKey: _ignored, ...compared } = registration;
        userHash = sha256Hex(canonicalJson(compared));
        if (!row.bypassCache && this.lastUserSuccess.get(row.uuid) === userHash) {
          this.counters.skippedIdentical++;
          return;
        }
        write = { kind: "user", op: "upsert", registration };
      }
    } else {
      write = { kind: row.kind, op: row.operation === "DELETE" ? "deactivate" : "passivate", uuid: row.uuid };
    }
    const result = this.store.apply(write);
    if (result.ok) {
      this.counters.succeeded++;
      if (row.kind === "user") {
        if (userHash !== undefined) this.lastUserSuccess.set(row.uuid, userHash);
        else this.lastUserSuccess.delete(row.uuid);
      }
      return;
    }
    this.counters.failed++;
    const name = row.payload?.Name ?? (row.payload?.Person as JsonObject | null | undefined)?.Name;
    this.failures.push({
      id: row.id,
      kind: row.kind,
      operation: row.operation,
      uuid: row.uuid,
      ...(typeof name === "string" ? { name } : {}),
      status: result.rejection.status,
      message: result.rejection.message,
      ...(result.rejection.rule ? { rule: result.rejection.rule } : {}),
      at: this.options.now().toISOString(),
    });
  }

  /**
   * The saved form, read when the store is saved or dumped rather than built on every change: sorting
   * the last-success memory on every POST made a large apply quadratic (tens of thousands of users,
   * each write re-sorting all of them).
   */
  private readonly persisted: Persisted = ((q: Os2syncQueue): Persisted => ({
    get nextId() {
      return q.nextId;
    },
    get rows() {
      return q.rows;
    },
    get failures() {
      return q.failures;
    },
    get lastUserSuccess() {
      return Object.fromEntries([...q.lastUserSuccess.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    },
    get stats() {
      return q.counters;
    },
  }))(this);

  private persist(): void {
    this.store.setSection(SECTION, this.persisted);
  }
}
