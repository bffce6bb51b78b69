import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../../errors/index.js";
import { createTestCa, issueOrganisationCertificate } from "../../sandbox/fk/index.js";
import { FIXTURE_KEYS, generateMunicipality, readFixture, writeFixture, type MoFixture, type MunicipalitySize } from "../../sandbox/fixtures/index.js";
import { copenhagenDate, startOs2moSandbox, type Os2moSandbox } from "../../sandbox/os2mo/index.js";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../sandbox/os2sync/index.js";
import type { Command } from "../command.js";
import { writeFileAtomic } from "../fsutil.js";
import type { CliIo } from "../io.js";
import { sandboxCommand as os2moSandboxCommand } from "./sandbox-os2mo.js";
import { sandboxServers } from "./sandbox-os2sync.js";

/**
 * `stsorg sandbox up [--port-os2mo N] [--port-os2sync N] [--fixture small|medium|large|FILE] [--seed N]
 *  [--data DIR] [--write-manifest PATH]`
 *
 * Runs the OS2mo and the OS2sync sandbox side by side in the foreground, prints where they listen, the
 * credentials they accept and a manifest that points stsorg at them; stops both on SIGINT/SIGTERM.
 * With `--data DIR` the data lives in DIR/os2mo.json and DIR/fk.json, the same files the embedded
 * sandbox of a `stage: sandbox` manifest uses, so `--data .stsorg` serves the demo's OS2mo and FK.
 */

/** The root unit a new sandbox FK starts with (the seed guide's precondition); the demo uses the same. */
export const SANDBOX_ADMIN_TOP_UUID = "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10";
/** The municipality's Serviceplatformen uuid in sandbox manifests (nothing checks it against a real one). */
export const SANDBOX_MUNICIPALITY_UUID = "0b0c5b7e-2f1e-4c55-9a43-5d6f3a2e9c01";
/** Where the printed manifest expects the OS2mo client secret when --client-secret-env is not given. */
export const SANDBOX_SECRET_VARIABLE = "STSORG_SANDBOX_MO_SECRET";
const DEFAULT_OS2MO_SECRET = "sandbox-secret";
/** The sandbox organisation certificate's password variable and (well-known, throw-away) value. */
export const SANDBOX_CERT_PASSWORD_VARIABLE = "STSORG_SANDBOX_FOCES_PASSWORD";
const SANDBOX_CERT_PASSWORD = "sandbox";
const SANDBOX_AGREEMENT_UUID = "5a9d3c1e-8f2b-4d6a-9c7e-1b3f5d7a9e20";
const SANDBOX_IT_SYSTEM_UUID = "7c2e4a6b-1d3f-4e5a-8b9c-0d2f4a6c8e31";
/** Where the certificate goes when no --data folder is given. */
const DEFAULT_CERT_DIR = join(".stsorg", "sandbox-up");

