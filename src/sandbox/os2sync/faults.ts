/**
 * Fault injection for the OS2sync sandbox, so clients can be tested against a slow or failing OS2sync.
 * Standing faults apply to every /api and /manage request with a probability; one-shot faults apply
 * to the next `count` requests that match, and are what deterministic tests use.
 */

export interface FaultConfig {
  /** Added before every request is handled. */
  latencyMs?: number;
  /** Up to this much more, at random. */
  latencyJitterMs?: number;
  /** Share of requests (0..1) answered 503 without being handled. */
  errorRate?: number;
  /** Share of requests (0..1) whose connection is closed without being handled. */
  dropRate?: number;
  /** Overrides how long a hierarchy job takes. */
  hierarchyDelayMs?: number;
}

/**
 * - `error`: answer `status` (default 503) without handling the request;
 * - `drop`: close the connection without handling it;
 * - `drop-after`: handle the request (its effects happen) and close the connection instead of answering:
 *   the response is lost;
 * - `delay`: wait `delayMs` before handling.
 */
export type FaultAction = "error" | "drop" | "drop-after" | "delay";

export interface OneShotFault {
  action: FaultAction;
  /** Requests to affect (default 1). */
  count?: number;
  /** Only requests with this method. */
  method?: string;
  /** Only requests whose path matches this regular expression (case-insensitive). */
  path?: string;
  status?: number;
  delayMs?: number;
}

export interface FaultDecision {
  action: FaultAction | "none";
  status?: number;
  delayMs: number;
}

export class Faults {
  config: FaultConfig = {};
  private queue: (OneShotFault & { remaining: number })[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  set(config: FaultConfig): void {
    this.config = { ...config };
  }

  next(fault: OneShotFault): void {
    this.queue.push({ ...fault, remaining: fault.count ?? 1 });
  }

  clear(): void {
    this.config = {};
    this.queue = [];
  }

  pendingOneShots(): OneShotFault[] {
    return this.queue.map(({ remaining, ...f }) => ({ ...f, count: remaining }));
  }

  decide(method: string, path: string): FaultDecision {
    let delayMs = (this.config.latencyMs ?? 0) + (this.config.latencyJitterMs ? this.random() * this.config.latencyJitterMs : 0);
    const i = this.queue.findIndex(
      (f) => (f.method === undefined || f.method.toUpperCase() === method) && (f.path === undefined || new RegExp(f.path, "i").test(path)),
    );
    if (i >= 0) {
      const f = this.queue[i]!;
      f.remaining--;
      if (f.remaining <= 0) this.queue.splice(i, 1);
      if (f.action === "delay") return { action: "delay", delayMs: delayMs + (f.delayMs ?? 0) };
      return { action: f.action, status: f.status, delayMs };
    }
    if (this.config.dropRate && this.random() < this.config.dropRate) return { action: "drop", delayMs };
    if (this.config.errorRate && this.random() < this.config.errorRate) return { action: "error", status: 503, delayMs };
    return { action: delayMs > 0 ? "delay" : "none", delayMs };
  }
}
