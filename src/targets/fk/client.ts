import { randomUUID } from "node:crypto";
import { Agent as HttpsAgent } from "node:https";
import type { SecureVersion } from "node:tls";
import { AuthError, RemoteError } from "../../errors/index.js";
import type { ClientCredentials } from "./credentials.js";

/**
 * A client for KOMBIT's read-only organisation GraphQL (OrganisationHent). It fetches a token from
 * KOMBIT Adgangsstyring over mutual TLS with the organisation certificate, keeps it until shortly
 * before it expires, and sends GraphQL POSTs with that token, the same certificate (the token is bound
 * to it) and the transaction headers KOMBIT requires on every call. Paging and retries of whole reads
 * live in reader.ts; this layer turns answers into data, typed failures or warnings.
 */

export interface ProgressStream {
  write(chunk: string): void;
}

/** The entity id of FK Organisation's service in KOMBIT Adgangsstyring (client_id and scope). */
export const FK_ORGANISATION_ENTITY_ID = "http://stoettesystemerne.dk/service/organisation/3";

export const SYSTEM = "FK Organisation";

export interface FkClientOptions {
  graphqlUrl: string;
  tokenUrl: string;
  /** The municipality's CVR: the token's `anvenderkontekst` and every query's `cvr`. */
  cvr: string;
  credentials: ClientCredentials;
  /** Scheme in front of the token in `Authorization` (default `Bearer`). */
  authScheme?: string;
  /** TLS versions for the token and GraphQL hosts (KOMBIT advises TLS 1.2: default both 1.2). */
  tlsMinVersion?: SecureVersion;
  tlsMaxVersion?: SecureVersion;
  /** PEM of a private CA to trust (the sandbox's); TLS verification stays on. */
  caPem?: string;
  /** Per-request timeout (default 150 s; FK itself answers 408 after 120 s). */
  timeoutMs?: number;
  /** A token is renewed this many seconds before it expires (default 300). */
  tokenMarginSeconds?: number;
  progress?: ProgressStream;
  now?: () => Date;
  newTransactionId?: () => string;
}

export interface FkClientStats {
  /** GraphQL POSTs sent, repeats included. */
  requests: number;
  tokenRequests: number;
  /** GraphQL POSTs per operation name. */
  byOperation: Record<string, number>;
}

/** One entry of a GraphQL answer's `errors`, as KOMBIT fills it. */
export interface FkGraphqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { kildeId?: string; id?: string; type?: string; classification?: string };
}

export type GraphqlOutcome =
  | { kind: "data"; data: Record<string, unknown>; warnings: FkGraphqlError[] }
  /** 408: the query took FK too long; a smaller page may go through. */
  | { kind: "timeout" }
  /** 503 (FK is being synchronised) or no answer at all: worth trying again later. */
  | { kind: "unavailable"; reason: string };

interface CachedToken {
  value: string;
  /** ms since epoch after which a new token is fetched. */
  renewAt: number;
}

export class FkClient {
  readonly stats: FkClientStats = { requests: 0, tokenRequests: 0, byOperation: {} };
  readonly cvr: string;
  private readonly agent: HttpsAgent;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly scheme: string;
  private readonly timeoutMs: number;
  private readonly marginMs: number;
  private token: CachedToken | undefined;
  private pendingToken: Promise<string> | undefined;

