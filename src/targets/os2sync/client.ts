import { readFileSync } from "node:fs";
import { Agent, type Dispatcher } from "undici";
import { AuthError, RemoteError } from "../../errors/index.js";
import type { Environment } from "../../manifest/types.js";
import {
  isHashedCpr,
  normaliseCpr,
  normaliseOrgUnit,
  normaliseUser,
  type ObjectKind,
  type OrgUnitRegistration,
  type UserRegistration,
} from "../../model/index.js";
import { exchange, ExchangeError, splitUrl, type ExchangeAnswer } from "./exchange.js";
import { backoffDelay, isRetryableStatus, sleepUnlessAborted } from "./backoff.js";
import { Semaphore } from "./semaphore.js";

/**
 * OS2sync 4.x REST client. Writes only queue work in OS2sync (200 means "queued", not "written"), so
 * POST and DELETE are retried like reads: repeating them queues the same upsert or deactivation again,
 * which OS2sync collapses. Reads are normalised like the desired state so equal content compares equal.
 */

export interface ProgressStream {
  write(chunk: string): void;
}

export interface Os2syncClientOptions {
  /** Base URL including `/api` (`spec.os2sync.url`). `/manage/health` is resolved next to it. */
  url: string;
  /** Sent as the `cvr` header on every call. */
  cvr: string;
  /** Sent as the `apiKey` header when set. Never logged. */
  apiKey?: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Requests in flight at most (default 8). */
  concurrency?: number;
  /** Extra attempts after a network error, timeout or 408/429/5xx (default 4). */
  retries?: number;
  /** First backoff ceiling (default 500 ms); doubles per attempt up to `retryMaxMs` (default 10 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Give up on the hierarchy read after this long in total (default 15 min). */
  hierarchyTimeoutMs?: number;
  /** First wait between hierarchy polls (default 1 s), growing ×1.5 up to `hierarchyPollMaxMs` (default 15 s). */
  hierarchyPollInitialMs?: number;
  hierarchyPollMaxMs?: number;
  /** New hierarchy jobs started after a lost or failed result before giving up (default 3). */
  hierarchyMaxRestarts?: number;
  /** Where progress lines go (stderr in the CLI); silent when absent. */
  progress?: ProgressStream;
  /** A progress line at most this often while waiting (default 10 s). */
  progressEveryMs?: number;
  /** PEM bundle of a private CA to trust (TLS verification stays on). */
  caFile?: string;
  random?: () => number;
  /** Waits `ms`, or less when `signal` is aborted. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Monotonic-ish clock in ms, for the hierarchy deadline. */
  clock?: () => number;
}

export interface UpsertOptions {
  /** Users: write even if identical to the last successful write (needed for ShortKey-only changes and drift repair). */
  bypassCache?: boolean;
  /** OS2sync queue priority (OS2sync default 10; lower runs first). */
  priority?: number;
}

export interface HierarchyOptions {
  /** Sends `onlyOUs: true`: org units only, no users (faster). */
  onlyOUs?: boolean;
  /**
   * Gives up waiting when aborted (e.g. the OS2mo read of the same plan failed): no further polls, and
   * the wait between polls ends at once. Throws the signal's reason.
   */
  signal?: AbortSignal;
}

/** The hierarchy job's result, in OS2sync's shapes. */
export interface HierarchyOU {
  Uuid: string;
  Name: string;
  ParentOU: string | null;
}

export interface HierarchyUser {
  Uuid: string;
  UserId: string;
  /** The person's name. */
  Name: string;
  /** `Uuid` is the org unit's uuid. Positions carry no dates here. */
  Positions: { Uuid: string; Name: string }[];
  Email: string | null;
  Telephone: string | null;
  /** 0 UNKNOWN, 1 ACTIVE, 2 INACTIVE. */
  Status?: number;
}

export interface HierarchyResult {
  Created: string | null;
  OUs: HierarchyOU[];
  Users: HierarchyUser[];
  /** Jobs it took (more than 1 when a result was lost or a job failed). */
  jobs: number;
}

export interface ClientStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Of those, repeats after a failure. */
  retries: number;
  /** Requests per endpoint, e.g. `GET /orgUnit/{uuid}`. */
  byEndpoint: Record<string, number>;
}

