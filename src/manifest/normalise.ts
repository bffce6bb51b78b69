import { DEFAULT_UNMANAGED_FIELDS, SYNC_POLICY_DEFAULTS, type FieldName, type SyncPolicy, type UnitType } from "../model/index.js";
import { ORGANISATION_V4_SERVICE_UUID } from "./semantic.js";
import { parseSecretRef } from "./secrets.js";
import type { Environment, FkConfig, SecretRef, ServiceAgreement, Stage, StateConfig } from "./types.js";

/** Defaults of everything outside `spec.sync` (whose defaults are SYNC_POLICY_DEFAULTS). Mirrored in the schema. */
export const ENVIRONMENT_DEFAULTS = {
  os2mo: { graphqlVersion: 25, realm: "mo", pageSize: 1000, timeoutSeconds: 30 },
  os2sync: { timeoutSeconds: 30, concurrency: 8, hierarchyTimeoutSeconds: 900 },
  safety: { maxDeletes: { count: 50, percent: 5 }, protectedUnits: [] as string[], prune: "managed" as const },
  state: {
    backend: "local" as const,
    postgres: { schema: "stsorg", table: "states" },
    http: { lockMethod: "LOCK", unlockMethod: "UNLOCK", retryMax: 2, retryWaitMin: 1, retryWaitMax: 30 },
  },
  sandbox: { fixture: "small" as const, seed: 1, dataDir: ".stsorg" },
  fk: { authScheme: "Bearer", tlsMinVersion: "TLSv1.2" as const, tlsMaxVersion: "TLSv1.2" as const },
} as const;

/** The sandbox's stand-in secret: the embedded runner supplies its own credentials. */
export const SANDBOX_SECRET: SecretRef = { ref: "${env:STSORG_SANDBOX_SECRET}", source: "env", name: "STSORG_SANDBOX_SECRET" };

export function defaultStatePath(name: string): string {
  return `state/${name}.json`;
}

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const b = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);
const lower = (u: string): string => u.toLowerCase();

function ref(v: unknown): SecretRef {
  const r = parseSecretRef(String(v));
  // The schema has already rejected anything that is not a reference.
  if (!r) throw new Error("toEnvironment was given a manifest whose secret is not a reference");
  return r;
}

/**
 * The normalised Environment of a manifest that passed schema validation: defaults filled in, UUIDs in
 * lower case, secrets as unresolved references. For stage sandbox, omitted connections get harmless
 * stand-ins (empty URLs) that the embedded runner replaces.
 */
export function toEnvironment(value: unknown, meta: { file: string; baseDir: string; sha256: string }): Environment {
  const root = o(value);
  const metadata = o(root.metadata);
  const spec = o(root.spec);
  const stage = s(spec.stage) as Stage;
  const name = s(metadata.name) ?? "";
  const mun = o(spec.municipality);
  const sts = o(spec.sts);
  const adminTopUuid = lower(s(sts.adminTopUuid) ?? "");

  const env: Environment = {
    name,
    file: meta.file,
    baseDir: meta.baseDir,
    sha256: meta.sha256,
    stage,
    municipality: { name: s(mun.name) ?? "", cvr: s(mun.cvr) ?? "", uuid: lower(s(mun.uuid) ?? "") },
    serviceAgreement: agreementOf(spec.serviceAgreement),
    sts: { adminTopUuid },
    os2mo: os2moOf(spec.os2mo),
    os2sync: os2syncOf(spec.os2sync),
    sync: syncOf(o(spec.sync), adminTopUuid),
    safety: safetyOf(o(spec.safety)),
    state: stateOf(o(spec.state), name),
  };
  const description = s(metadata.description);
  if (description !== undefined) env.description = description;
  if (spec.certificate !== undefined) {
    const c = o(spec.certificate);
    env.certificate = { path: s(c.path) ?? "", password: ref(c.password) };
  }
  const cpr = o(spec.sync).cprHashKey;
  if (cpr !== undefined) env.cprHashKey = ref(cpr);
  if (stage === "sandbox") {
    const sb = o(spec.sandbox);
    const d = ENVIRONMENT_DEFAULTS.sandbox;
    env.sandbox = {
      fixture: (s(sb.fixture) as "small" | "medium" | "large" | undefined) ?? d.fixture,
      seed: n(sb.seed) ?? d.seed,
      dataDir: s(sb.dataDir) ?? d.dataDir,
    };
  }
  if (spec.promotion !== undefined) {
    const map = o(o(spec.promotion).uuidMap);
    env.promotion = { uuidMap: Object.fromEntries(Object.keys(map).sort().map((k) => [lower(k), lower(String(map[k]))])) };
  }
  if (spec.fk !== undefined) env.fk = fkOf(o(spec.fk));
  return env;
}

