import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Method } from "got";
import { AuthError, LockError, RemoteError, StateError } from "../errors/index.js";
import type { StateFile } from "../model/index.js";
import { checkCas, checkLockHeld, noLockError } from "./cas.js";
import { decodeState, encodeState } from "./codec.js";
import { isExpired, lockedError, newLockInfo, realSleep, whoAmI } from "./lock.js";
import type { ExpectedVersion, LockInfo, LockRequest, StateBackend, StateIdentity } from "./types.js";

export interface HttpBackendOptions {
  /** State URL: GET reads, POST stores (Terraform's `address`). */
  address: string;
  /** Terraform's `lock_address`; default: address. */
  lockAddress?: string;
  /** Terraform's `unlock_address`; default: address. */
  unlockAddress?: string;
  /** Default LOCK (GitLab: POST). */
  lockMethod?: string;
  /** Default UNLOCK (GitLab: DELETE). */
  unlockMethod?: string;
  /** Basic auth; with `password` (resolved on first use). */
  username?: string;
  password?: string | (() => Promise<string>);
  /** Bearer token (resolved on first use); takes the place of basic auth. */
  token?: string | (() => Promise<string>);
  /** Retries after a 5xx, 429 or network error (Terraform's `retry_max`, default 2). */
  retryMax?: number;
  /** First wait before a retry, doubling up to retryWaitMaxMs (Terraform: 1 s and 30 s). */
  retryWaitMinMs?: number;
  retryWaitMaxMs?: number;
  timeoutMs?: number;
  /** PEM file of a private CA for an https address. */
  caFile?: string;
  identity?: StateIdentity;
  now?: () => Date;
  newId?: () => string;
  version?: string;
  sleep?: (ms: number) => Promise<void>;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** True when an earlier attempt of this request failed without an answer we could use. */
  retried: boolean;
}

/** How long the lock taken around a write that names no lock lives. */
const WRITE_LOCK_TTL_MS = 60_000;

/**
 * State on a server speaking Terraform's HTTP backend protocol (GitLab-managed Terraform state, or any
 * implementation of it): GET reads, POST stores (`?ID=<lock id>` while locked), LOCK/UNLOCK (or the
 * configured methods) take and release the lock with Terraform's lock info JSON, and a held lock is
 * answered 409 or 423 with the holder's info.
 *
 * The protocol has no compare-and-swap and no expiry, so:
 * - A write reads the stored state, compares lineage and serial, and only then POSTs, always under a
 *   lock: the caller's (`expected.lockId`, sent as `?ID=` so the server refuses the write once that lock
 *   is gone), or, when the caller holds none, a lock taken just for the write. Two writers therefore
 *   cannot interleave read and POST unless the server ignores locks.
 * - The lock info carries `Expires`. A heartbeat re-LOCKs with the same ID and a later `Expires`. A
 *   server that refuses a LOCK by the current holder (GitLab) only tells us that the lock is still ours:
 *   the expiry stays as first sent. GitLab answers a held lock without `Expires`, so there such locks
 *   never expire for other runs either.
 * - A lock whose `Expires` has passed is taken over by UNLOCKing with the holder's ID and LOCKing anew.
 *   A lock without `Expires` (GitLab, Terraform, another tool) never expires: `state unlock` only.
 *   Should the holder still be alive, its next POST carries the old ID and is refused: no lost update.
 * - The protocol cannot read a lock, so `currentLock()` probes: it LOCKs with a throwaway ID and, if that
 *   succeeds, UNLOCKs at once (for a moment the state is locked by "stsorg lock probe").
 */
export class HttpStateBackend implements StateBackend {
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Lock info of the locks this handle took, so renewals and unlocks can send it back whole. */
  private readonly mine = new Map<string, LockInfo>();
  private auth: Promise<string | undefined> | undefined;
  private ca: Promise<string | undefined> | undefined;

  constructor(private readonly opts: HttpBackendOptions) {
    this.now = opts.now ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
    this.sleep = opts.sleep ?? realSleep;
  }

