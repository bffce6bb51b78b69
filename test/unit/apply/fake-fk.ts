import { FkWriteError, type FkWriter } from "../../../src/apply/index.js";
import { AuthError, RemoteError } from "../../../src/errors/index.js";
import {
  canonicalJson,
  hashCpr,
  normaliseOrgUnit,
  normaliseUser,
  PLAN_FORMAT_VERSION,
  type Change,
  type OrgUnitRegistration,
  type Plan,
  type UserRegistration,
} from "../../../src/model/index.js";

export type Op = "upsertOrgUnit" | "upsertUser" | "deleteOrgUnit" | "deleteUser" | "getOrgUnit" | "getUser";

export interface CallRecord {
  op: Op;
  uuid: string;
  /** Event sequence numbers: when the call started and when it finished. */
  start: number;
  end?: number;
  /** For upsertUser: the CPR as received (in clear). */
  cpr?: string;
}

export type Fault = "transient" | "transient-after-apply" | "permanent" | "drop";

/**
 * FK behind the FkWriter port, in memory: what a real OS2sync + FK would hold after each call. Faults are
 * scripted per uuid (consumed one per write call); latency is random but seeded so runs repeat.
 */
export class FakeFk implements FkWriter {
  readonly units = new Map<string, OrgUnitRegistration>();
  readonly users = new Map<string, UserRegistration>();
  readonly calls: CallRecord[] = [];
  readonly faults = new Map<string, Fault[]>();
  /** Called as a write arrives, before it takes effect. */
  onWrite?: (op: Op, uuid: string) => void | Promise<void>;
  inFlight = 0;
  maxInFlight = 0;
  /** Every call after this many answers 401 (the api key was rotated under a running apply). */
  refuseCredentialsAfter?: number;
  private seq = 0;
  private rnd: () => number;

  constructor(opts: { seed?: number; maxLatencyMs?: number } = {}) {
    let s = opts.seed ?? 1;
    this.rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    this.maxLatencyMs = opts.maxLatencyMs ?? 0;
  }
  maxLatencyMs: number;

  fault(uuid: string, ...faults: Fault[]): void {
    this.faults.set(uuid, [...(this.faults.get(uuid) ?? []), ...faults]);
  }

  writesTo(uuid: string): CallRecord[] {
    return this.calls.filter((c) => c.uuid === uuid && !c.op.startsWith("get"));
  }

  private async call<T>(op: Op, uuid: string, effect: () => T, extra: Partial<CallRecord> = {}): Promise<T> {
    const rec: CallRecord = { op, uuid, start: ++this.seq, ...extra };
    this.calls.push(rec);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const isWrite = !op.startsWith("get");
      if (isWrite) await this.onWrite?.(op, uuid);
      if (this.maxLatencyMs > 0) await new Promise((r) => setTimeout(r, Math.floor(this.rnd() * this.maxLatencyMs)));
      else await Promise.resolve();
      if (this.refuseCredentialsAfter !== undefined && this.calls.length > this.refuseCredentialsAfter) {
        throw new AuthError(`OS2sync refused ${op} with 401 Unauthorized`, { hint: "Check the cvr and apiKey." });
      }
      const fault = isWrite ? this.faults.get(uuid)?.shift() : undefined;
      if (fault === "permanent") throw new FkWriteError(`OS2sync rejected ${uuid}: 400 Bad Request`, true, 400);
      if (fault === "transient") throw new RemoteError("OS2sync", `${op} answered HTTP 503`, { status: 503 });
      if (fault === "drop") return undefined as T;
      const out = effect();
      if (fault === "transient-after-apply") throw new RemoteError("OS2sync", `${op} timed out`, {});
      return out;
    } finally {
      this.inFlight--;
      rec.end = ++this.seq;
    }
  }

  upsertOrgUnit(reg: OrgUnitRegistration): Promise<void> {
    return this.call("upsertOrgUnit", reg.Uuid, () => void this.units.set(reg.Uuid, normaliseOrgUnit({ ...reg })));
  }
  upsertUser(reg: UserRegistration): Promise<void> {
    return this.call("upsertUser", reg.Uuid, () => void this.users.set(reg.Uuid, normaliseUser({ ...reg })), { cpr: reg.Person.Cpr });
  }
  deleteOrgUnit(uuid: string): Promise<void> {
    return this.call("deleteOrgUnit", uuid, () => void this.units.delete(uuid));
  }
  deleteUser(uuid: string): Promise<void> {
    return this.call("deleteUser", uuid, () => void this.users.delete(uuid));
  }
  getOrgUnit(uuid: string): Promise<OrgUnitRegistration | undefined> {
    return this.call("getOrgUnit", uuid, () => this.units.get(uuid));
  }
  getUser(uuid: string): Promise<UserRegistration | undefined> {
    return this.call("getUser", uuid, () => {
      const u = this.users.get(uuid);
      // Like OS2sync's GET, the CPR is not returned.
      return u && { ...u, Person: { Name: u.Person.Name, ...(u.Person.Uuid ? { Uuid: u.Person.Uuid } : {}) } };
    });
  }
}