function agreementOf(v: unknown): ServiceAgreement {
  if (v === undefined) {
    return {
      uuid: "00000000-0000-0000-0000-000000000000",
      name: "Embedded sandbox",
      type: "uden-videregivelse-af-data",
      validFrom: "1970-01-01",
      validTo: null,
      itSystemUuid: "00000000-0000-0000-0000-000000000000",
      services: [
        { name: "Organisation v4.0", uuid: ORGANISATION_V4_SERVICE_UUID, roles: [{ name: "Dummy", parameters: {} }] },
        {
          name: "organisation2",
          roles: [
            { name: "rediger", parameters: { "secpr-nummer": "Ja", senavn: "Ja" } },
            { name: "udstil", parameters: { "secpr-nummer": "Ja", senavn: "Ja" } },
          ],
        },
      ],
    };
  }
  const a = o(v);
  const agreement: ServiceAgreement = {
    uuid: lower(s(a.uuid) ?? ""),
    name: s(a.name) ?? "",
    type: (s(a.type) as ServiceAgreement["type"] | undefined) ?? "uden-videregivelse-af-data",
    validFrom: s(a.validFrom) ?? "",
    validTo: s(a.validTo) ?? null,
    itSystemUuid: lower(s(a.itSystemUuid) ?? ""),
    services: (Array.isArray(a.services) ? a.services : []).map((sv) => {
      const so = o(sv);
      const service: ServiceAgreement["services"][number] = {
        name: s(so.name) ?? "",
        roles: (Array.isArray(so.roles) ? so.roles : []).map((r) => {
          const ro = o(r);
          const params = o(ro.parameters);
          return { name: s(ro.name) ?? "", parameters: Object.fromEntries(Object.keys(params).map((k) => [k, String(params[k])])) };
        }),
      };
      const uuid = s(so.uuid);
      if (uuid !== undefined) service.uuid = lower(uuid);
      return service;
    }),
  };
  const justification = s(a.justification);
  if (justification !== undefined) agreement.justification = justification;
  return agreement;
}

function os2moOf(v: unknown): Environment["os2mo"] {
  const d = ENVIRONMENT_DEFAULTS.os2mo;
  const m = o(v);
  const auth = o(m.auth);
  const cfg: Environment["os2mo"] = {
    url: (s(m.url) ?? "").replace(/\/+$/, ""),
    graphqlVersion: n(m.graphqlVersion) ?? d.graphqlVersion,
    auth: {
      authServer: (s(auth.authServer) ?? "").replace(/\/+$/, ""),
      realm: s(auth.realm) ?? d.realm,
      clientId: s(auth.clientId) ?? "",
      clientSecret: auth.clientSecret === undefined ? SANDBOX_SECRET : ref(auth.clientSecret),
    },
    pageSize: n(m.pageSize) ?? d.pageSize,
    timeoutMs: Math.round((n(m.timeoutSeconds) ?? d.timeoutSeconds) * 1000),
  };
  const ca = s(m.caFile);
  if (ca !== undefined) cfg.caFile = ca;
  return cfg;
}

function os2syncOf(v: unknown): Environment["os2sync"] {
  const d = ENVIRONMENT_DEFAULTS.os2sync;
  const m = o(v);
  const cfg: Environment["os2sync"] = {
    url: (s(m.url) ?? "").replace(/\/+$/, ""),
    timeoutMs: Math.round((n(m.timeoutSeconds) ?? d.timeoutSeconds) * 1000),
    concurrency: n(m.concurrency) ?? d.concurrency,
    hierarchyTimeoutMs: Math.round((n(m.hierarchyTimeoutSeconds) ?? d.hierarchyTimeoutSeconds) * 1000),
  };
  if (m.apiKey !== undefined) cfg.apiKey = ref(m.apiKey);
  const ca = s(m.caFile);
  if (ca !== undefined) cfg.caFile = ca;
  return cfg;
}

