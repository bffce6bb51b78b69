/**
 * The baseline: the access pattern of the existing exporter (os2mo-os2sync-export), driven against the
 * same sandboxes as stsorg, so the two can be compared side by side in one run. Not the exporter itself
 * and not a port of it: only the shape of its traffic.
 *
 * - one FK hierarchy read through OS2sync, to find FK objects that are no longer in OS2mo;
 * - one paged listing of the unit uuids under the top unit;
 * - one OS2mo GraphQL request per unit for its details (the unit, its addresses, IT users, KLE,
 *   managers and engagements), then a POST of the unit;
 * - one OS2mo GraphQL request per person for their details (the person, engagements, addresses,
 *   IT users), then a POST of the FK user — every object on every run, changed or not;
 * - a DELETE of every FK object under the top that OS2mo no longer has.
 *
 * Four objects are worked on at a time (as many OS2mo requests in flight as stsorg's reader keeps), each
 * read and then posted; deletes go 8 at a time. The exporter itself works mostly one object at a time, so
 * this baseline is faster than the real thing: the wall-time ratios it gives are conservative.
 *
 * Run by the benchmark as a child process: configuration (with secrets) in $STSORG_BENCH_BASELINE as
 * JSON; prints a JSON summary on stdout.
 */

export interface BaselineConfig {
  moUrl: string;
  authServer: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  os2syncUrl: string;
  cvr: string;
  apiKey: string;
  topUnitUuid: string;
  adminTopUuid: string;
  /** IT system (by name) whose account user_key is the FK uuid of a unit or user. */
  uuidItSystem: string;
  /** IT system (by name) whose account user_key is the FK UserId. */
  userIdItSystem: string;
  moConcurrency: number;
  writeConcurrency: number;
}

export interface BaselineSummary {
  units: number;
  persons: number;
  unitPosts: number;
  userPosts: number;
  deletes: number;
  /** Persons without a position in an exported unit: OS2sync refuses such a user, so none is sent. */
  skippedPersons: number;
  moQueries: number;
  rejected: number;
}

type Obj = Record<string, unknown>;

const UNIT_DETAILS = `query UnitDetails($uuids: [UUID!]) {
  org_units(filter: {uuids: $uuids}) { objects { uuid current { name user_key parent_response { uuid } unit_type_response { uuid } unit_level_response { uuid } } } }
  addresses(filter: {org_unit: {uuids: $uuids}}) { objects { current { name value address_type_response { uuid current { user_key scope } } } } }
  itusers(filter: {org_unit: {uuids: $uuids}}) { objects { current { user_key itsystem_response { uuid current { name } } } } }
  kles(filter: {org_unit: {uuids: $uuids}}) { objects { current { kle_number_response { uuid } } } }
  managers(filter: {org_unit: {uuids: $uuids}}) { objects { current { person_response { uuid } } } }
  engagements(filter: {org_unit: {uuids: $uuids}}) { objects { current { person_response { uuid } } } }
}`;

const PERSON_DETAILS = `query PersonDetails($uuids: [UUID!]) {
  persons(filter: {uuids: $uuids}) { objects { uuid current { name nickname cpr_number } } }
  engagements(filter: {employee: {uuids: $uuids}}) { objects { uuid current { org_unit_response { uuid } job_function_response { current { name } } } } }
  addresses(filter: {employee: {uuids: $uuids}}) { objects { current { name value address_type_response { current { user_key scope } } } } }
  itusers(filter: {employee: {uuids: $uuids}}) { objects { current { user_key engagement_response { uuid } itsystem_response { current { name } } } } }
}`;

const UNIT_LIST = `query UnitList($top: [UUID!], $cursor: Cursor) {
  org_units(filter: {ancestor: {uuids: $top}}, limit: 1000, cursor: $cursor) { objects { uuid } page_info { next_cursor } }
}`;

/** `objects[].current` of one top-level field, skipping objects not valid now. */
function currents(data: Obj, field: string): Obj[] {
  const page = data[field] as { objects: { current: Obj | null }[] } | undefined;
  return (page?.objects ?? []).map((o) => o.current).filter((c): c is Obj => c !== null);
}

