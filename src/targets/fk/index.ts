/** FK Organisation read directly: KOMBIT's organisation GraphQL (OrganisationHent) and `--refresh fk`. */
export { FkClient, FK_ORGANISATION_ENTITY_ID } from "./client.js";
export type { FkClientOptions, FkClientStats, FkGraphqlError, GraphqlOutcome, ProgressStream } from "./client.js";
export { credentialsFromPkcs12 } from "./credentials.js";
export type { ClientCredentials } from "./credentials.js";
export { fkClientOptionsFor } from "./config.js";
export type { FkEndpointOverride } from "./config.js";
export { FK_QUERIES_DIR, FK_QUERY_NAMES, loadFkQuery } from "./queries.js";
export type { FkQueryName } from "./queries.js";
export { readConnection, FK_MAX_PAGE_SIZE } from "./reader.js";
export type { ConnectionRead, ReadOptions } from "./reader.js";
export { orgUnitFromFk, userFromFk, fkDate } from "./map.js";
export {
  refreshFromFk,
  fkObservedUserFields,
  FK_OBSERVED_ORG_UNIT_FIELDS,
  FK_UNREADABLE_ORG_UNIT_FIELDS,
  FK_UNREPORTED_USER_FIELDS,
} from "./refresh.js";
export type { FkRefreshDeps } from "./refresh.js";
export {
  FUNCTION_TYPES,
  INTERNAL_USER_TYPE,
  ROBOT_USER_TYPE,
  UNIT_ADDRESS_ROLES,
  UNIT_TYPES,
  USER_ADDRESS_ROLES,
  unitAddressRoleOf,
  userAddressRoleOf,
} from "./classifications.js";
