/**
 * Environment manifests: loading YAML with source positions, validation (schema + semantic checks,
 * secret references, certificate), the normalised Environment, and what is rendered from it.
 */
export type * from "./types.js";
export { loadEnvironment, validateEnvironment, diagnosticLine, ENVIRONMENT_UUID_FIELDS } from "./validate.js";
export type { LoadOptions, SecretUse, ValidateOptions, ValidationResult } from "./validate.js";
export type { Diagnostic, Severity } from "./diagnostics.js";
export { hasErrors } from "./diagnostics.js";
export { resolveSecret, parseSecretRef, isSecretRef } from "./secrets.js";
export type { SecretOptions } from "./secrets.js";
export { isValidCvr, KOMBIT_TEST_CVR } from "./cvr.js";
export { endpointsFor, isProductionHost, isTestHost } from "./endpoints.js";
export type { StageEndpoints } from "./endpoints.js";
export { ORGANISATION_V4_SERVICE_UUID, AGREEMENT_WARNING_DAYS } from "./semantic.js";
export { ENVIRONMENT_DEFAULTS, defaultStatePath, toEnvironment } from "./normalise.js";
export { environmentSchema, ENVIRONMENT_SCHEMA_URL } from "./schema.js";
export { manifestPathFor } from "./source.js";
export { renderOs2syncConfig, renderInfoFile } from "./render.js";
