import {
  normaliseUser,
  type ConsistencyIssue,
  type MoEngagement,
  type MoItUser,
  type MoPerson,
  type Position,
  type UserRegistration,
} from "../model/index.js";
import { pickUserAddress, pickWorkAddress } from "./addresses.js";
import type { SnapshotIndex } from "./indexes.js";
import { personRef } from "./issues.js";
import { cmpStr, UUID_RE, type PreparedPolicy } from "./prepared.js";
import { firstAccount, type UnitPlacement } from "./units.js";

/** The IT accounts of one person that are tied to one engagement (or to none: `engagement` null). */
export interface AccountGroup {
  engagement: string | null;
  accounts: MoItUser[];
}

/** One desired FK user and the OS2mo objects it came from (for consistency messages). */
export interface MappedUser {
  user: UserRegistration;
  person: MoPerson;
  group: AccountGroup;
  /** The engagement behind each position, same order as `user.Positions` before normalisation. */
  engagements: MoEngagement[];
}

/**
 * A person's accounts in the user-key and uuid systems grouped by the engagement they are tied to;
 * groups ordered by engagement uuid with the untied group first. A person without such accounts is one
 * untied group with no accounts.
 */
export function accountGroups(person: MoPerson, idx: SnapshotIndex, p: PreparedPolicy): AccountGroup[] {
  // A person has a handful of accounts at most: arrays beat a Map per person (30,000 persons).
  const groups: AccountGroup[] = [];
  for (const it of idx.personItUsers.get(person.uuid) ?? NONE) {
    const name = it.itsystem.name.trim();
    if (!p.userKeySystemRank.has(name) && !p.uuidSystemRank.has(name)) continue;
    const key = it.engagement ?? null;
    const group = groups.find((g) => g.engagement === key);
    if (group) group.accounts.push(it);
    else groups.push({ engagement: key, accounts: [it] });
  }
  if (groups.length === 0) return [{ engagement: null, accounts: [] }];
  if (groups.length > 1) {
    groups.sort((x, y) => {
      const a = x.engagement;
      const b = y.engagement;
      return a === b ? 0 : a === null ? -1 : b === null ? 1 : cmpStr(a, b);
    });
  }
  return groups;
}

const NONE: readonly never[] = [];

/** FK uuid of a person as a manager: their first account in a uuid system, else their MO uuid. */
export function personFkUuid(personUuid: string, idx: SnapshotIndex, p: PreparedPolicy): string {
  const acc = firstAccount(idx.personItUsers.get(personUuid), p.uuidSystemRank);
  const key = acc?.user_key.trim();
  return key !== undefined && UUID_RE.test(key) ? key.toLowerCase() : personUuid;
}

function jobName(e: MoEngagement, p: PreparedPolicy): string | undefined {
  const field = p.policy.extensionFieldAsJobFunction;
  if (field !== null) {
    // As the exporter: an empty extension field falls back to the job function.
    const ext = e.extensions[field === "1" ? "extension_1" : "extension_3"];
    if (ext !== null && ext !== undefined && ext.trim() !== "") return ext;
  }
  const name = e.job_function?.name;
  return name !== undefined && name.trim() !== "" ? name : undefined;
}