interface RequestSpec {
  method: Dispatcher.HttpMethod;
  /** Path below the base URL (starting with `/`), or an absolute URL. */
  path: string;
  endpoint: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Repeat on network errors and retryable statuses (default true). */
  retry?: boolean;
  /** The object concerned, for error messages. */
  object?: { kind: ObjectKind; uuid: string; name?: string };
}

type RawResponse = ExchangeAnswer;

/** The request never got an answer (refused, dropped, timed out). */
class TransportFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly original: unknown,
  ) {
    super(message);
  }
}

const SYSTEM = "OS2sync";

export class Os2syncClient {
  readonly stats: ClientStats = { requests: 0, retries: 0, byEndpoint: {} };
  private readonly base: string;
  private readonly healthUrl: string;
  /** The base URL split once (see target). */
  private baseTarget: { origin: string; path: string } | undefined;
  private readonly semaphore: Semaphore;
  private readonly opts: Required<
    Pick<
      Os2syncClientOptions,
      | "timeoutMs"
      | "retries"
      | "retryBaseMs"
      | "retryMaxMs"
      | "hierarchyTimeoutMs"
      | "hierarchyPollInitialMs"
      | "hierarchyPollMaxMs"
      | "hierarchyMaxRestarts"
      | "progressEveryMs"
      | "random"
      | "sleep"
      | "clock"
    >
  >;
  /**
   * Keep-alive connections (at most `concurrency` per origin). undici rather than got here: a large apply
   * sends tens of thousands of writes, and got's per-request work cost about four times the CPU of the
   * request itself (measured: ~500 µs against ~100 µs per POST on loopback).
   */
  private readonly dispatcher: Agent;

  constructor(private readonly options: Os2syncClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.healthUrl = this.base.replace(/\/api$/i, "") + "/manage/health";
    const concurrency = options.concurrency ?? 8;
    this.semaphore = new Semaphore(concurrency);
    this.opts = {
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 4,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 10_000,
      hierarchyTimeoutMs: options.hierarchyTimeoutMs ?? 15 * 60_000,
      hierarchyPollInitialMs: options.hierarchyPollInitialMs ?? 1_000,
      hierarchyPollMaxMs: options.hierarchyPollMaxMs ?? 15_000,
      hierarchyMaxRestarts: options.hierarchyMaxRestarts ?? 3,
      progressEveryMs: options.progressEveryMs ?? 10_000,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? sleepUnlessAborted,
      clock: options.clock ?? (() => Date.now()),
    };
    const ca = options.caFile !== undefined ? readFileSync(options.caFile, "utf8") : undefined;
    this.dispatcher = new Agent({ connections: concurrency, ...(ca !== undefined ? { connect: { ca } } : {}) });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    void this.dispatcher.close().catch(() => undefined);
  }

  // ---- writes (queued by OS2sync) ----

  async upsertOrgUnit(reg: OrgUnitRegistration, opts: UpsertOptions = {}): Promise<void> {
    await this.expectOk({
      method: "POST",
      path: "/orgUnit",
      endpoint: "POST /orgUnit",
      query: writeQuery(opts),
      body: reg,
      object: { kind: "orgunit", uuid: reg.Uuid, name: reg.Name },
    });
  }

  async upsertUser(reg: UserRegistration, opts: UpsertOptions = {}): Promise<void> {
    await this.expectOk({
      method: "POST",
      path: "/user",
      endpoint: "POST /user",
      query: writeQuery(opts),
      body: userDto(reg),
      object: { kind: "user", uuid: reg.Uuid, name: userDisplayName(reg) },
    });
  }

  async deleteOrgUnit(uuid: string): Promise<void> {
    await this.expectOk({ method: "DELETE", path: `/orgUnit/${enc(uuid)}`, endpoint: "DELETE /orgUnit/{uuid}", object: { kind: "orgunit", uuid } });
  }

  async deleteUser(uuid: string): Promise<void> {
    await this.expectOk({ method: "DELETE", path: `/user/${enc(uuid)}`, endpoint: "DELETE /user/{uuid}", object: { kind: "user", uuid } });
  }

  async passivateOrgUnit(uuid: string): Promise<void> {
    await this.expectOk({
      method: "POST",
      path: `/orgUnit/passiver/${enc(uuid)}`,
      endpoint: "POST /orgUnit/passiver/{uuid}",
      object: { kind: "orgunit", uuid },
    });
  }