export interface SandboxUpArgs {
  host: string;
  portOs2mo: number;
  portOs2sync: number;
  /** A generated municipality of this size, or an OS2mo fixture file. */
  fixture: { size: MunicipalitySize } | { file: string };
  /** True when --fixture was given (otherwise an existing DIR/os2mo.json wins over the default size). */
  fixtureGiven: boolean;
  seed: number;
  data?: string;
  cvr?: string;
  clientId: string;
  clientSecretEnv?: string;
  apiKeyEnv?: string;
  writeManifest?: string;
  queueDelayMs: number;
  queueIntervalMs: number;
  hierarchyDelayMs: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseSandboxUpArgs(args: Record<string, unknown>): SandboxUpArgs {
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const camel = name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const v = args[camel] ?? args[name] ?? fallback;
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${String(v)}`);
    return n;
  };
  const portOs2mo = int("port-os2mo", 5001, 0, 65535);
  const portOs2sync = int("port-os2sync", 5000, 0, 65535);
  if (portOs2mo !== 0 && portOs2mo === portOs2sync) {
    throw new UsageError(`--port-os2mo and --port-os2sync are both ${portOs2mo}`, { hint: "Give them different ports, or 0 for free ones." });
  }
  const fixtureArg = args["fixture"] ?? args["size"];
  let fixture: SandboxUpArgs["fixture"] = { size: "small" };
  if (fixtureArg !== undefined) {
    if (typeof fixtureArg !== "string" || fixtureArg === "") throw new UsageError("--fixture needs small, medium, large or the path of an OS2mo fixture JSON file");
    fixture = fixtureArg === "small" || fixtureArg === "medium" || fixtureArg === "large" ? { size: fixtureArg } : { file: fixtureArg };
  }
  const out: SandboxUpArgs = {
    host: typeof args["host"] === "string" ? args["host"] : "127.0.0.1",
    portOs2mo,
    portOs2sync,
    fixture,
    fixtureGiven: fixtureArg !== undefined,
    seed: int("seed", 1, 0),
    clientId: typeof (args["clientId"] ?? args["client-id"]) === "string" ? String(args["clientId"] ?? args["client-id"]) : "stsorg",
    queueDelayMs: int("queue-delay-ms", 1000, 0),
    queueIntervalMs: int("queue-interval-ms", 1000, 1),
    hierarchyDelayMs: int("hierarchy-delay-ms", 1000, 0),
  };
  const data = args["data"];
  if (data !== undefined) {
    if (typeof data !== "string" || data === "") throw new UsageError("--data needs a folder");
    out.data = data;
  }
  const cvr = args["cvr"];
  if (cvr !== undefined) {
    if (!/^\d{8}$/.test(String(cvr))) throw new UsageError(`--cvr must be 8 digits, not ${String(cvr)}`);
    out.cvr = String(cvr);
  }
  for (const [flag, key] of [["client-secret-env", "clientSecretEnv"], ["api-key-env", "apiKeyEnv"]] as const) {
    const v = args[key] ?? args[flag];
    if (v === undefined) continue;
    if (typeof v !== "string" || !ENV_NAME.test(v)) {
      throw new UsageError(`--${flag} needs the name of an environment variable`, { hint: "The value itself is never given on the command line." });
    }
    out[key] = v;
  }
  const manifest = args["writeManifest"] ?? args["write-manifest"];
  if (manifest !== undefined) {
    if (typeof manifest !== "string" || manifest === "") throw new UsageError("--write-manifest needs a file path, e.g. environments/sandbox.yaml");
    out.writeManifest = manifest;
  }
  return out;
}

export interface SandboxManifestInput {
  name: string;
  municipality: { name: string; cvr: string };
  topUnitUuid: string;
  adminTopUuid: string;
  os2mo: { url: string; authServer: string; realm: string; clientId: string };
  os2syncUrl: string;
  secretVariable: string;
  apiKeyVariable?: string;
  /** The sandbox organisation certificate, as the manifest should name it. */
  certificatePath: string;
  /** The agreement's start date (yyyy-mm-dd). */
  validFrom: string;
  /** OS2mo address classes that become a user's Email, PhoneNumber and Landline (as the demo maps them). */
  scopeClasses?: ScopeClasses;
}

export interface ScopeClasses {
  email: string[];
  phone: string[];
  landline: string[];
}

/**
 * The address classes of a generated municipality (found by their user_key, so any seed works) that the
 * demo maps to a user's Email, PhoneNumber and Landline. A fixture file without them gives empty lists.
 */
export function scopeClassesOf(fixture: MoFixture): ScopeClasses {
  const facets = new Map(fixture.facets.map((f) => [f.uuid, f.user_key]));
  const find = (facet: string, userKey: string) =>
    fixture.classes.filter((c) => c.user_key === userKey && facets.get(c.facet) === facet).map((c) => c.uuid);
  const K = FIXTURE_KEYS;
  return {
    email: find("employee_address_type", K.employeeAddress.email),
    phone: find("employee_address_type", K.employeeAddress.phone),
    landline: [...find("employee_address_type", K.employeeAddress.landline), ...find("org_unit_address_type", K.unitAddress.landline)],
  };
}

/**
 * A manifest for servers started by `sandbox up`. It is `stage: test` (not `sandbox`), because a
 * `sandbox` manifest makes stsorg start embedded servers of its own instead of calling these.
 */
export function sandboxManifest(m: SandboxManifestInput): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    `# stsorg environment for the sandbox servers started by \`stsorg sandbox up\`.`,
    `# Secrets are read from $${m.secretVariable} (OS2mo client), $${SANDBOX_CERT_PASSWORD_VARIABLE} (certificate)` +
      `${m.apiKeyVariable ? ` and $${m.apiKeyVariable} (OS2sync api key)` : ""}.`,
    `apiVersion: stsorg/v1`,
    `kind: Environment`,
    `metadata:`,
    `  name: ${m.name}`,
    `  description: ${q(`${m.municipality.name} — stsorg sandbox up`)}`,
    `spec:`,
    `  stage: test`,
    `  municipality:`,
    `    name: ${q(m.municipality.name)}`,
    `    cvr: ${q(m.municipality.cvr)}`,
    `    uuid: ${SANDBOX_MUNICIPALITY_UUID}`,
    `  # A stand-in for the Serviceplatformen agreement and FOCES certificate a test or prod manifest needs;`,
    `  # the sandbox servers do not check them. The certificate is a test one (sandbox CA) and carries the CVR.`,
    `  serviceAgreement:`,
    `    uuid: ${SANDBOX_AGREEMENT_UUID}`,
    `    name: ${q(`${m.municipality.name} sandbox - STSOrgSync - adgang til STS ORG`)}`,
    `    type: uden-videregivelse-af-data`,
    `    validFrom: ${q(m.validFrom)}`,
    `    validTo: null`,
    `    itSystemUuid: ${SANDBOX_IT_SYSTEM_UUID}`,
    `    services:`,
    `      - name: Organisation v4.0`,
    `        uuid: 1e1c7d8d-b644-419c-a585-cb6486f04947`,
    `        roles:`,
    `          - name: Dummy`,
    `      - name: organisation2`,
    `        roles:`,
    `          - name: rediger`,
    `            parameters: { secpr-nummer: Ja, senavn: Ja }`,
    `          - name: udstil`,
    `            parameters: { secpr-nummer: Ja, senavn: Ja }`,
    `  certificate:`,
    `    path: ${q(m.certificatePath)}`,
    `    password: "\${env:${SANDBOX_CERT_PASSWORD_VARIABLE}}"`,
    `  sts:`,
    `    adminTopUuid: ${m.adminTopUuid}`,
    `  os2mo:`,
    `    url: ${m.os2mo.url}`,
    `    auth:`,
    `      authServer: ${m.os2mo.authServer}`,
    `      realm: ${m.os2mo.realm}`,
    `      clientId: ${q(m.os2mo.clientId)}`,
    `      clientSecret: "\${env:${m.secretVariable}}"`,
    `  os2sync:`,
    `    url: ${m.os2syncUrl}`,
    ...(m.apiKeyVariable ? [`    apiKey: "\${env:${m.apiKeyVariable}}"`] : []),
    `  sync:`,
    `    topUnitUuid: ${m.topUnitUuid}`,
    `    syncManagers: true`,
    `    uuidFromItSystems: ["FK-org uuid"]`,
    ...scopeLines(m.scopeClasses),
    `  state:`,
    `    backend: local`,
    `    path: .stsorg/state/${m.name}.json`,
    ``,
  ].join("\n");
}

