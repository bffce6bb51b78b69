/**
 * OS2mo -> FK mapping (pure): `computeDesiredState(snapshot, policy)` turns a MoSnapshot into the
 * OrgUnitRegistration / UserRegistration objects OS2sync takes, plus the consistency issues found.
 *
 * It follows "stsorg's mapping rules" (the exporter's default path, with its defects fixed). Where those
 * rules leave a choice open, this is what it does, and why:
 * - The top unit is always written (as `adminTopUuid`), even when its level or type is ignored: FK's
 *   tree needs its root.
 * - Accounts not tied to an engagement form their own group with every relevant engagement, also when
 *   other accounts of the person are tied (as the exporter does); if that group and a tied one end up
 *   with the same FK uuid, that is the `duplicate-user-uuid` error.
 * - Several uuid-system accounts in one group, or on one unit: the first by system list order, then
 *   by user_key (the exporter gave up and used the OS2mo uuid). An account whose user_key is not a uuid
 *   is reported (`invalid-uuid-override`) and the OS2mo uuid is used.
 * - A manager's FK uuid is their first uuid-system account (system order, then user_key), else their
 *   OS2mo uuid.
 * - `extensionFieldAsJobFunction`: an empty extension field falls back to the job function (as the
 *   exporter). An engagement without any position name is reported (`position-without-name`).
 * - User texts are cut to max(36, truncateLength), as the exporter does, so a UserId that is a uuid is
 *   never cut; unit texts to truncateLength, never a uuid field.
 * - Objects with a problem of their own (no name) stay in the desired state, so a plan never deletes
 *   them for it; of two objects with one FK uuid the first by OS2mo uuid is kept.
 * - Unit addresses are not filtered by visibility (the exporter does not); user addresses are.
 * - A user's `Location` comes from the OS2mo unit of the primary engagement (the unique `is_primary`
 *   one, else the first position by name and engagement uuid), also when that unit is collapsed.
 * - Exporter templates (`person.name`, `person.user_id`) are not supported.
 */
export { computeDesiredState } from "./map.js";
