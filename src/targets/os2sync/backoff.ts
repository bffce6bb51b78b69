import { setTimeout as delay } from "node:timers/promises";

/** Waits `ms`, or until `signal` is aborted, whichever comes first; never rejects. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}

/**
 * Exponential backoff with full jitter: attempt n waits a random time in [0, min(max, base·2ⁿ)], so that
 * many clients retrying after the same failure do not arrive together.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}

/** HTTP statuses worth another try: the server or a proxy was busy or briefly broken. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}