function scopeLines(c: ScopeClasses | undefined): string[] {
  if (c === undefined || c.email.length + c.phone.length + c.landline.length === 0) return [];
  const list = (key: string, uuids: string[]) => (uuids.length > 0 ? [`    ${key}: [${uuids.join(", ")}]`] : []);
  return [
    `    # Address classes of the sandbox OS2mo that become a user's Email, PhoneNumber and Landline.`,
    ...list("emailScopeClasses", c.email),
    ...list("phoneScopeClasses", c.phone),
    ...list("landlineScopeClasses", c.landline),
  ];
}

async function loadFixture(args: SandboxUpArgs, io: CliIo, today: string): Promise<{ fixture: MoFixture; source: string }> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  const saved = args.data !== undefined ? join(abs(args.data), "os2mo.json") : undefined;
  if ("file" in args.fixture) return { fixture: await readFixture(abs(args.fixture.file)), source: `fixture ${args.fixture.file}` };
  if (saved !== undefined && !args.fixtureGiven && existsSync(saved)) {
    return { fixture: await readFixture(saved), source: `fixture ${join(args.data!, "os2mo.json")}` };
  }
  const fixture = generateMunicipality({ size: args.fixture.size, seed: args.seed, today });
  if (saved !== undefined && !existsSync(saved)) await writeFixture(saved, fixture);
  return { fixture, source: `generated ${args.fixture.size} municipality, seed ${args.seed}` };
}

/** A FOCES-shaped test certificate (issued by a sandbox CA) for the sandbox manifest, made once and then reused. */
function ensureSandboxCertificate(dir: string, cvr: string, organisation: string, now: Date): string {
  const file = join(dir, "sandbox-foces.p12");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const ca = createTestCa("stsorg sandbox CA", now);
    writeFileSync(file, issueOrganisationCertificate(ca, { cvr, organisation, password: SANDBOX_CERT_PASSWORD }, now), { mode: 0o600 });
  }
  return file;
}

