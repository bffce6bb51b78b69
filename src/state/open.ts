import { isAbsolute, resolve } from "node:path";
import { StateError } from "../errors/index.js";
import type { Environment } from "../manifest/types.js";
import { LocalStateBackend } from "./local.js";
import type { StateBackend, StateIdentity } from "./types.js";

/** The parts of an Environment a state backend needs. */
export type StateEnvironment = Pick<Environment, "name" | "baseDir" | "state" | "municipality" | "sts">;

export function identityOf(env: Pick<Environment, "name" | "municipality" | "sts">): StateIdentity {
  return { environment: env.name, cvr: env.municipality.cvr, admin_top_uuid: env.sts.adminTopUuid.toLowerCase() };
}

/** Where the local state file of an environment lives. */
export function localStatePath(env: Pick<Environment, "baseDir" | "state">): string {
  return isAbsolute(env.state.path) ? env.state.path : resolve(env.baseDir, env.state.path);
}

/** Opens the backend `spec.state` names, bound to the environment's identity. */
export function openBackend(env: StateEnvironment, io: { now(): Date }, opts: { version?: string } = {}): StateBackend {
  switch (env.state.backend) {
    case "local":
      return new LocalStateBackend({
        path: localStatePath(env),
        identity: identityOf(env),
        now: () => io.now(),
        version: opts.version,
      });
    default:
      throw new StateError(`State backend "${env.state.backend}" is not available in this version of stsorg.`, {
        path: "spec.state.backend",
        hint: "Use backend: local.",
      });
  }
}
