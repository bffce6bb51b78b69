import { randomUUID } from "node:crypto";
import type { MoPerson, MoValidity } from "../../model/index.js";
import type {
  FixtureAddress,
  FixtureClass,
  FixtureEngagement,
  FixtureFacet,
  FixtureItSystem,
  FixtureItUser,
  FixtureKle,
  FixtureManager,
  FixtureOrgUnit,
  MoFixture,
} from "../fixtures/types.js";

/** The object collections of a fixture, by the fixture's own key names. */
export interface Collections {
  facets: FixtureFacet;
  classes: FixtureClass;
  itsystems: FixtureItSystem;
  orgUnits: FixtureOrgUnit;
  persons: MoPerson;
  engagements: FixtureEngagement;
  addresses: FixtureAddress;
  itUsers: FixtureItUser;
  managers: FixtureManager;
  kles: FixtureKle;
}
export type CollectionName = keyof Collections;
export const COLLECTION_NAMES: readonly CollectionName[] = [
  "facets",
  "classes",
  "itsystems",
  "orgUnits",
  "persons",
  "engagements",
  "addresses",
  "itUsers",
  "managers",
  "kles",
];

/** Thrown for a mutation that names an unknown object or is malformed (HTTP 404/400 on the admin API). */
export class SandboxDataError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/**
 * The sandbox's data: one version per object (a mutation edits it in place, an end sets `validity.to`),
 * indexed by uuid. `version` changes on every mutation so cached query results are dropped.
 */
export class MoStore {
  readonly topUnitUuid: string;
  readonly municipality: { name: string; cvr: string };
  private readonly maps: { [K in CollectionName]: Map<string, Collections[K]> };
  private readonly sortedCache = new Map<CollectionName, string[]>();
  /** Reverse indexes `kind.field -> value -> uuids` (ascending), built on demand, dropped by any change. */
  private readonly refIndex = new Map<string, Map<string, string[]>>();
  private versionCounter = 0;

  constructor(fixture: MoFixture) {
    if (fixture.format_version !== 1) throw new SandboxDataError(`unsupported fixture format_version ${String(fixture.format_version)}`);
    this.topUnitUuid = fixture.topUnitUuid;
    this.municipality = { ...fixture.municipality };
    const copy = structuredClone(fixture);
    this.maps = {
      facets: byUuid(copy.facets),
      classes: byUuid(copy.classes),
      itsystems: byUuid(copy.itsystems),
      orgUnits: byUuid(copy.orgUnits),
      persons: byUuid(copy.persons),
      engagements: byUuid(copy.engagements),
      addresses: byUuid(copy.addresses),
      itUsers: byUuid(copy.itUsers),
      managers: byUuid(copy.managers),
      kles: byUuid(copy.kles),
    };
  }

  get version(): number {
    return this.versionCounter;
  }

  get<K extends CollectionName>(kind: K, uuid: string): Collections[K] | undefined {
    return this.maps[kind].get(uuid);
  }

  /** All uuids of a collection in ascending order (the keyset order OS2mo pages in). */
  sortedUuids(kind: CollectionName): string[] {
    let s = this.sortedCache.get(kind);
    if (!s) {
      s = [...this.maps[kind].keys()].sort();
      this.sortedCache.set(kind, s);
    }
    return s;
  }

  /**
   * The uuids of `kind` objects whose `field` (a reference such as `person` or `org_unit`) is `value`,
   * in ascending order. What a database index on the reference column gives OS2mo: a filter such as
   * `addresses(filter: {employee: {uuids: [...]}})` is answered without testing every address.
   */
  referrers(kind: CollectionName, field: string, value: string): readonly string[] {
    const key = `${kind}.${field}`;
    let index = this.refIndex.get(key);
    if (!index) {
      index = new Map();
      const m: ReadonlyMap<string, object> = this.maps[kind];
      for (const uuid of this.sortedUuids(kind)) {
        const v = (m.get(uuid) as Record<string, unknown> | undefined)?.[field];
        if (typeof v !== "string") continue;
        const l = index.get(v);
        if (l) l.push(uuid);
        else index.set(v, [uuid]);
      }
      this.refIndex.set(key, index);
    }
    return index.get(value) ?? [];
  }

  all<K extends CollectionName>(kind: K): Collections[K][] {
    const m = this.maps[kind];
    return this.sortedUuids(kind).map((u) => m.get(u) as Collections[K]);
  }

  count(kind: CollectionName): number {
    return this.maps[kind].size;
  }

  /**
   * The unit and its ancestors, nearest first (cycles from a bad move are cut). With `on`, the walk
   * stops below a unit that is not valid on that day: an ended or future unit links nothing to the tree.
   */
  unitChain(uuid: string, on?: string): string[] {
    const chain: string[] = [];
    let cur: string | null = uuid;
    while (cur !== null && !chain.includes(cur)) {
      const unit = this.maps.orgUnits.get(cur);
      if (on !== undefined && unit && (unit.validity.from > on || (unit.validity.to !== null && unit.validity.to < on))) break;
      chain.push(cur);
      cur = unit?.parent ?? null;
    }
    return chain;
  }

