/** A sandbox of KOMBIT's organisation GraphQL (OrganisationHent) and token endpoint over an FK store, with a test PKI. */
export { createTestCa, issueServerCertificate, issueOrganisationCertificate, subjectAttributes } from "./certs.js";
export type { TestCa, ServerCertificate, OrganisationCertificateOptions } from "./certs.js";
export { startFkSandbox, loadFkSandboxSchema, FkFaults, FkRequestLog, GRAPHQL_PATH, TOKEN_PATH } from "./server.js";
export type { FkSandbox, FkSandboxOptions, FkFaultConfig, FkRequestLogEntry } from "./server.js";
export { danishMidnight, derivedUuid } from "./view.js";
export type { Agreement } from "./view.js";
export { startEmbeddedFk } from "./embedded.js";
export type { EmbeddedFk } from "./embedded.js";
