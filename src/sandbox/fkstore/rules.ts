import type { FkStoreReader, FkWrite } from "./store.js";

/**
 * Why FK refuses a write. `status` is FK's result code as OS2sync logs it (40 inconsistent input,
 * 44 not found, 49 deleted or passivated); `message` is the text that ends up in OS2sync's failure table.
 */
export interface FkRejection {
  status: number;
  message: string;
  /** Name of the rule that refused it (filled in by the store). */
  rule?: string;
}

/** A check FK makes before accepting a write; returns a rejection or undefined to let it through. */
export interface RejectionRule {
  name: string;
  check(write: FkWrite, store: FkStoreReader): FkRejection | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** FK keys objects by uuid; anything else is refused. */
export const uuidMustBeValid: RejectionRule = {
  name: "uuid-must-be-valid",
  check(write) {
    const uuid = write.op === "upsert" ? write.registration.Uuid : write.uuid;
    if (UUID.test(uuid.toLowerCase())) return undefined;
    return { status: 40, message: `Inconsistent input (status 40): '${uuid}' is not a uuid` };
  },
};

/** A user's position (an OrganisationFunktion) must point at an org unit FK has and that is active. */
export const positionUnitMustExist: RejectionRule = {
  name: "position-unit-must-exist",
  check(write, store) {
    if (write.kind !== "user" || write.op !== "upsert") return undefined;
    for (const p of write.registration.Positions) {
      if (!store.isActive("orgunit", p.OrgUnitUuid)) {
        return {
          status: 40,
          message: `Inconsistent input (status 40): position '${p.Name}' refers to org unit ${p.OrgUnitUuid}, which does not exist in FK`,
        };
      }
    }
    return undefined;
  },
};

/** Deactivating or passivating something FK never had. */
export const targetMustExist: RejectionRule = {
  name: "target-must-exist",
  check(write, store) {
    if (write.op === "upsert") return undefined;
    const kind = write.kind;
    const r = kind === "orgunit" ? store.record("orgunit", write.uuid) : store.record("user", write.uuid);
    if (r) return undefined;
    return { status: 44, message: `Not found (status 44): ${kind === "orgunit" ? "org unit" : "user"} ${write.uuid} does not exist in FK` };
  },
};

/** Optional: an org unit's parent must exist and be active (FK itself accepts dangling parents). */
export const parentUnitMustExist: RejectionRule = {
  name: "parent-unit-must-exist",
  check(write, store) {
    if (write.kind !== "orgunit" || write.op !== "upsert") return undefined;
    const parent = write.registration.ParentOrgUnitUuid;
    if (parent === undefined || store.isActive("orgunit", parent)) return undefined;
    return { status: 40, message: `Inconsistent input (status 40): parent org unit ${parent} does not exist in FK` };
  },
};

/** A rule from a predicate: `reject(write)` returns the reason (a message) or undefined. */
export function customRule(name: string, reject: (write: FkWrite) => string | undefined, status = 40): RejectionRule {
  return {
    name,
    check(write) {
      const message = reject(write);
      return message === undefined ? undefined : { status, message };
    },
  };
}

/** The rules a store has unless told otherwise. */
export function defaultRules(): RejectionRule[] {
  return [uuidMustBeValid, targetMustExist, positionUnitMustExist];
}
