import { readFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import type { Got, RequestError } from "got";
import { ManifestError, RemoteError } from "../../errors/index.js";

/** How failed requests are retried: network errors, 429 and 5xx, with exponential backoff and jitter. */
export interface RetryPolicy {
  /** Total attempts per request, including the first (default 5). */
  attempts: number;
  /** Delay before the first retry; doubles each time (default 250 ms). */
  baseDelayMs: number;
  /** Upper bound on one delay, also for a server's Retry-After (default 10 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

export interface HttpOptions {
  timeoutMs: number;
  caFile?: string;
  retry?: Partial<RetryPolicy>;
  /** Most requests in flight at once (keep-alive sockets per host). */
  maxSockets?: number;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** Counters the reader reports. */
export interface HttpStats {
  /** HTTP requests sent (every attempt counts). */
  requests: number;
  retries: number;
  bytesReceived: number;
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The one place the OS2mo source talks HTTP: keep-alive agents, timeouts, TLS (verification always
 * on, optionally trusting a private CA), and bounded retries. Answers of any status come back to the
 * caller once retries are spent or the status is not retryable; network failures become RemoteError.
 */
export class Os2moHttp {
  readonly stats: HttpStats = { requests: 0, retries: 0, bytesReceived: 0 };
  /** got, loaded on the first request (most commands never talk to OS2mo, and got is a large import). */
  private got: Promise<{ got: Got; RequestError: typeof RequestError }> | undefined;
  private readonly gotOptions: Parameters<Got["extend"]>[0];
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  /** Aborted by close(): ends the backoff waits of requests still retrying. */
  private readonly closing = new AbortController();

  constructor(private readonly options: HttpOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
    let ca: Buffer | undefined;
    if (options.caFile !== undefined) {
      try {
        ca = readFileSync(options.caFile);
      } catch (e) {
        throw new ManifestError(`cannot read the CA file ${options.caFile}: ${(e as Error).message}`, {
          path: "spec.os2mo.caFile",
          hint: "Point spec.os2mo.caFile at a PEM file holding the CA certificate that signed OS2mo's and Keycloak's TLS certificates.",
        });
      }
    }
    const maxSockets = options.maxSockets ?? 8;
    this.agents = {
      http: new HttpAgent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets, ...(ca ? { ca } : {}) }),
    };
    this.gotOptions = {
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: "text",
      agent: this.agents,
      https: { rejectUnauthorized: true, ...(ca ? { certificateAuthority: ca } : {}) },
      headers: { "user-agent": "stsorg" },
    };
  }

  private client(): Promise<{ got: Got; RequestError: typeof RequestError }> {
    return (this.got ??= import("got").then((m) => ({ got: m.default.extend(this.gotOptions), RequestError: m.RequestError })));
  }

  /**
   * POSTs and returns the answer, retrying network errors, 429 and 5xx. `what` names the request in
   * error messages (e.g. `query MoEngagements`).
   */
  async post(
    url: string,
    request: {
      json?: unknown;
      form?: Record<string, string>;
      headers?: Record<string, string>;
      /** What to check when no answer comes (default: spec.os2mo.url). */
      unreachableHint?: string;
    },
    what: string,
    shouldStop: () => boolean = () => false,
  ): Promise<HttpAnswer> {
    const system = "os2mo";
    const { got, RequestError } = await this.client();
    for (let attempt = 1; ; attempt++) {
      if (shouldStop()) throw new RemoteError(system, `${what} was cancelled because another OS2mo request failed`);
      this.stats.requests++;
      let answer: HttpAnswer | undefined;
      let failure: string | undefined;
      let retryAfterMs: number | undefined;
      try {
        const res = await got.post(url, {
          headers: request.headers,
          ...(request.json !== undefined ? { body: JSON.stringify(request.json), headers: { ...request.headers, "content-type": "application/json" } } : {}),
          ...(request.form !== undefined ? { form: request.form } : {}),
        });
        this.stats.bytesReceived += Buffer.byteLength(res.body);
        answer = { status: res.statusCode, body: res.body };
        retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
        if (!isRetryableStatus(res.statusCode)) return answer;
        failure = `HTTP ${res.statusCode}`;
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        const code = e.code;
        if (e.name === "TimeoutError") failure = `no answer within ${this.options.timeoutMs} ms`;
        else if (RETRYABLE_CODES.has(code)) failure = `${code} (${e.message})`;
        else throw networkError(url, what, e);
      }
      if (attempt >= this.retry.attempts) {
        if (answer) return answer;
        throw new RemoteError(system, `${what} to ${url} failed after ${attempt} attempts: ${failure}`, {
          hint:
            request.unreachableHint ??
            "Check that spec.os2mo.url is right and OS2mo is reachable from here; raise spec.os2mo.timeoutMs for a slow OS2mo.",
        });
      }
      this.stats.retries++;
      const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
      // Full jitter in [backoff/2, backoff) spreads concurrent retries apart.
      const wait = Math.min(this.retry.maxDelayMs, Math.max(retryAfterMs ?? 0, backoff / 2 + (this.random() * backoff) / 2));
      // A read that has ended (another request failed for good) does not wait out the backoff.
      await delay(wait, undefined, { signal: this.closing.signal }).catch(() => undefined);
      if (this.closing.signal.aborted) throw new RemoteError(system, `${what} was cancelled: the OS2mo read has ended`);
    }
  }

  close(): void {
    this.closing.abort();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function parseRetryAfter(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return s * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function networkError(url: string, what: string, e: RequestError): RemoteError {
  const tls = /CERT|SSL|TLS|self[- ]signed|unable to verify/i.test(`${e.code} ${e.message}`);
  return new RemoteError("os2mo", `${what} to ${url} failed: ${e.message}`, {
    cause: e,
    hint: tls
      ? "OS2mo's TLS certificate is not trusted. If it is issued by a private CA, set spec.os2mo.caFile to that CA's PEM file (verification stays on)."
      : "Check spec.os2mo.url (and spec.os2mo.auth.authServer) and that OS2mo is reachable from here.",
  });
}
