import {
  SYNC_POLICY_DEFAULTS,
  type MoAddress,
  type MoClassRef,
  type MoEngagement,
  type MoItUser,
  type MoKle,
  type MoManager,
  type MoOrgUnit,
  type MoPerson,
  type MoSnapshot,
  type SyncPolicy,
} from "../../../src/model/index.js";

/** A readable, valid uuid from a number: uid(1) = 00000000-0000-4000-8000-000000000001. */
export function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export const TODAY = "2026-01-15";
export const TOP = uid(1);
export const ADMIN_TOP = "aaaaaaaa-0000-4000-8000-000000000000";

export function cls(uuid: string, user_key: string, scope: string | null = null, name = user_key): MoClassRef {
  return { uuid, user_key, name, scope };
}

export const AD = { uuid: uid(0xad), name: "Active Directory", user_key: "AD" };
export const FKORG = { uuid: uid(0xf0), name: "FK-ORG UUID", user_key: "FK-ORG" };
export const OPUS = { uuid: uid(0x0b), name: "Opus", user_key: "Opus" };

/** Address types used across the tests. */
export const T = {
  email: cls(uid(0xe1), "EmailUnit", "EMAIL"),
  email2: cls(uid(0xe2), "EmailWork", "EMAIL"),
  phone: cls(uid(0x71), "PhoneUnit", "PHONE"),
  mobile: cls(uid(0x72), "Mobile", "PHONE"),
  landline: cls(uid(0x73), "Landline", "PHONE"),
  ean: cls(uid(0xea), "EAN", "EAN"),
  post: cls(uid(0xd1), "AddressMailUnit", "DAR", "Postadresse"),
  contact: cls(uid(0xd2), "Contact", "DAR", "Henvendelsessted"),
  location: cls(uid(0xd3), "Location", "DAR", "Lokation"),
  pnumber: cls(uid(0xb1), "Pnummer", "PNUMBER"),
  www: cls(uid(0x33), "Webside", "WWW"),
  contactOpenHours: cls(uid(0x41), "ContactOpenHours", "TEXT"),
  phoneOpenHours: cls(uid(0x42), "PhoneOpenHours", "TEXT"),
  dtrId: cls(uid(0x43), "DtrId", "TEXT"),
  otherText: cls(uid(0x44), "Note", "TEXT"),
};
export const PUBLIC = cls(uid(0x501), "Public", "PUBLIC");
export const SECRET = cls(uid(0x502), "Secret", "SECRET");

/**
 * A tiny fluent builder for MoSnapshots: a top unit exists from the start; objects get sequential
 * uuids unless one is given. `build()` sorts every list by uuid, as the reader does.
 */
export class SnapshotBuilder {
  private seq = 0x10000;
  readonly s: MoSnapshot;

  constructor(today = TODAY) {
    this.s = {
      topUnitUuid: TOP,
      today,
      orgUnits: [],
      persons: [],
      engagements: [],
      addresses: [],
      itUsers: [],
      managers: [],
      kles: [],
    };
    this.unit(TOP, "Kommune", null);
  }

  next(): string {
    return uid(this.seq++);
  }

  unit(uuid: string, name: string, parent: string | null, opts: Partial<MoOrgUnit> = {}): this {
    this.s.orgUnits.push({
      uuid,
      name,
      user_key: name,
      parent,
      unit_type: null,
      org_unit_level: null,
      org_unit_hierarchy_model: null,
      validity: { from: "2000-01-01", to: null },
      ...opts,
    });
    return this;
  }

  person(uuid: string, name: string, opts: Partial<MoPerson> = {}): this {
    this.s.persons.push({ uuid, name, nickname: "", cpr_number: null, ...opts });
    return this;
  }

  engagement(person: string, unit: string, job: string | null, opts: Partial<MoEngagement> = {}): string {
    const uuid = opts.uuid ?? this.next();
    this.s.engagements.push({
      uuid,
      person,
      org_unit: unit,
      job_function: job === null ? null : cls(uid(0x900), job, null, job),
      extensions: {},
      is_primary: false,
      validity: { from: "2020-01-01", to: null },
      ...opts,
    });
    return uuid;
  }

  unitAddress(unit: string, type: MoClassRef, name: string, opts: Partial<MoAddress> = {}): string {
    return this.address({ org_unit: unit, person: null, address_type: type, name, ...opts });
  }

  personAddress(person: string, type: MoClassRef, name: string, opts: Partial<MoAddress> = {}): string {
    return this.address({ org_unit: null, person, address_type: type, name, ...opts });
  }

  private address(a: Partial<MoAddress> & { address_type: MoClassRef }): string {
    const uuid = a.uuid ?? this.next();
    this.s.addresses.push({
      visibility: null,
      name: null,
      value: a.name ?? "",
      org_unit: null,
      person: null,
      engagement: null,
      ituser: null,
      ...a,
      uuid,
    });
    return uuid;
  }

  itUser(
    owner: { person?: string; unit?: string },
    system: { uuid: string; name: string; user_key: string },
    userKey: string,
    opts: Partial<MoItUser> = {},
  ): string {
    const uuid = opts.uuid ?? this.next();
    this.s.itUsers.push({
      uuid,
      user_key: userKey,
      external_id: null,
      itsystem: system,
      person: owner.person ?? null,
      org_unit: owner.unit ?? null,
      engagement: null,
      ...opts,
    });
    return uuid;
  }

  manager(unit: string, person: string | null, opts: Partial<MoManager> = {}): string {
    const uuid = opts.uuid ?? this.next();
    this.s.managers.push({ uuid, person, org_unit: unit, manager_type: null, responsibilities: [], ...opts });
    return uuid;
  }

  kle(unit: string, number: string, aspects: string[], opts: Partial<MoKle> = {}): string {
    const uuid = opts.uuid ?? this.next();
    this.s.kles.push({
      uuid,
      org_unit: unit,
      kle_number: cls(number, number, null, number),
      kle_aspects: aspects.map((a) => cls(uid(0x6000 + a.length), a, null, a)),
      ...opts,
    });
    return uuid;
  }

  build(): MoSnapshot {
    const by = <X extends { uuid: string }>(l: X[]) => [...l].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    return {
      ...this.s,
      orgUnits: by(this.s.orgUnits),
      persons: by(this.s.persons),
      engagements: by(this.s.engagements),
      addresses: by(this.s.addresses),
      itUsers: by(this.s.itUsers),
      managers: by(this.s.managers),
      kles: by(this.s.kles),
    };
  }
}

export function policy(overrides: Partial<SyncPolicy> = {}): SyncPolicy {
  return { ...SYNC_POLICY_DEFAULTS, topUnitUuid: TOP, adminTopUuid: ADMIN_TOP, ...overrides };
}