  async passivateUser(uuid: string): Promise<void> {
    await this.expectOk({
      method: "POST",
      path: `/user/passiver/${enc(uuid)}`,
      endpoint: "POST /user/passiver/{uuid}",
      object: { kind: "user", uuid },
    });
  }

  // ---- reads (live from FK) ----

  /** The org unit as FK holds it, normalised; undefined when absent or inactive. */
  async getOrgUnit(uuid: string): Promise<OrgUnitRegistration | undefined> {
    const body = await this.getJsonOr404({ method: "GET", path: `/orgUnit/${enc(uuid)}`, endpoint: "GET /orgUnit/{uuid}", object: { kind: "orgunit", uuid } });
    return body === undefined ? undefined : normaliseOrgUnit(asRecord(body, "org unit"));
  }

  async getUser(uuid: string): Promise<UserRegistration | undefined> {
    const body = await this.getJsonOr404({ method: "GET", path: `/user/${enc(uuid)}`, endpoint: "GET /user/{uuid}", object: { kind: "user", uuid } });
    return body === undefined ? undefined : normaliseUser(asRecord(body, "user"));
  }

  /** Uuids (lower case, sorted) of the municipality's active org units. */
  async listOrgUnits(): Promise<string[]> {
    return uuidList(await this.getJson({ method: "GET", path: "/orgUnit/all", endpoint: "GET /orgUnit/all" }));
  }

  async listUsers(): Promise<string[]> {
    return uuidList(await this.getJson({ method: "GET", path: "/user/all", endpoint: "GET /user/all" }));
  }

  /** True when OS2sync answers its health check. Network failures and non-200 answers throw. */
  async health(): Promise<true> {
    const res = await this.send({ method: "GET", path: this.healthUrl, endpoint: "GET /manage/health" });
    if (res.status !== 200) throw this.statusError(res, { method: "GET", path: this.healthUrl, endpoint: "GET /manage/health" });
    return true;
  }

  /**
   * Reads the organisation with OS2sync's hierarchy job. OS2sync hands a job's result out once only, so
   * when the answer to the poll that would carry it is lost (connection dropped, timeout, 5xx) the
   * result may be gone: a new job is started instead of polling a job that will never answer.
   */
  async hierarchy(opts: HierarchyOptions = {}): Promise<HierarchyResult> {
    const started = this.opts.clock();
    const deadline = started + this.opts.hierarchyTimeoutMs;
    let jobs = 0;
    let lastProgress = started;
    for (;;) {
      opts.signal?.throwIfAborted();
      jobs++;
      const id = await this.startHierarchyJob(opts);
      this.progress(`OS2sync hierarchy job ${id} started${jobs > 1 ? ` (attempt ${jobs})` : ""}`);
      let wait = this.opts.hierarchyPollInitialMs;
      let restartReason: string | undefined;
      while (restartReason === undefined) {
        const remaining = deadline - this.opts.clock();
        if (remaining <= 0) throw this.hierarchyTimeout(started);
        await this.opts.sleep(Math.min(wait, remaining), opts.signal);
        opts.signal?.throwIfAborted();
        wait = Math.min(this.opts.hierarchyPollMaxMs, Math.ceil(wait * 1.5));
        const outcome = await this.pollHierarchy(id);
        if (outcome.kind === "result") {
          const secs = ((this.opts.clock() - started) / 1000).toFixed(1);
          this.progress(`OS2sync hierarchy read: ${outcome.result.OUs.length} org units, ${outcome.result.Users.length} users (${secs} s)`);
          return { ...outcome.result, jobs };
        }
        if (outcome.kind === "lost") restartReason = outcome.reason;
        else if (this.opts.clock() - lastProgress >= this.opts.progressEveryMs) {
          lastProgress = this.opts.clock();
          this.progress(`OS2sync hierarchy job still running (${Math.round((lastProgress - started) / 1000)} s)`);
        }
      }
      if (jobs > this.opts.hierarchyMaxRestarts) {
        throw new RemoteError(SYSTEM, `OS2sync's hierarchy read failed ${jobs} times; last: ${restartReason}`, {
          hint: "Check OS2sync's log for the hierarchy job, or use --refresh full.",
        });
      }
      this.progress(`OS2sync hierarchy result not received (${restartReason}); starting a new job`);
    }
  }