export function mapPersonUsers(
  person: MoPerson,
  idx: SnapshotIndex,
  placement: UnitPlacement,
  p: PreparedPolicy,
  today: string,
  issues: ConsistencyIssue[],
): MappedUser[] {
  const out: MappedUser[] = [];
  let reportedEngagements: Set<string> | undefined;
  // Checked once per person, and only for a person who becomes an FK user.
  let cpr: { value: string | undefined } | undefined;
  const personCpr = () => (cpr ??= { value: checkedCpr(person, issues) }).value;
  for (const group of accountGroups(person, idx, p)) {
    const userKeyAccount = firstAccount(group.accounts, p.userKeySystemRank);
    if (!userKeyAccount && p.policy.filterUsersByItSystem) continue;

    let engagements: MoEngagement[];
    if (group.engagement !== null) {
      const e = idx.engagements.get(group.engagement);
      engagements = e && e.person === person.uuid ? [e] : [];
    } else {
      engagements = idx.engagementsByPerson.get(person.uuid) ?? [];
    }

    const included: { e: MoEngagement; position: Position }[] = [];
    for (const e of engagements) {
      if (e.validity.to !== null && e.validity.to < today) continue;
      const standIn = placement.standIn.get(e.org_unit);
      if (standIn === undefined) continue;
      const unitUuid = placement.fkUuid.get(standIn);
      if (unitUuid === undefined) continue;
      const name = jobName(e, p);
      if (name === undefined) {
        reportedEngagements ??= new Set();
        if (!reportedEngagements.has(e.uuid)) {
          reportedEngagements.add(e.uuid);
          const unit = idx.units.get(e.org_unit);
          // A warning, not an error: the rest of the person (and the municipality) is still written
          // consistently, and one engagement without a job function must not stop every sync.
          issues.push({
            severity: "warning",
            code: "position-without-name",
            message: `Engagement ${e.uuid} of "${person.name}" (${person.uuid}) in unit "${unit?.name ?? ""}" (${e.org_unit}) has no job function; OS2sync requires a position name, so the position is left out.`,
            objects: [personRef(person), { kind: "engagement", uuid: e.uuid }],
            hint:
              p.policy.extensionFieldAsJobFunction !== null
                ? `Give the engagement a job function or fill extension_${p.policy.extensionFieldAsJobFunction} in OS2mo.`
                : "Give the engagement a job function in OS2mo.",
          });
        }
        continue;
      }
      const position: Position = { Name: name, OrgUnitUuid: unitUuid };
      if (e.validity.from > today) position.StartDate = e.validity.from;
      included.push({ e, position });
    }
    if (included.length === 0) continue;
    included.sort((a, b) => cmpStr(a.position.Name, b.position.Name) || cmpStr(a.e.uuid, b.e.uuid));

    const uuid = groupFkUuid(person, group, p, issues);
    const raw: Record<string, unknown> = {
      Uuid: uuid,
      UserId: userKeyAccount ? userKeyAccount.user_key : uuid,
      Positions: included.map((i) => i.position),
      Person: {
        Name: p.policy.useNickname && person.nickname.trim() !== "" ? person.nickname : person.name,
        Cpr: p.policy.syncCpr ? personCpr() : undefined,
      },
    };

    let addresses = idx.personAddresses.get(person.uuid) ?? [];
    if (p.policy.groupByEngagementUuid && group.engagement !== null) {
      addresses = addresses.filter((a) => a.engagement === group.engagement);
    }
    if (addresses.length > 0) {
      raw.Email = pickUserAddress(addresses, p.emailRank);
      raw.PhoneNumber = pickUserAddress(addresses, p.phoneRank);
      raw.Landline = pickUserAddress(addresses, p.landlineRank);
    }

    if (p.workAddressRank.size > 0) {
      const primaries = included.filter((i) => i.e.is_primary);
      const primary = primaries.length === 1 ? primaries[0]! : included[0]!;
      raw.Location = pickWorkAddress(idx.unitAddresses.get(primary.e.org_unit) ?? [], p.workAddressRank);
    }

    const user = normaliseUser(raw, { truncateLength: p.userTruncateLength });
    if (user.Person.Name === "") {
      issues.push({
        severity: "error",
        code: "person-without-name",
        message: `Person ${person.uuid} has no name in OS2mo; OS2sync requires Person.Name, so FK user ${user.Uuid} cannot be written.`,
        objects: [personRef(person)],
        fk: [{ kind: "user", uuid: user.Uuid }],
        hint: "Give the person a name in OS2mo.",
      });
    }
    out.push({ user, person, group, engagements: included.map((i) => i.e) });
  }
  return out;
}

function groupFkUuid(person: MoPerson, group: AccountGroup, p: PreparedPolicy, issues: ConsistencyIssue[]): string {
  const acc = firstAccount(group.accounts, p.uuidSystemRank);
  if (!acc) return person.uuid;
  const key = acc.user_key.trim();
  if (UUID_RE.test(key)) return key.toLowerCase();
  issues.push({
    severity: "error",
    code: "invalid-uuid-override",
    message: `The ${acc.itsystem.name} account "${key}" of "${person.name}" (${person.uuid}) is not a uuid; the user is written under the person's OS2mo uuid instead.`,
    objects: [personRef(person), { kind: "ituser", uuid: acc.uuid, name: key }],
    fk: [{ kind: "user", uuid: person.uuid }],
    hint: `In OS2mo, set the ${acc.itsystem.name} account's user_key to the user's FK Organisation uuid.`,
  });
  return person.uuid;
}

/**
 * The person's CPR number for FK, when it is one: 10 digits (a dash between date and serial is allowed).
 * Anything else is left out with a warning that names the person, never the number.
 */
function checkedCpr(person: MoPerson, issues: ConsistencyIssue[]): string | undefined {
  const raw = person.cpr_number;
  if (raw === null || raw === undefined || raw.trim() === "") return undefined;
  if (/^\s*\d{6}-?\d{4}\s*$/.test(raw)) return raw;
  issues.push({
    severity: "warning",
    code: "cpr-malformed",
    message: `The CPR number of "${person.name}" (${person.uuid}) in OS2mo is not 10 digits; it is not sent to FK.`,
    objects: [personRef(person)],
    hint: "Correct the person's CPR number in OS2mo.",
  });
  return undefined;
}
