import { randomBytes, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { buildSchema, execute, parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from "graphql";
import { cvrFromSubject } from "../../cert/index.js";
import { FK_ORGANISATION_ENTITY_ID } from "../../targets/fk/index.js";
import { FkStore } from "../fkstore/index.js";
import { createTestCa, issueOrganisationCertificate, issueServerCertificate, subjectAttributes, type OrganisationCertificateOptions, type TestCa } from "./certs.js";
import { fkError, unitNode, userNode, viewOf, type Agreement, type RequestContext } from "./view.js";

/**
 * A sandbox of KOMBIT's organisation GraphQL (OrganisationHent) and the Adgangsstyring token endpoint
 * in front of it, over HTTPS with client certificates from a CA made at start. It serves an FkStore,
 * normally the one the OS2sync sandbox writes, so what OS2sync's queue applies is what FK shows here.
 * See README.md.
 */

export const TOKEN_PATH = "/runtime/api/rest/oauth/v1/issue";
export const GRAPHQL_PATH = "/organisation/organisationhent/1";
const MAX_PAGE = 500;

export interface FkFaultConfig {
  /** List queries asking for more than this many items answer 408, as FK does after 120 s. */
  timeoutAbovePageSize?: number;
  /** After `after` more GraphQL requests have gone through, the next `count` answer 503. */
  unavailable?: { count: number; after?: number };
  /** Pages hold at most this many items whatever `first` asks (FK may return short pages mid-list). */
  maxItemsPerPage?: number;
}

export class FkFaults {
  config: FkFaultConfig = {};
  private passed = 0;
  private served503 = 0;

  set(config: FkFaultConfig): void {
    this.config = config;
    this.passed = 0;
    this.served503 = 0;
  }

  clear(): void {
    this.set({});
  }

  /** The fault status for a GraphQL request asking for `first` items, if any. */
  next(first: number | undefined): 408 | 503 | undefined {
    const u = this.config.unavailable;
    if (u && this.served503 < u.count) {
      if (this.passed >= (u.after ?? 0)) {
        this.served503++;
        return 503;
      }
    }
    const limit = this.config.timeoutAbovePageSize;
    if (limit !== undefined && first !== undefined && first > limit) return 408;
    this.passed++;
    return undefined;
  }
}

export interface FkRequestLogEntry {
  seq: number;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  at: string;
  /** GraphQL operation name, when the body named one. */
  operation?: string;
  /** Page size asked for. */
  first?: number;
  transactionId?: string;
  /** TLS version the connection negotiated, e.g. `TLSv1.2`. */
  tls?: string;
}

export class FkRequestLog {
  private items: FkRequestLogEntry[] = [];
  private seq = 0;

  add(e: Omit<FkRequestLogEntry, "seq">): void {
    this.items.push({ seq: ++this.seq, ...e });
  }

  entries(): FkRequestLogEntry[] {
    return [...this.items];
  }

  count(filter: { path?: string; status?: number; operation?: string } = {}): number {
    return this.items.filter(
      (e) =>
        (filter.path === undefined || e.path === filter.path) &&
        (filter.status === undefined || e.status === filter.status) &&
        (filter.operation === undefined || e.operation === filter.operation),
    ).length;
  }

  clear(): void {
    this.items = [];
  }
}

export interface FkSandboxOptions {
  /** The FK to serve; a new empty one when absent. */
  store?: FkStore;
  port?: number;
  host?: string;
  /** The CA that signs the server's and the clients' certificates; made at start when absent. */
  ca?: TestCa;
  /** The municipality with a service agreement: the only `anvenderkontekst` tokens are issued for. */
  cvr: string;
  /** CVRs of certificates allowed to ask for `cvr` (default: `cvr` itself). */
  certificateCvrs?: string[];
  /** Token lifetime (default 28800 s, as KOMBIT). */
  tokenLifetimeSeconds?: number;
  /** What the service agreement shows of persons (default: names and CPR numbers). */
  agreement?: Partial<Agreement>;
  faults?: FkFaultConfig;
  now?: () => Date;
}

export interface FkSandbox {
  graphqlUrl: string;
  tokenUrl: string;
  origin: string;
  port: number;
  /** PEM of the CA clients must trust. */
  caPem: string;
  ca: TestCa;
  store: FkStore;
  log: FkRequestLog;
  faults: FkFaults;
  agreement: Agreement;
  /** Issues an organisation certificate (PKCS#12 bytes) from the sandbox's CA. */
  issueClientCertificate(opts: OrganisationCertificateOptions): Buffer;
  /** Makes every issued token expired, as if its 8 hours had passed. */
  expireTokens(): void;
  tokenCount(): number;
  stop(): Promise<void>;
}

interface IssuedToken {
  cvr: string;
  /** sha256 of the certificate the token was issued to (FK's cnf.x5t#S256 binding). */
  certificate: string;
  expiresAt: number;
}

export function loadFkSandboxSchema(): GraphQLSchema {
  return buildSchema(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));
}

export async function startFkSandbox(opts: FkSandboxOptions): Promise<FkSandbox> {
  const now = opts.now ?? (() => new Date());
  const store = opts.store ?? new FkStore({ now });
  const ca = opts.ca ?? createTestCa("stsorg FK sandbox CA", now());
  const serverCert = issueServerCertificate(ca, now());
  const schema = loadFkSandboxSchema();
  const log = new FkRequestLog();
  const faults = new FkFaults();
  if (opts.faults) faults.set(opts.faults);
  const agreement: Agreement = { seNavn: opts.agreement?.seNavn ?? true, seCpr: opts.agreement?.seCpr ?? true };
  const lifetimeMs = (opts.tokenLifetimeSeconds ?? 28_800) * 1000;
  const allowedCertCvrs = new Set(opts.certificateCvrs ?? [opts.cvr]);
  const tokens = new Map<string, IssuedToken>();
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

  function peer(req: IncomingMessage): { fingerprint: string; cvr: string | null } | undefined {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
    if (!cert) return undefined;
    return { fingerprint: cert.fingerprint256, cvr: cvrFromSubject(subjectAttributes(cert.raw)) };
  }

  function issueToken(req: IncomingMessage, body: string): Reply {
    if (req.method !== "POST") return reply(405, { error: "invalid_request", error_description: "POST only" });
    const client = peer(req);
    if (!client) {
      return reply(401, { error: "invalid_client", error_description: "No client certificate, or one not issued by a trusted CA" });
    }
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== "client_credentials") {
      return reply(400, { error: "unsupported_grant_type", error_description: "grant_type must be client_credentials" });
    }
    if (form.get("client_id") !== FK_ORGANISATION_ENTITY_ID) {
      return reply(401, { error: "invalid_client", error_description: `Unknown client_id ${form.get("client_id") ?? "(none)"}` });
    }
    const scope = Object.fromEntries(
      (form.get("scope") ?? "").split(",").map((part) => {
        const i = part.indexOf(":");
        return i < 0 ? [part.trim(), ""] : [part.slice(0, i).trim(), part.slice(i + 1).trim()];
      }),
    );
    if (scope.entityid !== FK_ORGANISATION_ENTITY_ID) {
      return reply(400, { error: "invalid_scope", error_description: `No service ${scope.entityid ?? "(none)"}` });
    }
    const cvr = scope.anvenderkontekst;
    if (!cvr || cvr !== opts.cvr) {
      return reply(400, { error: "invalid_scope", error_description: `No service agreement for CVR ${cvr ?? "(none)"}` });
    }
    if (client.cvr === null || !allowedCertCvrs.has(client.cvr)) {
      return reply(400, {
        error: "invalid_scope",
        error_description: `The certificate (CVR ${client.cvr ?? "unknown"}) has no service agreement for CVR ${cvr}`,
      });
    }
    const token = randomBytes(32).toString("base64url");
    tokens.set(token, { cvr, certificate: client.fingerprint, expiresAt: now().getTime() + lifetimeMs });
    return reply(200, { access_token: token, token_type: "Holder-of-key", expires_in: Math.floor(lifetimeMs / 1000) });
  }

  async function graphqlRequest(req: IncomingMessage, body: string, note: (o: Partial<FkRequestLogEntry>) => void): Promise<Reply> {
    if (req.method !== "POST") return reply(405, { message: "POST only" });
    const client = peer(req);
    if (!client) return reply(401, { message: "A client certificate issued to the token's holder is required" });
    const id = header(req, "x-transaktionsid");
    const time = header(req, "x-transaktionstid");
    if (id) note({ transactionId: id });
    if (!id || !time || Number.isNaN(Date.parse(time))) {
      return reply(400, { message: "The headers x-TransaktionsId and x-TransaktionsTid (ISO 8601) are required" });
    }
    const auth = /^(\S+)\s+(\S+)$/.exec(header(req, "authorization") ?? "");
    const token = auth && /^(bearer|holder-of-key)$/i.test(auth[1]!) ? tokens.get(auth[2]!) : undefined;
    if (!token || token.expiresAt <= now().getTime() || token.certificate !== client.fingerprint) {
      return reply(401, { message: "Missing, expired or invalid token, or a token issued to another certificate" });
    }
    let parsed: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return reply(400, { message: "The body must be JSON" });
    }
    if (typeof parsed.query !== "string") return reply(400, { message: "The body has no query" });
    const variables = parsed.variables !== null && typeof parsed.variables === "object" ? (parsed.variables as Record<string, unknown>) : {};
    const operationName = typeof parsed.operationName === "string" ? parsed.operationName : undefined;
    const first = typeof variables.first === "number" ? variables.first : undefined;
    note({ operation: operationName, first });
    const fault = faults.next(first ?? MAX_PAGE);
    if (fault === 503) return reply(503, { message: "Data is being synchronised; try again later" });
    if (fault === 408) return reply(408, { message: "The request took more than 120 seconds" });

    let doc = documents.get(parsed.query);
    if (!doc) {
      try {
        const d = parse(parsed.query);
        const errors = validate(schema, d);
        doc = errors.length > 0 ? errors : d;
      } catch (e) {
        doc = [e as GraphQLError];
      }
      documents.set(parsed.query, doc);
    }
    if (Array.isArray(doc)) {
      return reply(200, { errors: (doc as readonly GraphQLError[]).map((e) => ({ message: e.message, extensions: { type: "ERROR", classification: "ValidationError" } })) });
    }
    const ctx: RequestContext = { cvr: token.cvr, agreement, view: viewOf(store), warnings: [], maxItemsPerPage: faults.config.maxItemsPerPage };
    const result = await execute({ schema, document: doc as DocumentNode, rootValue: rootFor(ctx), contextValue: ctx, variableValues: variables, operationName });
    const errors = [...(result.errors ?? []).map((e) => e.toJSON()), ...ctx.warnings];
    return reply(200, errors.length > 0 ? { data: result.data ?? null, errors } : { data: result.data ?? null });
  }

  const server: Server = createServer(
    { key: serverCert.keyPem, cert: serverCert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" },
    (req, res) => {
      const started = Date.now();
      const at = now().toISOString();
      const chunks: Buffer[] = [];
      const extra: Partial<FkRequestLogEntry> = {};
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = (req.url ?? "/").split("?")[0]!;
        const body = Buffer.concat(chunks).toString("utf8");
        const handle = async (): Promise<Reply> => {
          if (path === TOKEN_PATH) return issueToken(req, body);
          if (path === GRAPHQL_PATH) return graphqlRequest(req, body, (o) => Object.assign(extra, o));
          return reply(404, { message: "Not found" });
        };
        handle()
          .catch((e: unknown) => reply(500, { message: e instanceof Error ? e.message : String(e) }))
          .then((r) => {
            send(res, r);
            const tls = (req.socket as TLSSocket).getProtocol?.() ?? undefined;
            log.add({ method: req.method ?? "", path, status: r.status, durationMs: Date.now() - started, at, ...(tls ? { tls } : {}), ...extra });
          });
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;
  return {
    graphqlUrl: origin + GRAPHQL_PATH,
    tokenUrl: origin + TOKEN_PATH,
    origin,
    port,
    caPem: ca.certPem,
    ca,
    store,
    log,
    faults,
    agreement,
    issueClientCertificate: (o) => issueOrganisationCertificate(ca, o, now()),
    expireTokens() {
      for (const t of tokens.values()) t.expiresAt = 0;
    },
    tokenCount: () => tokens.size,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Reply {
  status: number;
  body: string;
}

function reply(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function send(res: ServerResponse, r: Reply): void {
  res.writeHead(r.status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(r.body) });
  res.end(r.body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === "" ? undefined : s.trim();
}

const CURSOR_PREFIX = "after:";

function encodeCursor(uuid: string): string {
  return Buffer.from(CURSOR_PREFIX + uuid).toString("base64url");
}

function decodeCursor(cursor: string): string | undefined {
  const s = Buffer.from(cursor, "base64url").toString("utf8");
  return s.startsWith(CURSOR_PREFIX) ? s.slice(CURSOR_PREFIX.length) : undefined;
}

interface ListArgs {
  cvr: string;
  status: "AKTIV" | "INAKTIV";
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

function page(all: string[], args: ListArgs, ctx: RequestContext, node: (uuid: string) => unknown) {
  if (args.cvr !== ctx.cvr) throw fkError(`NotFound: no organisation with CVR ${args.cvr} for this token`, "NotFound");
  if (args.last != null || args.before != null) throw fkError("The sandbox pages forwards only (first/after)", "ValidationError");
  const first = args.first ?? MAX_PAGE;
  if (first < 1 || first > MAX_PAGE) throw fkError(`first must be between 1 and ${MAX_PAGE}, was ${first}`, "ValidationError");
  let start = 0;
  if (args.after != null) {
    const after = decodeCursor(args.after);
    if (after === undefined) throw fkError(`Invalid cursor ${args.after}`, "ValidationError");
    // The first uuid after the cursor's: a cursor stays usable when objects come and go.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const size = Math.min(first, ctx.maxItemsPerPage ?? first);
  const slice = all.slice(start, start + size);
  return {
    edges: slice.map((uuid) => ({ cursor: encodeCursor(uuid), node: node(uuid) })),
    pageInfo: {
      startCursor: slice.length > 0 ? encodeCursor(slice[0]!) : null,
      endCursor: slice.length > 0 ? encodeCursor(slice[slice.length - 1]!) : null,
      hasNextPage: start + size < all.length,
      hasPreviousPage: start > 0,
    },
  };
}

function rootFor(ctx: RequestContext) {
  return {
    organisationEnhedListe: (args: ListArgs) => page(ctx.view.unitList[args.status], args, ctx, (u) => unitNode(u, ctx)),
    brugerListe: (args: ListArgs) => page(ctx.view.userList[args.status], args, ctx, (u) => userNode(u, ctx)),
    organisationEnhed: (args: { uuid: string[] }) => args.uuid.map((u) => (ctx.view.units.has(u.toLowerCase()) ? unitNode(u.toLowerCase(), ctx) : null)),
    bruger: (args: { uuid: string[] }) => args.uuid.map((u) => userNode(u.toLowerCase(), ctx)),
  };
}