  private async startHierarchyJob(opts: HierarchyOptions): Promise<string> {
    const res = await this.send({
      method: "GET",
      path: "/hierarchy",
      endpoint: "GET /hierarchy",
      headers: { accept: "application/json", ...(opts.onlyOUs ? { onlyOUs: "true" } : {}) },
    });
    if (res.status !== 200) throw this.statusError(res, { method: "GET", path: "/hierarchy", endpoint: "GET /hierarchy" });
    let id = res.body.trim();
    if (res.contentType.includes("json") || id.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(id);
        if (typeof parsed === "string") id = parsed;
      } catch {
        // plain text after all
      }
    }
    if (!/^[0-9a-fA-F-]{36}$/.test(id)) {
      throw new RemoteError(SYSTEM, `OS2sync answered the hierarchy request with an unexpected body: ${truncate(id, 80)}`);
    }
    return id.toLowerCase();
  }

  private async pollHierarchy(
    id: string,
  ): Promise<{ kind: "pending" } | { kind: "lost"; reason: string } | { kind: "result"; result: Omit<HierarchyResult, "jobs"> }> {
    const spec: RequestSpec = { method: "GET", path: `/hierarchy/${id}`, endpoint: "GET /hierarchy/{id}", retry: false, headers: { accept: "application/json" } };
    let res: RawResponse;
    try {
      res = await this.send(spec);
    } catch (e) {
      if (e instanceof RemoteError && e.cause instanceof TransportFailure) return { kind: "lost", reason: e.cause.message };
      throw e;
    }
    if (res.status === 404) return { kind: "pending" };
    if (res.status !== 200) {
      if (res.status >= 500 || res.status === 408) return { kind: "lost", reason: `HTTP ${res.status}` };
      throw this.statusError(res, spec);
    }
    let body: Record<string, unknown>;
    try {
      body = asRecord(JSON.parse(res.body), "hierarchy");
    } catch {
      return { kind: "lost", reason: "the result was not valid JSON" };
    }
    // OS2sync's wrapper Status: 0 SUCCESS, 1 FAILURE (the job could not read FK).
    if (body.Status === 1 || body.Status === "FAILURE" || body.Result === null || body.Result === undefined) {
      return { kind: "lost", reason: "OS2sync reported the hierarchy job as failed" };
    }
    const result = asRecord(body.Result, "hierarchy result");
    return {
      kind: "result",
      result: {
        Created: typeof body.Created === "string" ? body.Created : null,
        OUs: (Array.isArray(result.OUs) ? result.OUs : []).map((o) => hierarchyOu(asRecord(o, "hierarchy OU"))),
        Users: (Array.isArray(result.Users) ? result.Users : []).map((u) => hierarchyUser(asRecord(u, "hierarchy user"))),
      },
    };
  }

  private hierarchyTimeout(started: number): RemoteError {
    const mins = ((this.opts.clock() - started) / 60_000).toFixed(1);
    return new RemoteError(SYSTEM, `OS2sync's hierarchy read did not finish within ${mins} min`, {
      hint: "Raise spec.os2sync.hierarchyTimeoutMs (large municipalities take many minutes), or use --refresh none/full.",
    });
  }

  private progress(line: string): void {
    this.options.progress?.write(line + "\n");
  }

  // ---- transport ----

  private async expectOk(spec: RequestSpec): Promise<void> {
    const res = await this.send(spec);
    if (res.status < 200 || res.status >= 300) throw this.statusError(res, spec);
  }

  private async getJson(spec: RequestSpec): Promise<unknown> {
    const res = await this.send({ ...spec, headers: { accept: "application/json", ...spec.headers } });
    if (res.status !== 200) throw this.statusError(res, spec);
    return parseJsonBody(res, spec);
  }

  private async getJsonOr404(spec: RequestSpec): Promise<unknown> {
    const res = await this.send({ ...spec, headers: { accept: "application/json", ...spec.headers } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.statusError(res, spec);
    return parseJsonBody(res, spec);
  }

  /**
   * Sends one request, repeating it after network errors and retryable statuses. Returns any answer that
   * is not retryable; 401 becomes an AuthError here since no caller can do anything else with it.
   */
  private async send(spec: RequestSpec): Promise<RawResponse> {
    const retries = spec.retry === false ? 0 : this.opts.retries;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.retries++;
      this.stats.requests++;
      this.stats.byEndpoint[spec.endpoint] = (this.stats.byEndpoint[spec.endpoint] ?? 0) + 1;
      let res: RawResponse | undefined;
      let failure: TransportFailure | undefined;
      try {
        res = await this.semaphore.run(() => this.once(spec));
      } catch (e) {
        if (!(e instanceof TransportFailure)) throw e;
        failure = e;
      }
      if (res && res.status === 401) throw this.authError(spec);
      const retryable = failure !== undefined || (res !== undefined && isRetryableStatus(res.status));
      if (retryable && attempt < retries) {
        await this.opts.sleep(backoffDelay(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs, this.opts.random));
        continue;
      }
      if (failure) {
        const what = spec.object ? ` for ${describe(spec.object)}` : "";
        throw new RemoteError(SYSTEM, `${spec.endpoint}${what} failed after ${attempt + 1} attempt(s): ${failure.message}`, {
          cause: failure,
          uuid: spec.object?.uuid,
          name: spec.object?.name,
          hint: `Check that OS2sync is running and reachable at ${this.base} (spec.os2sync.url), or raise spec.os2sync.timeoutMs.`,
        });
      }
      return res!;
    }
  }

  private async once(spec: RequestSpec): Promise<RawResponse> {
    const headers: Record<string, string> = { cvr: this.options.cvr, ...spec.headers };
    if (this.options.apiKey) headers.apiKey = this.options.apiKey;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers["content-type"] = "application/json";
    }
    try {
      const { origin, path } = this.target(spec.path);
      const query = spec.query === undefined ? "" : queryString(spec.query, path.includes("?"));
      return await exchange(this.dispatcher, { origin, path: path + query, method: spec.method, headers, body, timeoutMs: this.opts.timeoutMs });
    } catch (e) {
      if (e instanceof ExchangeError) throw new TransportFailure(e.code, e.message, e.cause ?? e);
      throw e;
    }
  }

  /** Origin and path of a request path below the base URL, or of an absolute URL. */
  private target(path: string): { origin: string; path: string } {
    if (/^https?:\/\//i.test(path)) return splitUrl(path);
    this.baseTarget ??= splitUrl(this.base);
    return { origin: this.baseTarget.origin, path: this.baseTarget.path + path };
  }

  private authError(spec: RequestSpec): AuthError {
    return new AuthError(`OS2sync refused ${spec.endpoint} with 401 Unauthorized`, {
      hint:
        `stsorg sends the municipality's CVR (${this.options.cvr}) in the cvr header` +
        (this.options.apiKey ? " and spec.os2sync.apiKey in the apiKey header" : " and no apiKey header") +
        ". Check that the CVR matches OS2sync's configured Cvr and that the api key matches OS2sync's ApiKey setting" +
        (this.options.apiKey ? "." : " (set spec.os2sync.apiKey if OS2sync has one)."),
    });
  }

  private statusError(res: RawResponse, spec: RequestSpec): RemoteError {
    const detail = res.body.trim();
    const obj = spec.object;
    if (res.status === 400) {
      const target = obj ? `${describe(obj)}` : spec.endpoint;
      return new RemoteError(SYSTEM, `OS2sync rejected ${target}: ${detail || "400 Bad Request"}`, {
        status: 400,
        uuid: obj?.uuid,
        name: obj?.name,
        hint: hintFor400(detail),
      });
    }
    return new RemoteError(SYSTEM, `${spec.endpoint} answered HTTP ${res.status}${detail ? `: ${truncate(detail, 200)}` : ""}`, {
      status: res.status,
      uuid: obj?.uuid,
      name: obj?.name,
    });
  }
}

