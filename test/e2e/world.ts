import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironment, type Environment } from "../../src/manifest/index.js";
import { computeDesiredState } from "../../src/mapping/index.js";
import {
  canonicalJson,
  normaliseOrgUnit,
  normaliseUser,
  type DesiredState,
  type OrgUnitRegistration,
  type Plan,
  type StateFile,
  type UserRegistration,
} from "../../src/model/index.js";
import { generateMunicipality, snapshotFromFixture, type MoFixture } from "../../src/sandbox/fixtures/index.js";
import { replayJournal } from "../../src/state/index.js";
import { copenhagenDate, startOs2moSandbox, type Os2moSandbox } from "../../src/sandbox/os2mo/index.js";
import { startOs2syncSandbox, type Os2syncSandbox, type Os2syncSandboxOptions } from "../../src/sandbox/os2sync/index.js";
import { ROOT, stsorg, type CliResult } from "./cli.js";

/**
 * One end-to-end world: an OS2mo sandbox serving a generated small municipality and an OS2sync sandbox
 * over an FK that holds only the municipality's root unit, both on loopback in the test process, and a
 * project folder with a `stage: test` manifest pointing at them. The CLI runs as a child process in that
 * folder, with the secrets in its environment as the manifest's references name them.
 */
export interface World {
  dir: string;
  name: string;
  mo: Os2moSandbox;
  sync: Os2syncSandbox;
  today: string;
  adminTopUuid: string;
  topUnitUuid: string;
  cvr: string;
  childEnv: Record<string, string>;
  statePath: string;
  cli(args: string[], opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<CliResult>;
  /** Starts `stsorg ARGS` and hands back the child, for tests that signal it mid-run. */
  spawn(args: string[]): Running;
  /** True while a lock file is next to the state. */
  locked(): boolean;
  /** Runs `plan --format json` with extra args and parses the plan. */
  planJson(args?: string[]): Promise<{ plan: Plan; result: CliResult }>;
  environment(): Promise<Environment>;
  /** The desired FK state computed from OS2mo as it is now (what a correct plan aims at). */
  desired(): Promise<DesiredState>;
  /** Active FK content that differs from the desired state, as readable lines (empty: FK is as desired). */
  fkDifferences(): Promise<string[]>;
  /** The stored state as stsorg reads it: the file with its journal applied. */
  state(): StateFile | null;
  /** Rewrites the manifest (same name), e.g. to change a setting. */
  writeManifest(patch?: (yaml: string) => string): void;
  stop(): Promise<void>;
}

export const SEED = 1;
export const CVR = "84558958";
export const ADMIN_TOP = "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10";
const MO_SECRET = "e2e-mo-secret";
const OS2SYNC_KEY = "e2e-os2sync-key";

export interface WorldOptions {
  name?: string;
  os2sync?: Os2syncSandboxOptions;
  /** Extra lines under `spec.os2sync` (indented by the caller's choice of 4 spaces). */
  os2syncExtra?: string;
  safety?: string;
  fixture?: MoFixture;
}

let fixtureCache: { today: string; fixture: MoFixture } | undefined;

/** The small generated municipality for today (generated once per test file). */
export function smallFixture(today: string): MoFixture {
  if (fixtureCache?.today !== today) fixtureCache = { today, fixture: generateMunicipality({ size: "small", seed: SEED, today }) };
  return structuredClone(fixtureCache.fixture);
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const today = copenhagenDate(new Date());
  const fixture = opts.fixture ?? smallFixture(today);
  const name = opts.name ?? "e2e";
  const dir = mkdtempSync(join(tmpdir(), "stsorg-e2e-"));
  const mo = await startOs2moSandbox({ fixture, clientId: "stsorg", clientSecret: MO_SECRET });
  const sync = await startOs2syncSandbox({
    cvr: CVR,
    apiKey: OS2SYNC_KEY,
    queueDelayMs: 0,
    queueIntervalMs: 10,
    hierarchyDelayMs: 10,
    ...opts.os2sync,
  });
  // The seed guide's precondition: the municipality's root unit exists in FK before the first sync.
  sync.store.put("orgunit", { Uuid: ADMIN_TOP, Name: fixture.municipality.name });
  const statePath = join(dir, "state", `${name}.json`);
  const childEnv = { E2E_MO_SECRET: MO_SECRET, E2E_OS2SYNC_KEY: OS2SYNC_KEY, E2E_CERT_PASSWORD: "unused" };
  mkdirSync(join(dir, "environments"), { recursive: true });
  mkdirSync(join(dir, "certs"), { recursive: true });
  // validate (without --offline) would open it; plan and apply never do.
  writeFileSync(join(dir, "certs", "foces.p12"), "");
  const manifestFile = join(dir, "environments", `${name}.yaml`);
  const baseManifest = manifest({ name, mo, sync, topUnitUuid: fixture.topUnitUuid, os2syncExtra: opts.os2syncExtra, safety: opts.safety });
  writeFileSync(manifestFile, baseManifest);

  const world: World = {
    dir,
    name,
    mo,
    sync,
    today,
    adminTopUuid: ADMIN_TOP,
    topUnitUuid: fixture.topUnitUuid,
    cvr: CVR,
    childEnv,
    statePath,
    cli: (args, o = {}) => stsorg(args, { cwd: dir, env: { ...childEnv, ...o.env }, input: o.input, timeoutMs: o.timeoutMs }),
    spawn: (args) => spawnCli(args, dir, childEnv),
    locked: () => existsSync(`${statePath}.lock`),
    async planJson(args = []) {
      const result = await world.cli(["plan", "-e", name, "--format", "json", ...args]);
      if (result.code !== 0 && result.code !== 2 && !result.stdout.trim().startsWith("{")) {
        throw new Error(`plan failed (${result.code}):\n${result.stderr}`);
      }
      return { plan: JSON.parse(result.stdout) as Plan, result };
    },
    environment: () => loadEnvironment(name, { cwd: dir, env: childEnv, now: new Date() }),
    async desired() {
      const env = await world.environment();
      const snapshot = snapshotFromFixture(mo.data.toFixture(), { today, topUnitUuid: env.sync.topUnitUuid });
      return computeDesiredState(snapshot, env.sync);
    },
    async fkDifferences() {
      const desired = await world.desired();
      return fkDifferences(sync, desired);
    },
    state() {
      let stored: StateFile;
      try {
        stored = JSON.parse(readFileSync(statePath, "utf8")) as StateFile;
      } catch {
        return null;
      }
      // During an apply, and after one that crashed, the latest versions are in the journal beside it.
      if (!existsSync(`${statePath}.journal`)) return stored;
      return replayJournal(stored, readFileSync(`${statePath}.journal`), `${statePath}.journal`).state;
    },
    writeManifest(patch = (s) => s) {
      writeFileSync(manifestFile, patch(baseManifest));
    },
    async stop() {
      await Promise.all([mo.stop(), sync.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

function manifest(o: { name: string; mo: Os2moSandbox; sync: Os2syncSandbox; topUnitUuid: string; os2syncExtra?: string; safety?: string }): string {
  return `apiVersion: stsorg/v1
kind: Environment
metadata:
  name: ${o.name}
  description: "Korsbæk Kommune — end-to-end test"
spec:
  stage: test
  municipality:
    name: Korsbæk Kommune
    cvr: "${CVR}"
    uuid: 0b0c5b7e-2f1e-4c55-9a43-5d6f3a2e9c01
  serviceAgreement:
    uuid: 5d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a
    name: OS2MO Test - STSOrgSync - adgang til STS ORG
    type: uden-videregivelse-af-data
    validFrom: "2019-09-05"
    validTo: null
    itSystemUuid: 9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d
    services:
      - name: Organisation v4.0
        uuid: 1e1c7d8d-b644-419c-a585-cb6486f04947
        roles:
          - name: Dummy
      - name: organisation2
        roles:
          - name: rediger
          - name: udstil
  certificate:
    path: certs/foces.p12
    password: "\${env:E2E_CERT_PASSWORD}"
  sts:
    adminTopUuid: ${ADMIN_TOP}
  os2mo:
    url: ${o.mo.url}
    auth:
      authServer: ${o.mo.authServer}
      clientId: stsorg
      clientSecret: "\${env:E2E_MO_SECRET}"
  os2sync:
    url: ${o.sync.url}
    apiKey: "\${env:E2E_OS2SYNC_KEY}"
${o.os2syncExtra ?? ""}
  sync:
    topUnitUuid: ${o.topUnitUuid}
    syncManagers: true
    uuidFromItSystems: ["FK-org uuid"]
  safety:
${o.safety ?? "    maxDeletes: { count: 50, percent: 25 }\n    prune: managed"}
  state:
    backend: local
    path: state/${o.name}.json
`;
}

/** Where active FK content differs from the desired state: missing, extra, or different objects. */
export function fkDifferences(sync: Os2syncSandbox, desired: DesiredState): string[] {
  const out: string[] = [];
  const units = new Map(sync.store.activeOrgUnits().map((r) => [r.uuid, r.registration]));
  const users = new Map(sync.store.activeUsers().map((r) => [r.uuid, r.registration]));
  const norm = (kind: "orgunit" | "user", a: OrgUnitRegistration | UserRegistration): string =>
    canonicalJson(kind === "orgunit" ? normaliseOrgUnit(a as unknown as Record<string, unknown>) : normaliseUser(a as unknown as Record<string, unknown>));
  const compare = <T extends OrgUnitRegistration | UserRegistration>(kind: "orgunit" | "user", want: Map<string, T>, have: Map<string, T>) => {
    for (const [uuid, reg] of want) {
      const got = have.get(uuid);
      if (!got) out.push(`${kind}/${uuid} missing in FK`);
      else if (norm(kind, got) !== norm(kind, reg)) out.push(`${kind}/${uuid} differs: FK ${norm(kind, got)} desired ${norm(kind, reg)}`);
    }
    for (const uuid of have.keys()) {
      if (!want.has(uuid) && !(kind === "orgunit" && uuid === ADMIN_TOP)) out.push(`${kind}/${uuid} in FK but not desired`);
    }
  };
  compare("orgunit", desired.orgUnits, units);
  compare("user", desired.users, users);
  return out;
}

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** What the child wrote to stderr so far. */
  stderr(): string;
}

function spawnCli(args: string[], cwd: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [join(ROOT, "bin", "stsorg"), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const done = new Promise<CliResult>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stdin!.end("");
  return { child, done, stderr: () => stderr };
}

/** One object-level event at the OS2sync sandbox: a write it accepted (queued) or a read of one object. */
export interface FkEvent {
  type: "write" | "read";
  key: string;
  operation?: string;
}

/**
 * Records, in arrival order, every write OS2sync accepts (as its queue sees it, with the object's uuid)
 * and every read of a single object (GET /api/orgUnit/UUID, /api/user/UUID).
 */
export function recordFkEvents(sync: Os2syncSandbox): FkEvent[] {
  const events: FkEvent[] = [];
  const enqueue = sync.queue.enqueue.bind(sync.queue);
  sync.queue.enqueue = (row) => {
    events.push({ type: "write", key: `${row.kind}/${row.uuid.toLowerCase()}`, operation: row.operation });
    return enqueue(row);
  };
  const add = sync.log.add.bind(sync.log);
  sync.log.add = (e) => {
    const m = /^\/api\/(orgunit|user)\/([0-9a-f-]{36})$/i.exec(e.path);
    if (e.method === "GET" && m && e.status !== 0) events.push({ type: "read", key: `${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}` });
    return add(e);
  };
  return events;
}

/** Objects written twice with no read of that object in between (a blind resend). */
export function blindResends(events: FkEvent[]): string[] {
  const written = new Set<string>();
  const bad: string[] = [];
  for (const e of events) {
    if (e.type === "read") written.delete(e.key);
    else if (written.has(e.key)) bad.push(e.key);
    else written.add(e.key);
  }
  return bad;
}

export function writeCounts(events: FkEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) if (e.type === "write") counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  return counts;
}

/** The lock ID a "state is locked" message names. */
export function lockIdIn(text: string): string | undefined {
  return /ID:\s+(\S+)/.exec(text)?.[1];
}
