import { AuthError, RemoteError, StsorgError } from "../errors/index.js";
import type { OrgUnitRegistration, UserRegistration } from "../model/index.js";

/**
 * The port apply needs to FK: the OS2sync client implements it. Writes only queue work in OS2sync;
 * reads return FK's current content, normalised (undefined when the object is absent or inactive).
 * Implementations should not retry writes themselves: apply retries only after a read-back shows the
 * write did not land, which is how it guarantees that no write is sent twice without a read between.
 */
export interface FkReader {
  getOrgUnit(uuid: string): Promise<OrgUnitRegistration | undefined>;
  getUser(uuid: string): Promise<UserRegistration | undefined>;
}

export interface FkWriter extends FkReader {
  upsertOrgUnit(reg: OrgUnitRegistration): Promise<void>;
  /** `Person.Cpr`, when present, is the CPR number in clear (re-read from OS2mo just before the write). */
  upsertUser(reg: UserRegistration): Promise<void>;
  deleteOrgUnit(uuid: string): Promise<void>;
  deleteUser(uuid: string): Promise<void>;
}

/**
 * A write that OS2sync refused. `permanent`: repeating it cannot help (a 400: the registration is
 * invalid); otherwise the failure may pass (5xx, timeout, dropped connection) and the outcome of the
 * write is unknown.
 */
export class FkWriteError extends Error {
  override readonly name = "FkWriteError";
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

const TRANSIENT_4XX = new Set([408, 409, 425, 429]);

/** True when retrying cannot help: an explicit `permanent` flag, a 4xx other than 408/409/425/429, bad credentials. */
export function isPermanentFailure(e: unknown): boolean {
  if (e !== null && typeof e === "object" && typeof (e as { permanent?: unknown }).permanent === "boolean") {
    return (e as { permanent: boolean }).permanent;
  }
  if (e instanceof RemoteError) {
    return e.status !== undefined && e.status >= 400 && e.status < 500 && !TRANSIENT_4XX.has(e.status);
  }
  if (e instanceof AuthError) return true;
  // Other user-facing errors (bad manifest, certificate) do not pass by waiting either.
  if (e instanceof StsorgError) return true;
  return false;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