  constructor(private readonly options: FkClientOptions) {
    this.cvr = options.cvr;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newTransactionId ?? randomUUID;
    this.scheme = options.authScheme ?? "Bearer";
    this.timeoutMs = options.timeoutMs ?? 150_000;
    this.marginMs = (options.tokenMarginSeconds ?? 300) * 1000;
    this.agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 4,
      key: options.credentials.keyPem,
      cert: options.credentials.certPem,
      minVersion: options.tlsMinVersion ?? "TLSv1.2",
      maxVersion: options.tlsMaxVersion ?? "TLSv1.2",
      ...(options.caPem !== undefined ? { ca: options.caPem } : {}),
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Forgets the cached token after FK refused it, unless another request already replaced it. */
  dropToken(refused?: string): void {
    if (refused === undefined || this.token?.value === refused) this.token = undefined;
  }

  /** A valid token, fetched when none is cached or the cached one is about to expire. */
  async accessToken(): Promise<string> {
    const t = this.token;
    if (t && this.now().getTime() < t.renewAt) return t.value;
    // Concurrent callers share one token request.
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({
      client_id: FK_ORGANISATION_ENTITY_ID,
      grant_type: "client_credentials",
      scope: `entityid:${FK_ORGANISATION_ENTITY_ID},anvenderkontekst:${this.cvr}`,
    }).toString();
    this.stats.tokenRequests++;
    const started = this.now().getTime();
    let res: { statusCode: number; body: string };
    try {
      res = await (await loadGot()).post(this.options.tokenUrl, {
        body,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        agent: { https: this.agent },
        timeout: { request: this.timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: "text",
      });
    } catch (e) {
      throw this.transportError("KOMBIT Adgangsstyring", this.options.tokenUrl, e);
    }
    const parsed = parseJson(res.body);
    if (res.statusCode !== 200) throw this.tokenError(res.statusCode, parsed, res.body);
    const token = typeof parsed?.access_token === "string" ? parsed.access_token : "";
    if (token === "") {
      throw new RemoteError("KOMBIT Adgangsstyring", "the token answer holds no access_token", { hint: `Check spec.fk.tokenUrl (${this.options.tokenUrl}).` });
    }
    const expiresIn = Number(parsed?.expires_in);
    const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 3_600_000;
    // A short-lived token gets a proportionally smaller margin, so it is used at all.
    const margin = Math.min(this.marginMs, lifetimeMs / 4);
    this.token = { value: token, renewAt: started + lifetimeMs - margin };
    return token;
  }

  private tokenError(status: number, body: Record<string, unknown> | undefined, raw: string): Error {
    const code = typeof body?.error === "string" ? body.error : undefined;
    const detail = typeof body?.error_description === "string" ? ` (${body.error_description})` : "";
    const cert = this.options.credentials;
    const certName = `the organisation certificate "${cert.subject}"${cert.cvr ? ` (CVR ${cert.cvr})` : ""}`;
    if (code === "invalid_client") {
      return new AuthError(`KOMBIT Adgangsstyring did not accept ${certName}: invalid_client${detail}`, {
        hint:
          "The certificate is not known to KOMBIT or not allowed to call FK Organisation. Check that spec.certificate is the " +
          "FOCES/OCES3 certificate registered on the IT system (spec.serviceAgreement.itSystemUuid) in Fælleskommunalt " +
          "Administrationsmodul, that it is registered for this environment (test or production), and that it has not been renewed since.",
      });
    }
    if (code === "invalid_scope") {
      return new AuthError(`KOMBIT Adgangsstyring refused access to FK Organisation for CVR ${this.cvr}: invalid_scope${detail}`, {
        hint:
          `There is no approved service agreement for FK Organisation (${FK_ORGANISATION_ENTITY_ID}) between the IT system and ` +
          `the municipality with CVR ${this.cvr}. Check spec.municipality.cvr, and that the municipality has approved the agreement ` +
          "(spec.serviceAgreement) in Fælleskommunalt Administrationsmodul.",
      });
    }
    if (status === 401 || status === 403) {
      return new AuthError(`KOMBIT Adgangsstyring refused the token request with HTTP ${status}${code ? `: ${code}` : ""}${detail}`, {
        hint: `Check that ${certName} is registered for FK Organisation and that spec.municipality.cvr (${this.cvr}) has a service agreement.`,
      });
    }
    return new RemoteError("KOMBIT Adgangsstyring", `the token request answered HTTP ${status}${code ? `: ${code}${detail}` : raw ? `: ${truncate(raw, 200)}` : ""}`, {
      status,
      hint: `Check spec.fk.tokenUrl (${this.options.tokenUrl}).`,
    });
  }

  /**
   * Sends one query. A refused token is renewed once; 401 after that is an AuthError. Errors of type
   * ERROR become a RemoteError; WARNING entries are returned with the data for the caller to report.
   */
  async query(operation: string, text: string, variables: Record<string, unknown>): Promise<GraphqlOutcome> {
    for (let authAttempt = 0; ; authAttempt++) {
      const token = await this.accessToken();
      this.stats.requests++;
      this.stats.byOperation[operation] = (this.stats.byOperation[operation] ?? 0) + 1;
      let res: { statusCode: number; body: string };
      try {
        res = await (await loadGot()).post(this.options.graphqlUrl, {
          json: { operationName: operation, query: text, variables },
          headers: {
            accept: "application/json",
            authorization: `${this.scheme} ${token}`,
            "x-TransaktionsId": this.newId(),
            "x-TransaktionsTid": this.now().toISOString(),
          },
          agent: { https: this.agent },
          timeout: { request: this.timeoutMs },
          retry: { limit: 0 },
          throwHttpErrors: false,
          followRedirect: false,
          responseType: "text",
        });
      } catch (e) {
        const err = this.transportError(SYSTEM, this.options.graphqlUrl, e);
        return { kind: "unavailable", reason: err.message };
      }
      if (res.statusCode === 401) {
        this.dropToken(token);
        if (authAttempt === 0) continue;
        throw new AuthError(`FK Organisation refused the token for ${operation} with 401 Unauthorized`, {
          hint:
            `A fresh token from KOMBIT Adgangsstyring was refused too. Check that spec.fk.authScheme ("${this.scheme}") is the scheme ` +
            "FK expects, and that the token and GraphQL URLs belong to the same environment (spec.fk.tokenUrl, spec.fk.graphqlUrl).",
        });
      }
      if (res.statusCode === 408) return { kind: "timeout" };
      if (res.statusCode === 503 || res.statusCode === 502 || res.statusCode === 504) {
        return { kind: "unavailable", reason: `HTTP ${res.statusCode}` };
      }
      if (res.statusCode !== 200) {
        throw new RemoteError(SYSTEM, `${operation} answered HTTP ${res.statusCode}${res.body.trim() ? `: ${truncate(res.body.trim(), 200)}` : ""}`, {
          status: res.statusCode,
          hint: res.statusCode === 400 ? "FK refused the request itself (headers or query); check spec.fk.graphqlUrl." : undefined,
        });
      }
      const body = parseJson(res.body);
      if (!body) throw new RemoteError(SYSTEM, `${operation} returned a body that is not JSON: ${truncate(res.body, 80)}`);
      const errors = Array.isArray(body.errors) ? (body.errors as FkGraphqlError[]) : [];
      const fatal = errors.filter((e) => (e.extensions?.type ?? "ERROR").toUpperCase() !== "WARNING");
      if (fatal.length > 0) throw graphqlError(operation, fatal);
      const data = body.data;
      if (data === null || typeof data !== "object" || Array.isArray(data)) {
        throw new RemoteError(SYSTEM, `${operation} returned no data`);
      }
      return { kind: "data", data: data as Record<string, unknown>, warnings: errors.filter((e) => !fatal.includes(e)) };
    }
  }

  private transportError(system: string, url: string, e: unknown): RemoteError {
    const code = (e as { code?: string }).code ?? "ERROR";
    const message = code === "ETIMEDOUT" ? `no answer within ${this.timeoutMs} ms` : `${code}: ${(e as Error).message}`;
    const tlsHint = /CERT|SSL|TLS|EPROTO|ECONNRESET|alert/i.test(`${code} ${(e as Error).message}`)
      ? " A TLS failure here often means the server did not accept the client certificate or the TLS version (spec.fk.tlsMinVersion/tlsMaxVersion)."
      : "";
    return new RemoteError(system, `${new URL(url).host} could not be reached: ${message}`, {
      cause: e,
      hint: `Check the network path to ${url}.${tlsHint}`,
    });
  }
}

function graphqlError(operation: string, errors: FkGraphqlError[]): RemoteError {
  const shown = errors.slice(0, 3).map((e) => {
    const x = e.extensions ?? {};
    const tags = [x.classification, x.kildeId ? `kilde ${x.kildeId}` : undefined, x.id ? `id ${x.id}` : undefined].filter(Boolean).join(", ");
    return `${e.message}${tags ? ` (${tags})` : ""}`;
  });
  const more = errors.length > 3 ? ` and ${errors.length - 3} more` : "";
  return new RemoteError(SYSTEM, `FK Organisation answered ${operation} with ${errors.length === 1 ? "an error" : `${errors.length} errors`}: ${shown.join("; ")}${more}`, {
    hint: "FK reports errors with HTTP 200. A validation error means the query does not fit FK's schema version; other errors name the object concerned.",
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}

/** got, loaded when FK is first read (only `--refresh fk` does). */
async function loadGot(): Promise<typeof import("got").default> {
  return (await import("got")).default;
}
