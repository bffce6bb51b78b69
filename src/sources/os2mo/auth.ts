import { AuthError, RemoteError } from "../../errors/index.js";
import type { Os2moHttp } from "./http.js";

export interface KeycloakClient {
  /** Keycloak base, typically `https://<host>/auth`. */
  authServer: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  /** The manifest reference the secret came from (named in errors; never the value). */
  secretRef?: string;
}

/**
 * Client-credentials tokens from Keycloak. One token is shared by all requests, fetched once at a
 * time, and replaced shortly before it runs out or when OS2mo says it is no longer accepted. A
 * refused client is remembered, so concurrent requests get the same AuthError instead of each asking.
 */
export class KeycloakTokenSource {
  /** Tokens fetched (for the reader's statistics). */
  fetched = 0;
  private token: { value: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private refused: AuthError | undefined;

  constructor(
    private readonly client: KeycloakClient,
    private readonly http: Os2moHttp,
    private readonly now: () => number = Date.now,
  ) {}

  get tokenUrl(): string {
    return `${this.client.authServer.replace(/\/+$/, "")}/realms/${encodeURIComponent(this.client.realm)}/protocol/openid-connect/token`;
  }

  /** A token believed valid now. */
  async get(): Promise<string> {
    if (this.refused) throw this.refused;
    if (this.token && this.now() < this.token.refreshAt) return this.token.value;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Drops `token` (OS2mo refused it); the next get() fetches a new one unless that already happened. */
  invalidate(token: string): void {
    if (this.token?.value === token) this.token = undefined;
  }

  private async fetch(): Promise<string> {
    this.fetched++;
    const c = this.client;
    const answer = await this.http.post(
      this.tokenUrl,
      {
        form: { grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret },
        unreachableHint: "Check that spec.os2mo.auth.authServer is right and the auth server (Keycloak) is reachable from here.",
      },
      "token request",
    );
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      body = JSON.parse(answer.body) as typeof body;
    } catch {
      // handled below
    }
    if (answer.status === 200 && typeof body.access_token === "string") {
      const lifetimeMs = (typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60) * 1000;
      // Refresh at 80% of the lifetime (at most a minute early) so a long read never sends a stale token.
      const margin = Math.min(60_000, lifetimeMs * 0.2);
      this.token = { value: body.access_token, refreshAt: this.now() + lifetimeMs - margin };
      return body.access_token;
    }
    const detail = [body.error, body.error_description].filter((x) => typeof x === "string").join(": ");
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      this.refused = new AuthError(
        `Keycloak refused the OS2mo client "${c.clientId}" (HTTP ${answer.status}${detail ? `, ${detail}` : ""})`,
        {
          path: "spec.os2mo.auth",
          hint: `Check spec.os2mo.auth.clientId and the secret ${c.secretRef ? `${c.secretRef} ` : ""}(spec.os2mo.auth.clientSecret): they must match the client in realm "${c.realm}".`,
        },
      );
      throw this.refused;
    }
    if (answer.status === 404) {
      this.refused = new AuthError(`no Keycloak token endpoint at ${this.tokenUrl} (HTTP 404${detail ? `, ${detail}` : ""})`, {
        path: "spec.os2mo.auth",
        hint: "Check spec.os2mo.auth.authServer (usually https://<host>/auth) and spec.os2mo.auth.realm (usually mo).",
      });
      throw this.refused;
    }
    throw new RemoteError("keycloak", `token request to ${this.tokenUrl} failed with HTTP ${answer.status}${detail ? ` (${detail})` : ""}`, {
      status: answer.status,
      hint: "Keycloak is unavailable or misconfigured; try again later or ask the OS2mo operators.",
    });
  }
}
