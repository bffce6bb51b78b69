/**
 * The FK Organisation store shared by the sandbox servers (OS2sync REST, FK GraphQL): objects with
 * their lifecycle, FK-side rejection rules, and atomic JSON persistence.
 */
export { FkStore, writeFileAtomic, FK_STORE_FORMAT_VERSION } from "./store.js";
export type { FkLifecycle, FkRecord, FkWrite, FkWriteResult, FkStoreOptions, FkStoreReader } from "./store.js";
export {
  customRule,
  defaultRules,
  parentUnitMustExist,
  positionUnitMustExist,
  targetMustExist,
  uuidMustBeValid,
} from "./rules.js";
export type { FkRejection, RejectionRule } from "./rules.js";