/** A client for an environment's OS2sync; `apiKey` is the resolved `spec.os2sync.apiKey`, if any. */
export function createOs2syncClient(
  env: Environment,
  deps: { apiKey?: string; progress?: ProgressStream } = {},
  overrides: Partial<Os2syncClientOptions> = {},
): Os2syncClient {
  return new Os2syncClient({
    url: env.os2sync.url,
    cvr: env.municipality.cvr,
    apiKey: deps.apiKey,
    timeoutMs: env.os2sync.timeoutMs,
    concurrency: env.os2sync.concurrency,
    hierarchyTimeoutMs: env.os2sync.hierarchyTimeoutMs,
    caFile: env.os2sync.caFile,
    progress: deps.progress,
    ...overrides,
  });
}

/** `?a=1&b=2` (or `&a=1…` after an existing query), encoded as URLSearchParams does; "" for no parameters. */
function queryString(query: Record<string, string>, more: boolean): string {
  let out = "";
  for (const [k, v] of Object.entries(query)) out += (out === "" ? (more ? "&" : "?") : "&") + formEncode(k) + "=" + formEncode(v);
  return out;
}

function formEncode(s: string): string {
  return /^[A-Za-z0-9*\-._]*$/.test(s) ? s : new URLSearchParams([["", s]]).toString().slice(1);
}