export const TOP = "00000000-0000-4000-8000-000000000000";
export const ENV = { name: "test", stage: "test", cvr: "12345678", admin_top_uuid: TOP };

export function uuid(n: number, kind: "unit" | "user" = "unit"): string {
  const prefix = kind === "unit" ? "aaaaaaaa" : "bbbbbbbb";
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export function unit(n: number, parent: string, name = `Unit ${n}`): OrgUnitRegistration {
  return { Uuid: uuid(n), Name: name, ParentOrgUnitUuid: parent };
}

export function user(n: number, units: string[], cprHash?: string): UserRegistration {
  const u: UserRegistration = {
    Uuid: uuid(n, "user"),
    UserId: `user${n}`,
    Positions: units.map((OrgUnitUuid) => ({ Name: "Medarbejder", OrgUnitUuid })).sort((a, b) => (a.OrgUnitUuid < b.OrgUnitUuid ? -1 : 1)),
    Person: { Name: `Person ${n}`, ...(cprHash ? { Cpr: cprHash } : {}) },
  };
  return u;
}

export const CPR_KEY = "test-cpr-key";
export const cprHash = (cpr: string) => hashCpr(cpr, CPR_KEY);

export function create(reg: OrgUnitRegistration | UserRegistration): Change {
  const kind = "UserId" in reg ? "user" : "orgunit";
  const name = kind === "user" ? `${(reg as UserRegistration).Person.Name} (${(reg as UserRegistration).UserId})` : (reg as OrgUnitRegistration).Name;
  return { action: "create", address: `${kind}/${reg.Uuid}`, kind, uuid: reg.Uuid, name, after: reg };
}

export function update(before: OrgUnitRegistration | UserRegistration, after: OrgUnitRegistration | UserRegistration): Change {
  return { ...create(after), action: "update", before };
}

export function del(before: OrgUnitRegistration | UserRegistration): Change {
  const c = create(before);
  return { action: "delete", address: c.address, kind: c.kind, uuid: c.uuid, name: c.name, before };
}

export function adopt(reg: OrgUnitRegistration | UserRegistration): Change {
  return { ...create(reg), action: "adopt", before: reg, fields: [] };
}

export function makePlan(changes: Change[], state: { lineage: string | null; serial: number }, over: Partial<Plan> = {}): Plan {
  const count = (a: Change["action"]) => changes.filter((c) => c.action === a).length;
  const body = {
    format_version: PLAN_FORMAT_VERSION,
    tool_version: "0.1.0",
    environment: ENV,
    manifest_sha256: "m".repeat(64),
    state,
    refresh: { mode: "full" as const, observed_at: "2025-03-01T09:00:00.000Z", fully_observed: 0, partially_observed: 0 },
    options: { refresh_only: false, targets: [], prune: "managed" as const, allow_deletes: null },
    changes,
    drift: [],
    errors: [],
    warnings: [],
    guards: [],
    summary: {
      create: count("create"),
      update: count("update"),
      delete: count("delete"),
      adopt: count("adopt"),
      drift: 0,
      orgunit: { create: 0, update: 0, delete: 0, adopt: 0 },
      user: { create: 0, update: 0, delete: 0, adopt: 0 },
    },
    cpr: { synced: false, key_id: null },
  };
  return { ...body, plan_id: "p-" + canonicalJson(changes.map((c) => c.address)).length, created_at: "2025-03-01T09:00:00.000Z", ...over } as Plan;
}

/** A deterministic id source. */
export function ids(): () => string {
  let n = 0;
  return () => `eeeeeeee-0000-4000-8000-${(++n).toString(16).padStart(12, "0")}`;
}