  describe(): string {
    return `http ${redactUrl(this.opts.address)}`;
  }

  async read(): Promise<StateFile | null> {
    const text = await this.fetchState();
    return text === null ? null : decodeState(text, { source: this.describe(), identity: this.opts.identity });
  }

  async write(next: StateFile, expected: ExpectedVersion): Promise<void> {
    if (expected.lockId !== undefined) return this.writeUnder(next, expected, expected.lockId);
    const lock = await this.lock({ operation: "state write", who: whoAmI(), ttlMs: WRITE_LOCK_TTL_MS });
    try {
      await this.writeUnder(next, expected, lock.ID);
    } finally {
      await this.unlock(lock.ID).catch(() => undefined);
    }
  }

  async lock(req: LockRequest): Promise<LockInfo> {
    const now = this.now();
    const info = newLockInfo(req, this.newId(), now, this.opts.version ?? "0.0.0", this.describe());
    const first = await this.sendLock(info);
    if (first.kind === "ok") return this.remember(info);
    const holder = first.holder;
    if (holder === null) throw lockedError(unknownHolder(this.describe()), now, 0);
    if (!isExpired(holder, now) || holder.Expires === "") throw lockedError(holder, now, 0);
    // Take over: release it under the holder's ID, then lock. Whoever else tries the same either fails
    // to unlock (the ID changed) or to lock (we hold it) — only one run ends up with the lock.
    const released = await this.sendUnlock(holder);
    if (released.kind === "held") throw lockedError(released.holder ?? holder, now, 0);
    info.TakenOver = { ID: holder.ID, Who: holder.Who, Operation: holder.Operation, Created: holder.Created, Expires: holder.Expires };
    const second = await this.sendLock(info);
    if (second.kind === "ok") return this.remember(info);
    throw lockedError(second.holder ?? unknownHolder(this.describe()), now, 0);
  }

  async refreshLock(id: string, ttlMs: number): Promise<LockInfo> {
    const known = this.mine.get(id) ?? (await this.currentLock().then((c) => (c?.ID === id ? c : undefined)));
    if (known === undefined) throw noLockError(id, await this.currentLock(), this.describe());
    const next: LockInfo = { ...known, Expires: new Date(this.now().getTime() + ttlMs).toISOString() };
    const r = await this.sendLock(next);
    if (r.kind === "ok") return this.remember(next);
    if (r.holder?.ID !== id) {
      this.mine.delete(id);
      throw noLockError(id, r.holder, this.describe());
    }
    // The server refuses a LOCK by the holder itself (GitLab): the lock is still ours, but its expiry cannot
    // be extended there. Releasing and re-taking it would open a window for other runs, so it is left as is.
    return { ...known };
  }

  async unlock(id: string): Promise<void> {
    const info = this.mine.get(id) ?? ({ ID: id } as LockInfo);
    const r = await this.sendUnlock(info);
    if (r.kind === "ok") {
      this.mine.delete(id);
      return;
    }
    throw noLockError(id, r.holder, this.describe());
  }

  async currentLock(): Promise<LockInfo | null> {
    const now = this.now();
    const probe = newLockInfo({ operation: "stsorg lock probe", who: whoAmI(), ttlMs: 10_000 }, `probe-${this.newId()}`, now, this.opts.version ?? "0.0.0", this.describe());
    const r = await this.sendLock(probe);
    if (r.kind === "ok") {
      await this.sendUnlock(probe);
      return null;
    }
    return r.holder ?? unknownHolder(this.describe());
  }

  async close(): Promise<void> {
    this.mine.clear();
  }

  private remember(info: LockInfo): LockInfo {
    this.mine.set(info.ID, info);
    return { ...info };
  }