function writeQuery(opts: UpsertOptions): Record<string, string> | undefined {
  const q: Record<string, string> = {};
  if (opts.bypassCache) q.bypassCache = "true";
  if (opts.priority !== undefined) q.priority = String(opts.priority);
  return Object.keys(q).length > 0 ? q : undefined;
}

/** OS2sync's queue column holds 10 characters for the CPR: send digits only. Hashes must never leave. */
function userDto(reg: UserRegistration): UserRegistration {
  const cpr = reg.Person.Cpr;
  if (cpr === undefined) return reg;
  if (isHashedCpr(cpr)) throw new Error(`refusing to send a hashed CPR to OS2sync for user ${reg.Uuid}; the CPR must be re-read from OS2mo`);
  const digits = normaliseCpr(cpr);
  const person = { ...reg.Person };
  if (digits === undefined) delete person.Cpr;
  else person.Cpr = digits;
  return { ...reg, Person: person };
}

function userDisplayName(reg: UserRegistration): string {
  return reg.Person?.Name ? `${reg.Person.Name} (${reg.UserId})` : reg.UserId;
}

function describe(obj: { kind: ObjectKind; uuid: string; name?: string }): string {
  const kind = obj.kind === "orgunit" ? "org unit" : "user";
  return obj.name ? `${kind} "${obj.name}" (${obj.uuid})` : `${kind} ${obj.uuid}`;
}

function hintFor400(detail: string): string | undefined {
  if (/column 'cpr'/i.test(detail)) return "OS2sync takes a CPR as 10 digits without a dash.";
  if (/column/i.test(detail)) return "A value is longer than OS2sync's queue table allows (ShortKey is at most 50 characters).";
  if (/null|empty/i.test(detail)) return "A required field is missing; check the object in OS2mo.";
  return undefined;
}

function parseJsonBody(res: RawResponse, spec: RequestSpec): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    throw new RemoteError(SYSTEM, `${spec.endpoint} returned a body that is not JSON: ${truncate(res.body, 80)}`);
  }
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new RemoteError(SYSTEM, `OS2sync returned a ${what} that is not a JSON object`);
  return v as Record<string, unknown>;
}

function uuidList(v: unknown): string[] {
  if (!Array.isArray(v)) throw new RemoteError(SYSTEM, "OS2sync returned a list that is not a JSON array");
  return [...new Set(v.map((u) => String(u).trim().toLowerCase()))].sort();
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

function hierarchyOu(o: Record<string, unknown>): HierarchyOU {
  return { Uuid: String(o.Uuid ?? "").toLowerCase(), Name: String(o.Name ?? ""), ParentOU: str(o.ParentOU)?.toLowerCase() ?? null };
}

function hierarchyUser(u: Record<string, unknown>): HierarchyUser {
  const positions = Array.isArray(u.Positions) ? u.Positions : [];
  return {
    Uuid: String(u.Uuid ?? "").toLowerCase(),
    UserId: String(u.UserId ?? ""),
    Name: String(u.Name ?? ""),
    Positions: positions.map((p) => {
      const r = (p ?? {}) as Record<string, unknown>;
      return { Uuid: String(r.Uuid ?? "").toLowerCase(), Name: String(r.Name ?? "") };
    }),
    Email: str(u.Email),
    Telephone: str(u.Telephone),
    ...(statusNumber(u.Status) !== undefined ? { Status: statusNumber(u.Status) } : {}),
  };
}

/** OS2sync writes enums as numbers; accept the names too. */
function statusNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  const names: Record<string, number> = { UNKNOWN: 0, ACTIVE: 1, INACTIVE: 2 };
  return typeof v === "string" ? names[v.toUpperCase()] : undefined;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}