  /** The current data as a fixture (for saving or comparing). */
  toFixture(): MoFixture {
    return structuredClone({
      format_version: 1 as const,
      municipality: this.municipality,
      topUnitUuid: this.topUnitUuid,
      facets: this.all("facets"),
      classes: this.all("classes"),
      itsystems: this.all("itsystems"),
      orgUnits: this.all("orgUnits"),
      persons: this.all("persons"),
      engagements: this.all("engagements"),
      addresses: this.all("addresses"),
      itUsers: this.all("itUsers"),
      managers: this.all("managers"),
      kles: this.all("kles"),
    });
  }

  // ---- generic mutations ----

  /** Adds or replaces an object. */
  upsert<K extends CollectionName>(kind: K, object: Collections[K]): Collections[K] {
    if (!COLLECTION_NAMES.includes(kind)) throw new SandboxDataError(`unknown collection "${String(kind)}"`);
    if (typeof object !== "object" || object === null || typeof object.uuid !== "string")
      throw new SandboxDataError(`a ${kind} object needs a uuid`);
    const m = this.maps[kind];
    if (!m.has(object.uuid)) this.sortedCache.delete(kind);
    m.set(object.uuid, structuredClone(object));
    this.touch();
    return object;
  }

  remove(kind: CollectionName, uuid: string): void {
    if (!this.maps[kind].delete(uuid)) throw new SandboxDataError(`no ${kind} object ${uuid}`, 404);
    this.sortedCache.delete(kind);
    this.touch();
  }

  /** Ends an object's validity on `to` (inclusive last day), as terminating it in OS2mo does. */
  end(kind: "orgUnits" | "engagements" | "addresses" | "itUsers" | "managers" | "kles", uuid: string, to: string): void {
    const obj = this.must(kind, uuid);
    obj.validity = { ...obj.validity, to };
    this.touch();
  }

  private must<K extends CollectionName>(kind: K, uuid: string): Collections[K] {
    const obj = this.maps[kind].get(uuid);
    if (!obj) throw new SandboxDataError(`no ${kind} object ${uuid}`, 404);
    return obj;
  }

  /** Every change ends here: answers cached for the old version, and the reverse indexes, are stale. */
  private touch(): void {
    this.versionCounter++;
    this.refIndex.clear();
  }

  // ---- named mutations (what tests and the demo do to a municipality) ----

  renameUnit(uuid: string, name: string): void {
    this.must("orgUnits", uuid).name = name;
    this.touch();
  }

  moveUnit(uuid: string, parent: string): void {
    this.must("orgUnits", parent);
    if (this.unitChain(parent).includes(uuid)) throw new SandboxDataError(`moving ${uuid} under ${parent} would make a cycle`);
    this.must("orgUnits", uuid).parent = parent;
    this.touch();
  }

  addUnit(unit: Partial<FixtureOrgUnit> & { name: string; parent: string | null }, today: string): FixtureOrgUnit {
    if (unit.parent !== null) this.must("orgUnits", unit.parent);
    const full: FixtureOrgUnit = {
      uuid: unit.uuid ?? randomUUID(),
      name: unit.name,
      user_key: unit.user_key ?? unit.name,
      parent: unit.parent,
      unit_type: unit.unit_type ?? null,
      org_unit_level: unit.org_unit_level ?? null,
      org_unit_hierarchy: unit.org_unit_hierarchy ?? null,
      validity: unit.validity ?? { from: today, to: null },
    };
    return this.upsert("orgUnits", full);
  }

  endUnit(uuid: string, to: string): void {
    this.end("orgUnits", uuid, to);
  }

  addPerson(person: Partial<MoPerson> & { name: string }): MoPerson {
    const full: MoPerson = {
      uuid: person.uuid ?? randomUUID(),
      name: person.name,
      nickname: person.nickname ?? "",
      cpr_number: person.cpr_number ?? null,
    };
    return this.upsert("persons", full);
  }

  renamePerson(uuid: string, name: string): void {
    this.must("persons", uuid).name = name;
    this.touch();
  }

  addEngagement(e: Partial<FixtureEngagement> & { person: string; org_unit: string }, today: string): FixtureEngagement {
    this.must("persons", e.person);
    this.must("orgUnits", e.org_unit);
    const full: FixtureEngagement = {
      uuid: e.uuid ?? randomUUID(),
      person: e.person,
      org_unit: e.org_unit,
      job_function: e.job_function ?? null,
      extensions: e.extensions ?? {},
      is_primary: e.is_primary ?? false,
      validity: e.validity ?? { from: today, to: null },
    };
    return this.upsert("engagements", full);
  }

  moveEngagement(uuid: string, orgUnit: string): void {
    this.must("orgUnits", orgUnit);
    this.must("engagements", uuid).org_unit = orgUnit;
    this.touch();
  }

  endEngagement(uuid: string, to: string): void {
    this.end("engagements", uuid, to);
  }

  setValidity(kind: "orgUnits" | "engagements" | "addresses" | "itUsers" | "managers" | "kles", uuid: string, validity: MoValidity): void {
    this.must(kind, uuid).validity = { ...validity };
    this.touch();
  }
}

function byUuid<T extends { uuid: string }>(items: readonly T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const i of items) m.set(i.uuid, i);
  return m;
}
