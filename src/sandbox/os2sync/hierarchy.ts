import { randomUUID } from "node:crypto";
import type { FkStore } from "../fkstore/index.js";
import { USER_STATUS, type JsonObject } from "./dto.js";

/**
 * OS2sync's hierarchy read: `GET /api/hierarchy` starts a background job and returns its id; the job's
 * result is served once by `GET /api/hierarchy/{id}` (404 before it is ready, and after it was read)
 * and forgotten after `ttlMs` (an hour in OS2sync). Results live in memory only, as in OS2sync.
 */

export interface HierarchyOptions {
  /** How long a job takes. */
  delayMs: () => number;
  ttlMs: number;
  now: () => Date;
  /** List deactivated users too, with Status INACTIVE (some FK reads do; clients must skip them). */
  includeInactiveUsers: () => boolean;
}

interface Job {
  created: Date;
  result?: JsonObject;
  timer?: NodeJS.Timeout;
}

export class HierarchyJobs {
  private jobs = new Map<string, Job>();

  constructor(
    private readonly store: FkStore,
    private readonly options: HierarchyOptions,
  ) {}

  start(onlyOUs: boolean): string {
    const id = randomUUID().toLowerCase();
    const job: Job = { created: this.options.now() };
    this.jobs.set(id, job);
    job.timer = setTimeout(() => {
      job.timer = undefined;
      job.result = this.build(onlyOUs, this.options.now());
    }, this.options.delayMs());
    return id;
  }

  /** The result, removed on read; undefined while running, unknown, read already, or expired. */
  take(id: string): JsonObject | undefined {
    this.expire();
    const job = this.jobs.get(id.toLowerCase());
    if (!job || job.result === undefined) return undefined;
    this.jobs.delete(id.toLowerCase());
    return job.result;
  }

  /** Jobs (running or finished) not yet read. */
  size(): number {
    this.expire();
    return this.jobs.size;
  }

  expire(): void {
    const limit = this.options.now().getTime() - this.options.ttlMs;
    for (const [id, job] of this.jobs) {
      if (job.created.getTime() < limit) {
        if (job.timer) clearTimeout(job.timer);
        this.jobs.delete(id);
      }
    }
  }

  stop(): void {
    for (const job of this.jobs.values()) if (job.timer) clearTimeout(job.timer);
    this.jobs.clear();
  }

  private build(onlyOUs: boolean, at: Date): JsonObject {
    const OUs = this.store.activeOrgUnits().map((r) => ({
      Uuid: r.uuid,
      Name: r.registration.Name,
      ParentOU: r.registration.ParentOrgUnitUuid ?? null,
    }));
    const Users: JsonObject[] = [];
    if (!onlyOUs) {
      const records = this.options.includeInactiveUsers()
        ? this.store.allRecords("user").filter((r) => r.lifecycle !== "passive")
        : this.store.activeUsers();
      for (const r of records) {
        const u = r.registration;
        if (!u.Person.Name) continue;
        Users.push({
          Uuid: r.uuid,
          UserId: u.UserId,
          Name: u.Person.Name,
          Positions: u.Positions.map((p) => ({ Uuid: p.OrgUnitUuid, Name: p.Name })),
          Email: u.Email ?? null,
          Telephone: u.PhoneNumber ?? null,
          Status: r.lifecycle === "active" ? USER_STATUS.ACTIVE : USER_STATUS.INACTIVE,
        });
      }
    }
    return { Created: at.toISOString(), Result: { OUs, Users }, Status: 0 };
  }
}