  private async writeUnder(next: StateFile, expected: ExpectedVersion, lockId: string): Promise<void> {
    const text = await this.fetchState();
    // A damaged stored state is refused here too, so it is never silently replaced.
    const stored = text === null ? null : decodeState(text, { source: this.describe() });
    checkCas(stored === null ? null : { lineage: stored.lineage, serial: stored.serial }, next, expected, this.describe());
    const body = encodeState(next);
    const url = withQuery(this.opts.address, "ID", lockId);
    const r = await this.send("POST", url, body, { "content-type": "application/json", "content-md5": md5(body) });
    if (r.status >= 200 && r.status < 300) return;
    if (r.status === 409 || r.status === 423) {
      checkLockHeld(parseHolder(r.body), lockId, this.describe());
      // The server refused for a reason of its own while naming us as holder.
      throw new LockError(`The state server refused the write to ${this.describe()} (${r.status}) although lock ${lockId} is held.`);
    }
    throw this.failure("POST", this.opts.address, r);
  }

  private async fetchState(): Promise<string | null> {
    const r = await this.send("GET", this.opts.address);
    if (r.status === 204 || r.status === 404) return null;
    if (r.status !== 200) throw this.failure("GET", this.opts.address, r);
    if (r.body.trim() === "") return null;
    const sent = r.headers["content-md5"];
    if (typeof sent === "string" && sent !== md5(r.body)) {
      throw new StateError(`State ${this.describe()} arrived damaged: its Content-MD5 does not match the body.`, { hint: "Try again; if it persists, check proxies between stsorg and the state server." });
    }
    return r.body;
  }

  private async sendLock(info: LockInfo): Promise<{ kind: "ok" } | { kind: "held"; holder: LockInfo | null }> {
    const address = this.opts.lockAddress ?? this.opts.address;
    const method = this.opts.lockMethod ?? "LOCK";
    const r = await this.send(method, address, JSON.stringify(info), { "content-type": "application/json" });
    if (r.status >= 200 && r.status < 300) return { kind: "ok" };
    if (r.status === 409 || r.status === 423) {
      const holder = parseHolder(r.body);
      // A retried LOCK whose first answer was lost finds our own lock.
      if (holder?.ID === info.ID && r.retried) return { kind: "ok" };
      return { kind: "held", holder };
    }
    throw this.failure(method, address, r);
  }

  private async sendUnlock(info: Pick<LockInfo, "ID">): Promise<{ kind: "ok" } | { kind: "held"; holder: LockInfo | null }> {
    const address = this.opts.unlockAddress ?? this.opts.address;
    const method = this.opts.unlockMethod ?? "UNLOCK";
    const r = await this.send(method, address, JSON.stringify(info), { "content-type": "application/json" });
    if (r.status >= 200 && r.status < 300) return { kind: "ok" };
    if (r.status === 409 || r.status === 423) {
      const holder = parseHolder(r.body);
      // A retried UNLOCK whose first answer was lost finds the state unlocked.
      if (holder === null && r.retried) return { kind: "ok" };
      return { kind: "held", holder };
    }
    throw this.failure(method, address, r);
  }

  /** One request, retried with backoff after a 5xx (not 501), a 429 or a network error. */
  private async send(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    const retryMax = Math.max(0, this.opts.retryMax ?? 2);
    let wait = this.opts.retryWaitMinMs ?? 1_000;
    const maxWait = this.opts.retryWaitMaxMs ?? 30_000;
    const authorization = await this.authorization();
    const ca = await this.certificateAuthority();
    const { default: got } = await import("got"); // loaded only when this backend is used
    let retried = false;
    for (let attempt = 0; ; attempt++) {
      let outcome: Answer | Error;
      try {
        const res = await got(url, {
          method: method as Method,
          ...(body !== undefined ? { body } : {}),
          headers: { ...headers, ...(authorization !== undefined ? { authorization } : {}), "user-agent": `stsorg/${this.opts.version ?? "0.0.0"}` },
          throwHttpErrors: false,
          followRedirect: method === "GET",
          retry: { limit: 0 },
          timeout: { request: this.opts.timeoutMs ?? 30_000 },
          ...(ca !== undefined ? { https: { certificateAuthority: ca } } : {}),
        });
        outcome = { status: res.statusCode, body: res.body, headers: res.headers, retried };
      } catch (e) {
        outcome = e instanceof Error ? e : new Error(String(e));
      }
      const transient = outcome instanceof Error || outcome.status === 429 || (outcome.status >= 500 && outcome.status !== 501);
      if (!transient || attempt >= retryMax) {
        if (outcome instanceof Error) {
          throw new RemoteError("state server", `${method} ${redactUrl(url)} failed after ${attempt + 1} attempt(s): ${outcome.message}`, {
            hint: "Check spec.state.http.address and that the state server is reachable.",
            cause: outcome,
          });
        }
        return outcome;
      }
      retried = true;
      await this.sleep(wait);
      wait = Math.min(wait * 2, maxWait);
    }
  }

