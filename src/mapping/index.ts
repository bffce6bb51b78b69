/**
 * OS2mo -> FK mapping (pure): `computeDesiredState(snapshot, policy)` turns a MoSnapshot into the
 * OrgUnitRegistration / UserRegistration objects OS2sync takes, plus the consistency issues found.
 */
export { computeDesiredState } from "./map.js";