const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v === null || v === undefined ? v : (v as Obj)[k]), o);
const str = (o: unknown, ...path: string[]): string | null => {
  const v = get(o, ...path);
  return typeof v === "string" ? v : null;
};

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function runBaseline(cfg: BaselineConfig): Promise<BaselineSummary> {
  const summary: BaselineSummary = { units: 0, persons: 0, unitPosts: 0, userPosts: 0, deletes: 0, skippedPersons: 0, moQueries: 0, rejected: 0 };

  let token: { value: string; renewAt: number } | null = null;
  async function accessToken(): Promise<string> {
    if (token && Date.now() < token.renewAt) return token.value;
    const res = await fetch(`${cfg.authServer}/realms/${cfg.realm}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: cfg.clientId, client_secret: cfg.clientSecret }),
    });
    if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    token = { value: body.access_token, renewAt: Date.now() + (body.expires_in - 30) * 1000 };
    return token.value;
  }

  async function mo(query: string, variables: Obj): Promise<Obj> {
    summary.moQueries += 1;
    const res = await fetch(`${cfg.moUrl}/graphql/v25`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await accessToken()}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: Obj | null; errors?: { message: string }[] };
    if (!res.ok || body.errors?.length || !body.data) throw new Error(`OS2mo: HTTP ${res.status} ${JSON.stringify(body.errors ?? null)}`);
    return body.data;
  }

  const syncHeaders = { cvr: cfg.cvr, apiKey: cfg.apiKey };
  async function post(kind: "orgUnit" | "user", payload: Obj): Promise<void> {
    const res = await fetch(`${cfg.os2syncUrl}/${kind}`, {
      method: "POST",
      headers: { ...syncHeaders, "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    await res.arrayBuffer();
    if (!res.ok) summary.rejected += 1;
  }

  /** FK's current organisation through one OS2sync hierarchy job, polled once a second. */
  async function fkHierarchy(): Promise<{ units: string[]; users: string[] }> {
    const start = await fetch(`${cfg.os2syncUrl}/hierarchy`, { headers: { ...syncHeaders, accept: "application/json" } });
    const id = (await start.json()) as string;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(`${cfg.os2syncUrl}/hierarchy/${id}`, { headers: syncHeaders });
      if (res.status === 404) {
        await res.arrayBuffer();
        continue;
      }
      const body = (await res.json()) as { Result: { OUs: { Uuid: string }[]; Users: { Uuid: string }[] } };
      return { units: body.Result.OUs.map((u) => u.Uuid), users: body.Result.Users.map((u) => u.Uuid) };
    }
  }

  const fkNow = fkHierarchy();

  const unitUuids: string[] = [];
  let cursor: string | null = null;
  do {
    const data = await mo(UNIT_LIST, { top: [cfg.topUnitUuid], cursor });
    const page = data.org_units as { objects: { uuid: string }[]; page_info: { next_cursor: string | null } };
    unitUuids.push(...page.objects.map((o) => o.uuid));
    cursor = page.page_info.next_cursor;
  } while (cursor !== null);
  const unitSet = new Set(unitUuids);
  const fkUnitUuid = new Map<string, string>();

  const personUuids = new Set<string>();
  const postedUnits = new Set<string>();
  await eachLimited(unitUuids, cfg.moConcurrency, async (uuid) => {
    const data = await mo(UNIT_DETAILS, { uuids: [uuid] });
    const unit = currents(data, "org_units")[0];
    if (!unit) return;
    summary.units += 1;
    for (const e of currents(data, "engagements")) {
      const p = str(e, "person_response", "uuid");
      if (p) personUuids.add(p);
    }
    const itUsers = currents(data, "itusers");
    const own = itUsers.find((i) => str(i, "itsystem_response", "current", "name") === cfg.uuidItSystem);
    const fkUuid = uuid === cfg.topUnitUuid ? cfg.adminTopUuid : (str(own, "user_key") ?? uuid);
    fkUnitUuid.set(uuid, fkUuid);
    const addresses = currents(data, "addresses");
    const byScope = (scope: string) => str(addresses.find((a) => str(a, "address_type_response", "current", "scope") === scope), "name");
    const parent = str(unit, "parent_response", "uuid");
    const manager = str(currents(data, "managers")[0], "person_response", "uuid");
    const payload: Obj = {
      Uuid: fkUuid,
      Name: str(unit, "name"),
      // The parent's FK uuid may differ from its OS2mo uuid; the exporter looks it up per unit as well.
      ParentOrgUnitUuid: uuid === cfg.topUnitUuid || parent === null ? null : parent === cfg.topUnitUuid ? cfg.adminTopUuid : parent,
      Email: byScope("EMAIL"),
      PhoneNumber: byScope("PHONE"),
      Ean: byScope("EAN"),
      Url: byScope("WWW"),
      ItSystems: itUsers.filter((i) => i !== own).map((i) => str(i, "itsystem_response", "uuid")),
      Tasks: currents(data, "kles").map((k) => str(k, "kle_number_response", "uuid")),
      ManagerUuid: manager,
    };
    await post("orgUnit", payload);
    postedUnits.add(fkUuid);
    summary.unitPosts += 1;
  });

  const postedUsers = new Set<string>();
  await eachLimited([...personUuids].sort(), cfg.moConcurrency, async (uuid) => {
    const data = await mo(PERSON_DETAILS, { uuids: [uuid] });
    const person = currents(data, "persons")[0];
    if (!person) return;
    summary.persons += 1;
    const engagementsOf = (data.engagements as { objects: { uuid: string; current: Obj | null }[] }).objects;
    const positionOf = (e: Obj) => {
      const unit = str(e, "org_unit_response", "uuid")!;
      return { Name: str(e, "job_function_response", "current", "name"), OrgUnitUuid: unit === cfg.topUnitUuid ? cfg.adminTopUuid : (fkUnitUuid.get(unit) ?? unit) };
    };
    const inExported = engagementsOf.filter((e) => e.current !== null && unitSet.has(str(e.current, "org_unit_response", "uuid") ?? ""));
    const itUsers = currents(data, "itusers");
    const inSystem = (system: string) => itUsers.filter((i) => str(i, "itsystem_response", "current", "name") === system);
    const addresses = currents(data, "addresses");
    const byScope = (scope: string) => str(addresses.find((a) => str(a, "address_type_response", "current", "scope") === scope), "name");
    // One FK user per engagement that the person's accounts (AD or FK uuid) are tied to; a person whose
    // accounts are tied to none is one user with every engagement. The FK uuid is the group's FK-uuid
    // account, else the person's uuid; the UserId the group's AD account, else that uuid.
    const accounts = [...inSystem(cfg.uuidItSystem), ...inSystem(cfg.userIdItSystem)];
    const tied = [...new Set(accounts.map((a) => str(a, "engagement_response", "uuid")).filter((e): e is string => e !== null))].sort();
    const groupKeys: (string | null)[] = tied.length > 0 ? tied : [null];
    const inGroup = (system: string, g: string | null) =>
      inSystem(system).find((a) => g === null || str(a, "engagement_response", "uuid") === g);
    const groups = groupKeys.map((g) => ({ uuid: str(inGroup(cfg.uuidItSystem, g), "user_key") ?? uuid, engagement: g }));
    const adAccounts = inSystem(cfg.userIdItSystem);
    let posted = 0;
    for (const g of groups) {
      const positions = inExported
        .filter((e) => g.engagement === null || e.uuid === g.engagement)
        .map((e) => positionOf(e.current!))
        .filter((p) => p.Name !== null);
      if (positions.length === 0) continue;
      const ad = inGroup(cfg.userIdItSystem, g.engagement) ?? adAccounts[0];
      await post("user", {
        Uuid: g.uuid,
        UserId: str(ad, "user_key") ?? g.uuid,
        Person: { Name: str(person, "name") },
        Email: byScope("EMAIL"),
        PhoneNumber: byScope("PHONE"),
        Positions: positions,
      });
      postedUsers.add(g.uuid);
      summary.userPosts += 1;
      posted += 1;
    }
    if (posted === 0) summary.skippedPersons += 1;
  });

  const fk = await fkNow;
  const stale = [
    ...fk.users.filter((u) => !postedUsers.has(u)).map((u) => ["user", u] as const),
    ...fk.units.filter((u) => !postedUnits.has(u) && u !== cfg.adminTopUuid).map((u) => ["orgUnit", u] as const),
  ];
  await eachLimited(stale, cfg.writeConcurrency, async ([kind, uuid]) => {
    const res = await fetch(`${cfg.os2syncUrl}/${kind}/${uuid}`, { method: "DELETE", headers: syncHeaders });
    await res.arrayBuffer();
    summary.deletes += 1;
  });
  return summary;
}

const raw = process.env.STSORG_BENCH_BASELINE;
if (raw) {
  const summary = await runBaseline(JSON.parse(raw) as BaselineConfig);
  process.stdout.write(JSON.stringify(summary) + "\n");
}
