import { hostname, userInfo } from "node:os";
import { LockError, type ErrorContext } from "../errors/index.js";
import type { LockInfo, LockRequest, StateBackend } from "./types.js";

/** Thrown by `StateBackend.lock` when a live lock is held by someone else; carries the holder's info. */
export class StateLockedError extends LockError {
  readonly holder: LockInfo;
  constructor(holder: LockInfo, message: string, context: ErrorContext = {}) {
    super(message, context);
    this.holder = holder;
  }
}

/** `user@host` of this process, as lock records name their holder. */
export function whoAmI(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
    user = process.env.USER ?? process.env.USERNAME ?? "unknown";
  }
  return `${user}@${hostname()}`;
}

export function newLockInfo(req: LockRequest, id: string, now: Date, version: string, path: string): LockInfo {
  const info: LockInfo = {
    ID: id,
    Operation: req.operation,
    Who: req.who,
    Version: version,
    Created: now.toISOString(),
    Expires: new Date(now.getTime() + req.ttlMs).toISOString(),
    Path: path,
  };
  if (req.info !== undefined) info.Info = req.info;
  return info;
}

export function isExpired(lock: LockInfo, now: Date): boolean {
  return Date.parse(lock.Expires) <= now.getTime();
}

/** `4m10s`, `2h5m`, `12s`: short human durations for lock ages. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** The lock info block of "state is locked" messages and `state unlock`. */
export function formatLockInfo(lock: LockInfo, now: Date): string {
  const created = Date.parse(lock.Created);
  const expires = Date.parse(lock.Expires);
  const expiry =
    expires > now.getTime() ? `in ${formatAge(expires - now.getTime())}` : `expired ${formatAge(now.getTime() - expires)} ago`;
  // Locks taken by other tools on a shared server (HTTP backend) may lack these times.
  const lines = [
    `  ID:        ${lock.ID}`,
    `  Path:      ${lock.Path}`,
    `  Operation: ${lock.Operation}`,
    `  Who:       ${lock.Who}`,
    `  Version:   ${lock.Version}`,
    Number.isNaN(created) ? `  Created:   ${lock.Created || "unknown"}` : `  Created:   ${lock.Created} (${formatAge(now.getTime() - created)} ago)`,
    Number.isNaN(expires) ? "  Expires:   never (this lock has no expiry; release it with `stsorg state unlock`)" : `  Expires:   ${lock.Expires} (${expiry})`,
  ];
  if (lock.Info) lines.push(`  Info:      ${lock.Info}`);
  return lines.join("\n");
}

export function lockedError(holder: LockInfo, now: Date, waitedMs: number, environment?: string): StateLockedError {
  const createdMs = Date.parse(holder.Created);
  const since = Number.isNaN(createdMs) ? "" : ` since ${formatAge(now.getTime() - createdMs)} ago`;
  const waited = waitedMs > 0 ? ` (waited ${formatAge(waitedMs)})` : "";
  return new StateLockedError(
    holder,
    `Error acquiring the state lock: state is locked by ${holder.Who} for "${holder.Operation}"${since}${waited}.\nLock Info:\n${formatLockInfo(holder, now)}`,
    {
      hint:
        `Another stsorg run holds the lock. Wait for it to finish, or retry with --lock-timeout (e.g. --lock-timeout 5m). ` +
        (Number.isNaN(Date.parse(holder.Expires))
          ? "If that run is gone, release its lock (it never expires): "
          : "If that run is gone, its lock can be taken over once it expires; to release it now: ") +
        `stsorg state unlock -e ${environment ?? "ENV"} ${holder.ID}`,
    },
  );
}

export interface WithLockOptions {
  operation: string;
  /** The environment's name, for the `state unlock -e …` command a refusal suggests. */
  environment?: string;
  who: string;
  info?: string;
  /** How long to keep retrying a held lock (`--lock-timeout`); 0 = fail at once. */
  lockTimeoutMs?: number;
  /** Lock lifetime without a heartbeat. */
  ttlMs?: number;
  /** Heartbeat period; defaults to a quarter of the TTL. */
  heartbeatMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Called once when the first attempt finds the lock held and we are going to wait. */
  onWait?: (holder: LockInfo) => void;
  /** Called once when the lock was taken over from a run whose lock had expired. */
  onTakeOver?: (previous: NonNullable<LockInfo["TakenOver"]>) => void;
}

export const DEFAULT_LOCK_TTL_MS = 120_000;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 16_000;

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock (retrying with backoff 1 s doubling to 16 s until `lockTimeoutMs`), keeps it alive with a
 * heartbeat while `fn` runs, and releases it afterwards. `lost` is aborted if a heartbeat finds the lock
 * gone (taken over or unlocked by force): `fn` should stop writing then.
 */
export async function withLock<T>(
  backend: StateBackend,
  opts: WithLockOptions,
  fn: (lock: LockInfo, lost: AbortSignal) => Promise<T>,
): Promise<T> {
  const now = opts.now ?? (() => new Date());
  const sleep = opts.sleep ?? realSleep;
  const ttlMs = opts.ttlMs ?? DEFAULT_LOCK_TTL_MS;
  const timeoutMs = opts.lockTimeoutMs ?? 0;
  const req: LockRequest = { operation: opts.operation, who: opts.who, ttlMs };
  if (opts.info !== undefined) req.info = opts.info;

  const start = now().getTime();
  let delay = FIRST_BACKOFF_MS;
  let lock: LockInfo;
  let waited = false;
  for (;;) {
    try {
      lock = await backend.lock(req);
      break;
    } catch (e) {
      if (!(e instanceof StateLockedError)) throw e;
      const elapsed = now().getTime() - start;
      const remaining = timeoutMs - elapsed;
      if (remaining <= 0) throw lockedError(e.holder, now(), elapsed, opts.environment);
      if (!waited) opts.onWait?.(e.holder);
      waited = true;
      await sleep(Math.min(delay, remaining));
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  if (lock.TakenOver) opts.onTakeOver?.(lock.TakenOver);
  const lostController = new AbortController();
  let beating: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (beating || lostController.signal.aborted) return;
    beating = backend
      .refreshLock(lock.ID, ttlMs)
      .catch((e: unknown) => {
        lostController.abort(e instanceof LockError ? e : new LockError(`Could not renew the state lock: ${String(e)}`, { cause: e }));
      })
      .finally(() => {
        beating = undefined;
      });
  }, opts.heartbeatMs ?? Math.max(10, Math.floor(ttlMs / 4)));
  timer.unref();

  let result: T;
  try {
    result = await fn(lock, lostController.signal);
  } catch (e) {
    clearInterval(timer);
    await beating;
    await backend.unlock(lock.ID).catch(() => undefined);
    throw e;
  }
  clearInterval(timer);
  await beating;
  await backend.unlock(lock.ID);
  return result;
}