  private failure(method: string, url: string, r: Answer): Error {
    if (r.status === 401 || r.status === 403) {
      return new AuthError(`The state server refused ${method} ${redactUrl(url)} with ${r.status}.`, {
        path: "spec.state.http",
        hint: "Check spec.state.http.username and password (or token), and that they grant access to this state.",
      });
    }
    return new RemoteError("state server", `${method} ${redactUrl(url)} answered ${r.status}${snippet(r.body)}.`, { status: r.status });
  }

  private authorization(): Promise<string | undefined> {
    this.auth ??= (async () => {
      if (this.opts.token !== undefined) {
        const t = typeof this.opts.token === "string" ? this.opts.token : await this.opts.token();
        return `Bearer ${t}`;
      }
      if (this.opts.username === undefined) return undefined;
      const p = this.opts.password === undefined ? "" : typeof this.opts.password === "string" ? this.opts.password : await this.opts.password();
      return `Basic ${Buffer.from(`${this.opts.username}:${p}`).toString("base64")}`;
    })().catch((e: unknown) => {
      this.auth = undefined;
      throw e;
    });
    return this.auth;
  }

  private certificateAuthority(): Promise<string | undefined> {
    const file = this.opts.caFile;
    if (file === undefined) return Promise.resolve(undefined);
    this.ca ??= readFile(file, "utf8").catch((e: unknown) => {
      this.ca = undefined;
      throw new StateError(`Cannot read the state server's CA file ${file}: ${(e as Error).message}`, { path: "spec.state.http.caFile" });
    });
    return this.ca;
  }
}

/** The holder's lock info from a 409/423 body, with missing fields named as unknown; null if there is none. */
export function parseHolder(body: string): LockInfo | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return null;
  const o = doc as Record<string, unknown>;
  if (typeof o.ID !== "string" || o.ID === "") return null;
  const str = (v: unknown, d: string): string => (typeof v === "string" ? v : d);
  const info: LockInfo = {
    ID: o.ID,
    Operation: str(o.Operation, "unknown"),
    Who: str(o.Who, "unknown"),
    Version: str(o.Version, "unknown"),
    Created: str(o.Created, ""),
    // No Expires: a lock taken by Terraform or another tool, which never expires.
    Expires: str(o.Expires, ""),
    Path: str(o.Path, ""),
  };
  if (typeof o.Info === "string" && o.Info !== "") info.Info = o.Info;
  if (o.TakenOver !== null && typeof o.TakenOver === "object") info.TakenOver = o.TakenOver as NonNullable<LockInfo["TakenOver"]>;
  return info;
}

function unknownHolder(path: string): LockInfo {
  return { ID: "unknown", Operation: "unknown", Who: "unknown (the server did not say)", Version: "unknown", Created: "", Expires: "", Path: path };
}

/** The URL without user info, safe to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== "" || u.password !== "") {
      u.username = "";
      u.password = "";
    }
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

function md5(text: string): string {
  return createHash("md5").update(text).digest("base64");
}

function snippet(body: string): string {
  const t = body.trim().replace(/\s+/g, " ");
  return t === "" ? "" : `: ${t.length > 200 ? t.slice(0, 200) + "…" : t}`;
}

