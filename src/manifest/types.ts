import type { SyncPolicy } from "../model/index.js";

/**
 * The normalised environment: a manifest after loading and validation, defaults filled in, secrets
 * still unresolved references (resolve with `resolveSecret` only where a command needs the value).
 */

export type Stage = "test" | "prod" | "sandbox";

/** A secret reference as written in a manifest: `${env:NAME}` or `${file:PATH}`. Never the value. */
export interface SecretRef {
  /** The reference as written, e.g. `${env:STSORG_MO_SECRET}` (safe to print). */
  ref: string;
  source: "env" | "file";
  /** Environment variable name or file path. */
  name: string;
}

export interface ServiceRole {
  name: string;
  parameters: Record<string, string>;
}

export interface ServiceAgreementService {
  name: string;
  uuid?: string;
  roles: ServiceRole[];
}

export interface ServiceAgreement {
  uuid: string;
  name: string;
  type: "uden-videregivelse-af-data" | "med-videregivelse-af-data";
  validFrom: string;
  validTo: string | null;
  justification?: string;
  itSystemUuid: string;
  services: ServiceAgreementService[];
}

export interface Os2moConfig {
  url: string;
  graphqlVersion: number;
  auth: { authServer: string; realm: string; clientId: string; clientSecret: SecretRef };
  /** Page size for collection queries (OS2mo `limit`). */
  pageSize: number;
  timeoutMs: number;
  /** PEM file with a private CA to trust (TLS verification stays on). */
  caFile?: string;
}

export interface Os2syncConfig {
  /** Base URL including `/api`, e.g. `http://os2sync:5000/api`. */
  url: string;
  apiKey?: SecretRef;
  timeoutMs: number;
  concurrency: number;
  /** How long to poll a hierarchy job before giving up. */
  hierarchyTimeoutMs: number;
  caFile?: string;
}

export interface SafetyConfig {
  maxDeletes: { count: number; percent: number };
  protectedUnits: string[];
  prune: "managed" | "all-under-top";
}

export interface StateConfig {
  backend: "local" | "postgres" | "http";
  /** Local backend: path relative to the manifest's project root (the folder holding `environments/`). */
  path: string;
  postgres?: { url: SecretRef | string; schema: string; table: string; sslmode?: string; caFile?: string };
  http?: {
    address: string;
    lockAddress?: string;
    unlockAddress?: string;
    lockMethod: string;
    unlockMethod: string;
    username?: string;
    password?: SecretRef;
    /** Bearer token instead of basic auth. */
    token?: SecretRef;
    retryMax: number;
    retryWaitMinSeconds: number;
    retryWaitMaxSeconds: number;
    caFile?: string;
  };
}

/** Embedded sandbox servers (stage `sandbox`): started in-process, data kept under `dataDir`. */
export interface SandboxConfig {
  fixture: "small" | "medium" | "large";
  seed: number;
  dataDir: string;
}

/** Direct read access to FK Organisation's GraphQL service; URLs default to the stage's endpoints. */
export interface FkConfig {
  graphqlUrl?: string;
  tokenUrl?: string;
  authScheme: string;
  tlsMinVersion: "TLSv1.2" | "TLSv1.3";
  tlsMaxVersion: "TLSv1.2" | "TLSv1.3";
}

export interface Environment {
  /** metadata.name */
  name: string;
  description?: string;
  /** Absolute path of the manifest file. */
  file: string;
  /** Folder relative paths in the manifest are resolved against (the manifest's project root). */
  baseDir: string;
  /** sha256 of the manifest file's bytes (plans record it; apply refuses a changed manifest). */
  sha256: string;
  stage: Stage;
  municipality: { name: string; cvr: string; uuid: string };
  serviceAgreement: ServiceAgreement;
  certificate?: { path: string; password: SecretRef };
  sts: { adminTopUuid: string };
  os2mo: Os2moConfig;
  os2sync: Os2syncConfig;
  sync: SyncPolicy;
  /** Key for the CPR hash; required when sync.syncCpr. */
  cprHashKey?: SecretRef;
  safety: SafetyConfig;
  state: StateConfig;
  sandbox?: SandboxConfig;
  promotion?: { uuidMap: Record<string, string> };
  fk?: FkConfig;
}
