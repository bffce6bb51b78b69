/** A state server speaking Terraform's HTTP backend protocol (GitLab-style addresses too), for tests. */
export { startStateHttpServer } from "./server.js";
export type { StateHttpServer, StateHttpServerOptions, StateHttpLogEntry, StateHttpFault } from "./server.js";
