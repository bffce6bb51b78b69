import { ManifestError } from "../errors/index.js";
import { ORGANISATION_V4_SERVICE_UUID } from "./semantic.js";
import type { Environment, SecretRef } from "./types.js";

/** What stands in a rendered file where a secret goes: names the reference, never the value. */
export function secretPlaceholder(ref: SecretRef): string {
  return `<secret from ${ref.ref}>`;
}

function requireRealStage(env: Environment, what: string): "TEST" | "PROD" {
  if (env.stage === "sandbox") {
    throw new ManifestError(`environment ${env.name} has stage sandbox: there is no ${what} to render for the embedded sandbox`, {
      file: env.file,
      hint: "Render from a test or prod manifest.",
    });
  }
  return env.stage === "prod" ? "PROD" : "TEST";
}

/**
 * OS2sync 4.x appsettings.json for this environment. Secrets appear as placeholders naming their
 * references; set the real values through OS2sync's environment variables (`ApiKey`,
 * `ClientSettings__WscKeystorePassword`). Key order is fixed, so the output is stable.
 */
export function renderOs2syncConfig(env: Environment): string {
  const environment = requireRealStage(env, "OS2sync configuration");
  const config: Record<string, unknown> = {
    Cvr: env.municipality.cvr,
    Environment: environment,
  };
  if (env.os2sync.apiKey) config.ApiKey = secretPlaceholder(env.os2sync.apiKey);
  config.ClientSettings = {
    WscKeystoreLocation: env.certificate?.path ?? "",
    WscKeystorePassword: env.certificate ? secretPlaceholder(env.certificate.password) : "",
  };
  return JSON.stringify(config, null, 2) + "\n";
}

/**
 * The seed guide's info-sp-sts-org.txt: `KEY=VALUE` lines a shell can source and docker can read with
 * --env-file. Holds no secrets.
 */
export function renderInfoFile(env: Environment): string {
  requireRealStage(env, "info file");
  const lines: [string, string][] = [
    ["SP_SERVICE_UUID", ORGANISATION_V4_SERVICE_UUID],
    ["SP_SERVICE_AGREEMENT_UUID", env.serviceAgreement.uuid],
    ["SP_MUNICIPALITY_UUID", env.municipality.uuid],
    ["SP_SYSTEM_UUID", env.serviceAgreement.itSystemUuid],
    ["ADMIN_TOP_UUID", env.sts.adminTopUuid],
    ["CVR", env.municipality.cvr],
    ["SP_CERTIFICATE_PATH", env.certificate?.path ?? ""],
  ];
  return [`# ${env.municipality.name}, environment ${env.name} (stage ${env.stage})`, ...lines.map(([k, v]) => `${k}=${v}`)].join("\n") + "\n";
}