/** The folder a manifest's relative paths resolve against: the one holding `environments/`. */
function projectRootOf(manifestFile: string): string {
  const dir = dirname(manifestFile);
  return basename(dir) === "environments" ? dirname(dir) : dir;
}

function portInUse(e: unknown, port: number, flag: string): never {
  if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
    throw new UsageError(`port ${port} is already in use`, { hint: `Pick another with ${flag}, or ${flag} 0 for a free one.` });
  }
  throw e;
}

export async function runSandboxUp(args: SandboxUpArgs, io: CliIo): Promise<number> {
  const secretEnv = args.clientSecretEnv;
  const clientSecret = secretEnv === undefined ? DEFAULT_OS2MO_SECRET : io.env[secretEnv];
  if (clientSecret === undefined || clientSecret === "") throw new UsageError(`environment variable ${secretEnv} (named by --client-secret-env) is not set`);
  let apiKey: string | undefined;
  if (args.apiKeyEnv !== undefined) {
    apiKey = io.env[args.apiKeyEnv];
    if (apiKey === undefined || apiKey === "") throw new UsageError(`environment variable ${args.apiKeyEnv} (named by --api-key-env) is not set`);
  }
  const dataDir = args.data === undefined ? undefined : isAbsolute(args.data) ? args.data : resolve(io.cwd, args.data);
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const { fixture, source } = await loadFixture(args, io, copenhagenDate(io.now()));
  const cvr = args.cvr ?? fixture.municipality.cvr;

  let os2mo: Os2moSandbox;
  try {
    os2mo = await startOs2moSandbox({ fixture, port: args.portOs2mo, host: args.host, clientId: args.clientId, clientSecret });
  } catch (e) {
    portInUse(e, args.portOs2mo, "--port-os2mo");
  }
  let os2sync: Os2syncSandbox;
  const fkFile = dataDir === undefined ? undefined : join(dataDir, "fk.json");
  const newFk = fkFile === undefined || !existsSync(fkFile);
  try {
    os2sync = await startOs2syncSandbox({
      port: args.portOs2sync,
      host: args.host,
      cvr,
      apiKey,
      dataFile: fkFile,
      queueDelayMs: args.queueDelayMs,
      queueIntervalMs: args.queueIntervalMs,
      hierarchyDelayMs: args.hierarchyDelayMs,
    });
  } catch (e) {
    await os2mo.stop();
    if (e instanceof Error && /data file/.test(e.message)) throw new UsageError(e.message, { file: fkFile, hint: "Move the file away to start from an empty FK." });
    portInUse(e, args.portOs2sync, "--port-os2sync");
  }
  // The seed guide's precondition: the municipality's root unit exists in STS Organisation before the first sync.
  if (newFk) os2sync.store.put("orgunit", { Uuid: SANDBOX_ADMIN_TOP_UUID, Name: fixture.municipality.name, Type: "DEPARTMENT" });
  const roots = os2sync.store.activeOrgUnits().filter((r) => r.registration.ParentOrgUnitUuid === undefined);
  const adminTopUuid = roots.length === 1 ? roots[0]!.uuid : SANDBOX_ADMIN_TOP_UUID;

  try {
    const name = args.writeManifest !== undefined ? basename(args.writeManifest, extname(args.writeManifest)).replace(/[^A-Za-z0-9._-]/g, "-") || "sandbox" : "sandbox";
    const secretVariable = secretEnv ?? SANDBOX_SECRET_VARIABLE;
    const manifestFile = args.writeManifest === undefined ? undefined : isAbsolute(args.writeManifest) ? args.writeManifest : resolve(io.cwd, args.writeManifest);
    const certFile = ensureSandboxCertificate(dataDir ?? resolve(io.cwd, DEFAULT_CERT_DIR), cvr, fixture.municipality.name, io.now());
    // Relative to where the manifest's paths resolve (the printed one is meant for environments/ here).
    const certFromRoot = relative(manifestFile === undefined ? io.cwd : projectRootOf(manifestFile), certFile);
    const manifest = sandboxManifest({
      name,
      municipality: { name: fixture.municipality.name, cvr },
      topUnitUuid: fixture.topUnitUuid,
      adminTopUuid,
      os2mo: { url: os2mo.url, authServer: os2mo.authServer, realm: os2mo.realm, clientId: os2mo.clientId },
      os2syncUrl: os2sync.url,
      secretVariable,
      certificatePath: certFromRoot.startsWith("..") ? certFile : certFromRoot,
      validFrom: copenhagenDate(io.now()),
      scopeClasses: scopeClassesOf(fixture),
      ...(args.apiKeyEnv !== undefined ? { apiKeyVariable: args.apiKeyEnv } : {}),
    });
    if (manifestFile !== undefined) await writeFileAtomic(manifestFile, manifest);
    const counts = os2sync.store.counts();
    const lines = [
      `OS2mo sandbox:   ${os2mo.url}`,
      `  GraphQL:       ${os2mo.graphqlUrl}`,
      `  Keycloak:      ${os2mo.authServer} (realm ${os2mo.realm})`,
      `  client:        id ${os2mo.clientId}, secret ${secretEnv === undefined ? clientSecret : `the value of $${secretEnv}`}`,
      `  data:          ${fixture.municipality.name}: ${fixture.orgUnits.length} units, ${fixture.persons.length} persons (${source})`,
      `OS2sync sandbox: ${os2sync.url}`,
      `  accepts:       header cvr: ${cvr}${args.apiKeyEnv !== undefined ? `, header apiKey: the value of $${args.apiKeyEnv}` : " (no api key)"}`,
      `  FK:            ${counts.activeOrgUnits} org units, ${counts.activeUsers} users, root unit ${adminTopUuid}` +
        (fkFile !== undefined ? ` (data file ${join(args.data!, "fk.json")})` : " (in memory)"),
      `  admin APIs:    ${os2mo.url}/_sandbox  ${os2sync.origin}/_sandbox/`,
      `Certificate:     ${relative(io.cwd, certFile) || certFile} (FOCES shape, sandbox CA, CVR ${cvr}, password "${SANDBOX_CERT_PASSWORD}")`,
      ``,
    ];
    if (args.writeManifest !== undefined) {
      lines.push(`Wrote the manifest ${args.writeManifest}. Try:`);
    } else {
      lines.push(`A manifest for these servers (save it as environments/sandbox.yaml, or use --write-manifest PATH):`, ``, manifest, `Then try:`);
    }
    // `-e NAME` finds environments/NAME.yaml; a manifest written anywhere else is named by its path.
    const env = args.writeManifest === undefined ? "sandbox" : /^(\.\/)?environments\/[^/]+\.yaml$/.test(args.writeManifest) ? name : args.writeManifest;
    if (secretEnv === undefined) lines.push(`  export ${secretVariable}=${clientSecret}`);
    lines.push(`  export ${SANDBOX_CERT_PASSWORD_VARIABLE}=${SANDBOX_CERT_PASSWORD}`);
    lines.push(`  stsorg plan -e ${env}`, ``, `Stop with Ctrl-C.`, ``);
    io.stdout.write(lines.join("\n"));
  } catch (e) {
    await Promise.all([os2sync.stop(), os2mo.stop()]);
    throw e;
  }

  const signal = await new Promise<string>((done) => {
    const off = io.onSignal((s) => {
      off();
      done(s);
    });
  });
  // Queued writes are applied before the FK is saved, as a running OS2sync would finish them.
  os2sync.flush();
  await Promise.all([os2sync.stop(), os2mo.stop()]);
  io.stderr.write(`Sandbox servers stopped (${signal})${fkFile !== undefined ? `; FK saved to ${join(args.data!, "fk.json")}` : ""}\n`);
  return 0;
}

sandboxServers["up"] = (args, io) => runSandboxUp(parseSandboxUpArgs(args), io);

/** The shared `sandbox <server>` command with `up` and its options added. */
export const sandboxCommand: Command = {
  ...os2moSandboxCommand,
  describe: "Run sandbox servers: up (OS2mo and OS2sync together), os2mo (Keycloak + GraphQL v25) or os2sync (OS2sync REST API)",
  builder: (y: Argv) =>
    os2moSandboxCommand
      .builder(y)
      .option("port-os2mo", { type: "number", default: 5001, describe: "up: port of the OS2mo sandbox (0 picks a free one)" })
      .option("port-os2sync", { type: "number", default: 5000, describe: "up: port of the OS2sync sandbox (0 picks a free one)" })
      .option("write-manifest", { type: "string", describe: "up: write a manifest for the servers to PATH (e.g. environments/sandbox.yaml)" })
      .example("$0 sandbox up", "OS2mo on :5001 and OS2sync on :5000 with a generated municipality, until Ctrl-C")
      .example("$0 sandbox up --data .stsorg --write-manifest environments/sandbox.yaml", "Serve the demo's OS2mo and FK and write a manifest for them"),
};