function syncOf(m: Obj, adminTopUuid: string): SyncPolicy {
  const d = SYNC_POLICY_DEFAULTS;
  const uuids = (v: unknown, dflt: string[]): string[] => (strings(v) ?? dflt).map(lower);
  return {
    topUnitUuid: lower(s(m.topUnitUuid) ?? ""),
    adminTopUuid,
    syncCpr: b(m.syncCpr) ?? d.syncCpr,
    phoneScopeClasses: uuids(m.phoneScopeClasses, d.phoneScopeClasses),
    landlineScopeClasses: uuids(m.landlineScopeClasses, d.landlineScopeClasses),
    emailScopeClasses: uuids(m.emailScopeClasses, d.emailScopeClasses),
    ignoredUnitLevels: uuids(m.ignoredUnitLevels, d.ignoredUnitLevels),
    ignoredUnitTypes: uuids(m.ignoredUnitTypes, d.ignoredUnitTypes),
    filterOrgunitUuids: uuids(m.filterOrgunitUuids, d.filterOrgunitUuids),
    filterHierarchyNames: strings(m.filterHierarchyNames) ?? [...d.filterHierarchyNames],
    filterUsersByItSystem: b(m.filterUsersByItSystem) ?? d.filterUsersByItSystem,
    userKeyItSystemNames: strings(m.userKeyItSystemNames) ?? [...d.userKeyItSystemNames],
    uuidFromItSystems: strings(m.uuidFromItSystems) ?? [...d.uuidFromItSystems],
    useNickname: b(m.useNickname) ?? d.useNickname,
    syncManagers: b(m.syncManagers) ?? d.syncManagers,
    enableKle: b(m.enableKle) ?? d.enableKle,
    useContactForTasks: b(m.useContactForTasks) ?? d.useContactForTasks,
    employeeEngagementAddress: strings(m.employeeEngagementAddress) ?? [...d.employeeEngagementAddress],
    extensionFieldAsJobFunction:
      m.extensionFieldAsJobFunction === "1" || m.extensionFieldAsJobFunction === "3" ? m.extensionFieldAsJobFunction : d.extensionFieldAsJobFunction,
    truncateLength: n(m.truncateLength) ?? d.truncateLength,
    groupByEngagementUuid: b(m.groupByEngagementUuid) ?? d.groupByEngagementUuid,
    unitType: (s(m.unitType) as UnitType | undefined) ?? d.unitType,
    unmanagedFields: (strings(m.unmanagedFields) as FieldName[] | undefined) ?? [...DEFAULT_UNMANAGED_FIELDS],
  };
}

function safetyOf(m: Obj): Environment["safety"] {
  const d = ENVIRONMENT_DEFAULTS.safety;
  const md = o(m.maxDeletes);
  return {
    maxDeletes: { count: n(md.count) ?? d.maxDeletes.count, percent: n(md.percent) ?? d.maxDeletes.percent },
    protectedUnits: (strings(m.protectedUnits) ?? []).map(lower),
    prune: (s(m.prune) as "managed" | "all-under-top" | undefined) ?? d.prune,
  };
}

function stateOf(m: Obj, name: string): StateConfig {
  const d = ENVIRONMENT_DEFAULTS.state;
  const cfg: StateConfig = {
    backend: (s(m.backend) as StateConfig["backend"] | undefined) ?? d.backend,
    path: s(m.path) ?? defaultStatePath(name),
  };
  if (m.postgres !== undefined) {
    const p = o(m.postgres);
    const url = s(p.url) ?? "";
    const pg: NonNullable<StateConfig["postgres"]> = {
      url: parseSecretRef(url) ?? url,
      schema: s(p.schema) ?? d.postgres.schema,
      table: s(p.table) ?? d.postgres.table,
    };
    if (s(p.sslmode) !== undefined) pg.sslmode = s(p.sslmode);
    if (s(p.caFile) !== undefined) pg.caFile = s(p.caFile);
    cfg.postgres = pg;
  }
  if (m.http !== undefined) {
    const h = o(m.http);
    const http: NonNullable<StateConfig["http"]> = {
      address: s(h.address) ?? "",
      lockMethod: s(h.lockMethod) ?? d.http.lockMethod,
      unlockMethod: s(h.unlockMethod) ?? d.http.unlockMethod,
      retryMax: n(h.retryMax) ?? d.http.retryMax,
      retryWaitMinSeconds: n(h.retryWaitMin) ?? d.http.retryWaitMin,
      retryWaitMaxSeconds: n(h.retryWaitMax) ?? d.http.retryWaitMax,
    };
    if (s(h.lockAddress) !== undefined) http.lockAddress = s(h.lockAddress);
    if (s(h.unlockAddress) !== undefined) http.unlockAddress = s(h.unlockAddress);
    if (s(h.username) !== undefined) http.username = s(h.username);
    if (h.password !== undefined) http.password = ref(h.password);
    if (h.token !== undefined) http.token = ref(h.token);
    if (s(h.caFile) !== undefined) http.caFile = s(h.caFile);
    cfg.http = http;
  }
  return cfg;
}

function fkOf(m: Obj): FkConfig {
  const d = ENVIRONMENT_DEFAULTS.fk;
  const cfg: FkConfig = {
    authScheme: s(m.authScheme) ?? d.authScheme,
    tlsMinVersion: (s(m.tlsMinVersion) as FkConfig["tlsMinVersion"] | undefined) ?? d.tlsMinVersion,
    tlsMaxVersion: (s(m.tlsMaxVersion) as FkConfig["tlsMaxVersion"] | undefined) ?? d.tlsMaxVersion,
  };
  if (s(m.graphqlUrl) !== undefined) cfg.graphqlUrl = s(m.graphqlUrl);
  if (s(m.tokenUrl) !== undefined) cfg.tokenUrl = s(m.tokenUrl);
  return cfg;
}
