/**
 * The OS2mo source: Keycloak client-credentials auth, a GraphQL client with retries, and the bulk
 * reader that turns OS2mo into a MoSnapshot. Queries live in ./queries/*.graphql (valid against
 * OS2mo's GraphQL v25).
 */
export { readMoSnapshot } from "./reader.js";
export type { ReadMoOptions, ReadMoStats, Os2moReadConfig } from "./reader.js";
export { KeycloakTokenSource } from "./auth.js";
export type { KeycloakClient } from "./auth.js";
export { Os2moHttp, DEFAULT_RETRY } from "./http.js";
export type { RetryPolicy, HttpOptions, HttpStats } from "./http.js";
export { Os2moGraphqlClient } from "./client.js";
export { QUERIES_DIR, QUERY_NAMES, loadQuery } from "./queries.js";
export type { QueryName } from "./queries.js";
