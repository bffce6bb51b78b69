/**
 * Environment promotion: carries the portable parts of one manifest (the sync policy, safety limits
 * and the service agreement's service/role shape) into another, keeping the target's own values and
 * its comments, and refusing to let one environment's uuids reach another.
 */
export { promoteManifest, PORTABLE_SECTIONS, ENVIRONMENT_UUID_FIELDS } from "./promote.js";
export { promotionDiff, promotionReport } from "./report.js";
export { ORGANISATION_V4_SERVICE_UUID } from "./uuids.js";
export type { ManifestText, PromotionFinding, PromotionResult, ValueOrigin } from "./types.js";
