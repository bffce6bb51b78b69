/**
 * The OS2mo sandbox: a real HTTP server speaking OS2mo's wire protocol (Keycloak token endpoint,
 * GraphQL v25) over a MoFixture, with mutations, fault injection and a request log. See README.md.
 */
export { startOs2moSandbox } from "./server.js";
export type { Os2moSandbox, Os2moSandboxOptions, Os2moFaults, Os2moMutations, RequestLogEntry } from "./server.js";
export { MoStore, SandboxDataError, COLLECTION_NAMES } from "./store.js";
export type { CollectionName, Collections } from "./store.js";
export { SANDBOX_SCHEMA_FILE, loadSandboxSchema } from "./graphql.js";
export { copenhagenDate, toMoDateTime } from "./dates.js";
