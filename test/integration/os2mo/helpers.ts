import type { Os2moReadConfig } from "../../../src/sources/os2mo/index.js";
import { startOs2moSandbox, type Os2moSandbox, type Os2moSandboxOptions } from "../../../src/sandbox/os2mo/index.js";
import { tinyFixture, TINY_NOW } from "../../fixtures/os2mo/tiny.js";

export async function startTiny(over: Partial<Os2moSandboxOptions> = {}): Promise<Os2moSandbox> {
  return startOs2moSandbox({ fixture: tinyFixture(), clock: () => TINY_NOW, ...over });
}

export function readerConfig(sb: Os2moSandbox, over: Partial<Os2moReadConfig> = {}): Os2moReadConfig {
  return {
    url: sb.url,
    graphqlVersion: 25,
    auth: {
      authServer: sb.authServer,
      realm: sb.realm,
      clientId: sb.clientId,
      clientSecret: { ref: "${env:STSORG_MO_SECRET}", source: "env", name: "STSORG_MO_SECRET" },
    },
    pageSize: 1000,
    timeoutMs: 5000,
    clientSecret: sb.clientSecret,
    ...over,
  };
}

/** Fast retries so fault tests take milliseconds. */
export const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

/** POSTs a GraphQL query to the sandbox as OS2mo clients do. */
export async function gql(
  sb: Os2moSandbox,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string }[] } }> {
  const t = token ?? (await tokenFor(sb));
  const res = await fetch(sb.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

export async function tokenFor(sb: Os2moSandbox, secret = sb.clientSecret): Promise<string> {
  const res = await fetch(`${sb.authServer}/realms/${sb.realm}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: sb.clientId, client_secret: secret }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: HTTP ${res.status}`);
  return body.access_token;
}
