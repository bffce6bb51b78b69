import { AuthError, RemoteError } from "../../errors/index.js";
import type { KeycloakTokenSource } from "./auth.js";
import type { Os2moHttp } from "./http.js";
import { loadQuery, type QueryName } from "./queries.js";

const NOT_AUTHENTICATED = "User is not authenticated";

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; path?: unknown[] }[];
}

/** One page of a top-level OS2mo collection. */
export interface Page<T> {
  objects: T[];
  page_info: { next_cursor: string | null };
}

/**
 * GraphQL over HTTP to `{url}/graphql/v{version}` with a bearer token. OS2mo says an expired token is
 * "User is not authenticated" in a 200 answer (a proxy may say 401): either way the token is replaced
 * once and the query sent again.
 */
export class Os2moGraphqlClient {
  /** Set when any request has failed for good, so concurrent loops stop instead of sending more. */
  failed = false;

  constructor(
    private readonly endpoint: string,
    private readonly http: Os2moHttp,
    private readonly tokens: KeycloakTokenSource,
    private readonly clientId: string,
    /** Aborted when the rest of the work failed (e.g. the FK read of the same plan): no new request is sent. */
    private readonly signal?: AbortSignal,
  ) {}

  async query<T>(name: QueryName, variables: Record<string, unknown>): Promise<T> {
    try {
      return await this.send<T>(name, variables);
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  private async send<T>(name: QueryName, variables: Record<string, unknown>): Promise<T> {
    const { text, operation } = loadQuery(name);
    const what = `query ${operation}`;
    for (let attempt = 1; ; attempt++) {
      this.signal?.throwIfAborted();
      const token = await this.tokens.get();
      const answer = await this.http.post(
        this.endpoint,
        { json: { query: text, variables, operationName: operation }, headers: { authorization: `Bearer ${token}`, accept: "application/json" } },
        what,
        () => this.failed || this.signal?.aborted === true,
      );
      let body: GraphqlAnswer | undefined;
      try {
        body = JSON.parse(answer.body) as GraphqlAnswer;
      } catch {
        body = undefined;
      }
      const unauthenticated = answer.status === 401 || (answer.status === 200 && body?.errors?.some((e) => e.message === NOT_AUTHENTICATED) === true);
      if (unauthenticated) {
        this.tokens.invalidate(token);
        if (attempt === 1) continue;
        throw new AuthError(`OS2mo does not accept the tokens Keycloak issues to client "${this.clientId}" (${what}: ${NOT_AUTHENTICATED})`, {
          path: "spec.os2mo.auth",
          hint: "Check that spec.os2mo.auth.authServer and realm are OS2mo's own Keycloak and that the client has read access to OS2mo.",
        });
      }
      if (answer.status !== 200) {
        throw new RemoteError("os2mo", `${what} failed: OS2mo answered HTTP ${answer.status}${snippet(answer.body)}`, {
          status: answer.status,
          hint:
            answer.status >= 500 || answer.status === 429
              ? "OS2mo kept failing after several retries; try again later or ask the OS2mo operators."
              : "Check spec.os2mo.url and spec.os2mo.graphqlVersion (OS2mo must serve that GraphQL version).",
        });
      }
      if (!body || typeof body !== "object") throw new RemoteError("os2mo", `${what}: OS2mo's answer is not JSON${snippet(answer.body)}`);
      if (body.errors && body.errors.length > 0) {
        const messages = [...new Set(body.errors.map((e) => e.message ?? "unknown error"))].slice(0, 5).join("; ");
        throw new RemoteError("os2mo", `${what} failed: ${messages}`, {
          hint: "OS2mo rejected the query; check that spec.os2mo.graphqlVersion matches a version OS2mo serves (stsorg's queries are written for v25).",
        });
      }
      if (!body.data) throw new RemoteError("os2mo", `${what}: OS2mo answered without data`);
      return body.data as T;
    }
  }
}

function snippet(body: string): string {
  const s = body.replace(/\s+/g, " ").trim().slice(0, 160);
  return s ? ` (${s})` : "";
}
