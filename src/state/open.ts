import { isAbsolute, resolve } from "node:path";
import { StateError } from "../errors/index.js";
import { resolveSecret } from "../manifest/index.js";
import type { Environment, SecretRef } from "../manifest/types.js";
import { HttpStateBackend } from "./http.js";
import { LocalStateBackend } from "./local.js";
import type { SslMode } from "./pgconfig.js";
import { PostgresStateBackend } from "./postgres.js";
import type { StateBackend, StateIdentity } from "./types.js";

/** The parts of an Environment a state backend needs. */
export type StateEnvironment = Pick<Environment, "name" | "baseDir" | "state" | "municipality" | "sts">;

export type BackendKind = Environment["state"]["backend"];
export const BACKEND_KINDS: readonly BackendKind[] = ["local", "postgres", "http"];

/** What opening a backend may need from the process: the clock, and the environment for secret references. */
export interface OpenIo {
  now(): Date;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export function identityOf(env: Pick<Environment, "name" | "municipality" | "sts">): StateIdentity {
  return { environment: env.name, cvr: env.municipality.cvr, admin_top_uuid: env.sts.adminTopUuid.toLowerCase() };
}

/** Where the local state file of an environment lives. */
export function localStatePath(env: Pick<Environment, "baseDir" | "state">): string {
  return isAbsolute(env.state.path) ? env.state.path : resolve(env.baseDir, env.state.path);
}

/** Opens the backend `spec.state` names, bound to the environment's identity. */
export function openBackend(env: StateEnvironment, io: OpenIo, opts: { version?: string } = {}): StateBackend {
  return openBackendOfKind(env.state.backend, env, io, opts);
}

/**
 * Opens a backend of the given kind with the settings `spec.state` has for it (a manifest may hold the
 * settings of several backends while it moves from one to another; see `state migrate`). Secrets are
 * resolved on first use, not here.
 */
export function openBackendOfKind(kind: BackendKind, env: StateEnvironment, io: OpenIo, opts: { version?: string; localPath?: string } = {}): StateBackend {
  const identity = identityOf(env);
  const now = () => io.now();
  const secret = (ref: SecretRef) => () => resolveSecret(ref, { env: io.env ?? process.env, baseDir: env.baseDir, cwd: io.cwd });
  const file = (p: string) => (isAbsolute(p) ? p : resolve(env.baseDir, p));
  switch (kind) {
    case "local":
      return new LocalStateBackend({ path: opts.localPath ?? localStatePath(env), identity, now, version: opts.version });
    case "postgres": {
      const pg = env.state.postgres;
      if (!pg) throw missingSettings("postgres");
      const url = pg.url;
      return new PostgresStateBackend({
        url: typeof url === "string" ? url : secret(url),
        label: typeof url === "string" ? undefined : url.ref,
        environment: env.name,
        schema: pg.schema,
        table: pg.table,
        ...(pg.sslmode !== undefined ? { sslmode: pg.sslmode as SslMode } : {}),
        ...(pg.caFile !== undefined ? { caFile: file(pg.caFile) } : {}),
        identity,
        now,
        version: opts.version,
      });
    }
    case "http": {
      const h = env.state.http;
      if (!h) throw missingSettings("http");
      return new HttpStateBackend({
        address: h.address,
        ...(h.lockAddress !== undefined ? { lockAddress: h.lockAddress } : {}),
        ...(h.unlockAddress !== undefined ? { unlockAddress: h.unlockAddress } : {}),
        lockMethod: h.lockMethod,
        unlockMethod: h.unlockMethod,
        ...(h.username !== undefined ? { username: h.username } : {}),
        ...(h.password !== undefined ? { password: secret(h.password) } : {}),
        ...(h.token !== undefined ? { token: secret(h.token) } : {}),
        retryMax: h.retryMax,
        retryWaitMinMs: h.retryWaitMinSeconds * 1000,
        retryWaitMaxMs: h.retryWaitMaxSeconds * 1000,
        ...(h.caFile !== undefined ? { caFile: file(h.caFile) } : {}),
        identity,
        now,
        version: opts.version,
      });
    }
    default:
      throw new StateError(`State backend "${String(kind)}" is not available in this version of stsorg.`, {
        path: "spec.state.backend",
        hint: `Use one of: ${BACKEND_KINDS.join(", ")}.`,
      });
  }
}

function missingSettings(kind: "postgres" | "http"): StateError {
  const example =
    kind === "postgres"
      ? 'postgres: { url: "${env:STSORG_PG_URL}" }'
      : 'http: { address: "https://gitlab.example/api/v4/projects/1/terraform/state/prod" }';
  return new StateError(`The ${kind} state backend needs spec.state.${kind} in the manifest.`, {
    path: `spec.state.${kind}`,
    hint: `Add it under spec.state, e.g. ${example}.`,
  });
}
