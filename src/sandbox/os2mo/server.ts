import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { MoFixture } from "../fixtures/types.js";
import { copenhagenDate } from "./dates.js";
import { SandboxExecutor } from "./graphql.js";
import { COLLECTION_NAMES, MoStore, SandboxDataError, type CollectionName, type Collections } from "./store.js";

/** Faults the sandbox injects into GraphQL answers, for tests of the reader's resilience. */
export interface Os2moFaults {
  /** Delay before every GraphQL and token answer, in milliseconds. */
  latencyMs?: number;
  /** Share (0..1) of GraphQL requests answered with `errorStatus` instead of data. */
  errorRate?: number;
  /** Status used by `errorRate` and `failNext` (default 503). */
  errorStatus?: number;
  /** The next N GraphQL requests are answered with `errorStatus`. */
  failNext?: number;
  /** Share (0..1) of GraphQL requests whose connection is dropped without an answer. */
  dropRate?: number;
  /** The next N GraphQL requests have their connection dropped without an answer. */
  dropNext?: number;
  /** Serve some short and empty pages before the end of a result, as OS2mo may. */
  shortPages?: boolean;
  /** After this many more GraphQL requests, every token issued so far stops working (once). */
  expireTokensAfter?: number;
  /** Seed for the rate-based faults, so a test run is repeatable (default 1). */
  seed?: number;
}

export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  /** GraphQL operation name, or null for other endpoints. */
  operation: string | null;
  status: number;
  durationMs: number;
  /** Objects returned in top-level collection pages. */
  objects: number;
  /** The fault injected into this request, if any. */
  fault?: "error" | "drop" | "unauthenticated";
}

export interface Os2moSandboxOptions {
  fixture: MoFixture;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  realm?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued tokens (`expires_in`), default 300 s. */
  tokenLifetimeSeconds?: number;
  /** How long past expiry a token is still accepted, as OS2mo's Keycloak leeway does (default 5 s). */
  tokenGraceSeconds?: number;
  /** The sandbox's "now": validities, `current` and token expiry follow it. Default: real time. */
  clock?: () => Date;
  faults?: Os2moFaults;
}

/** Mutations tests and the demo apply to the running sandbox (also over `POST /_sandbox/mutate`). */
export interface Os2moMutations {
  renameUnit(uuid: string, name: string): void;
  moveUnit(uuid: string, parent: string): void;
  addUnit(unit: Parameters<MoStore["addUnit"]>[0]): Collections["orgUnits"];
  endUnit(uuid: string, to: string): void;
  addPerson(person: Parameters<MoStore["addPerson"]>[0]): Collections["persons"];
  renamePerson(uuid: string, name: string): void;
  addEngagement(e: Parameters<MoStore["addEngagement"]>[0]): Collections["engagements"];
  moveEngagement(uuid: string, orgUnit: string): void;
  endEngagement(uuid: string, to: string): void;
  upsert<K extends CollectionName>(kind: K, object: Collections[K]): Collections[K];
  remove(kind: CollectionName, uuid: string): void;
}

export interface Os2moSandbox {
  /** OS2mo base URL (the manifest's `spec.os2mo.url`), e.g. http://127.0.0.1:41234 */
  url: string;
  /** Keycloak base (`spec.os2mo.auth.authServer`), `{url}/auth`. */
  authServer: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  graphqlUrl: string;
  /** The data being served; read it freely, change it through `mutate`. */
  data: MoStore;
  mutate: Os2moMutations;
  log: { entries(): RequestLogEntry[]; clear(): void };
  setFaults(faults: Os2moFaults): void;
  /** Makes every token issued so far invalid at once. */
  expireTokens(): void;
  /** The sandbox's current date (`yyyy-mm-dd`, Copenhagen). */
  today(): string;
  stop(): Promise<void>;
}

const GRAPHQL_VERSION = 25;
const MAX_BODY = 16 * 1024 * 1024;

class BadRequest extends Error {}

export async function startOs2moSandbox(options: Os2moSandboxOptions): Promise<Os2moSandbox> {
  const host = options.host ?? "127.0.0.1";
  const realm = options.realm ?? "mo";
  const clientId = options.clientId ?? "stsorg";
  const clientSecret = options.clientSecret ?? "sandbox-secret";
  const lifetime = options.tokenLifetimeSeconds ?? 300;
  const graceMs = (options.tokenGraceSeconds ?? 5) * 1000;
  const clock = options.clock ?? (() => new Date());
  const store = new MoStore(options.fixture);
  const executor = new SandboxExecutor();
  const tokens = new Map<string, number>();
  const log: RequestLogEntry[] = [];
  let faults: Os2moFaults = {};
  let rng = mulberry32(1);
  let seq = 0;
  const today = () => copenhagenDate(clock());

  const setFaults = (f: Os2moFaults) => {
    faults = { ...f };
    rng = mulberry32(f.seed ?? 1);
  };
  setFaults(options.faults ?? {});

  const mutate: Os2moMutations = {
    renameUnit: (u, n) => store.renameUnit(u, n),
    moveUnit: (u, p) => store.moveUnit(u, p),
    addUnit: (unit) => store.addUnit(unit, today()),
    endUnit: (u, to) => store.endUnit(u, to),
    addPerson: (p) => store.addPerson(p),
    renamePerson: (u, n) => store.renamePerson(u, n),
    addEngagement: (e) => store.addEngagement(e, today()),
    moveEngagement: (u, o) => store.moveEngagement(u, o),
    endEngagement: (u, to) => store.endEngagement(u, to),
    upsert: (k, o) => store.upsert(k, o),
    remove: (k, u) => store.remove(k, u),
  };

  const record = (e: Omit<RequestLogEntry, "seq">) => log.push({ seq: ++seq, ...e });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const done = (status: number, body: unknown, extra: Partial<RequestLogEntry> = {}, contentType = "application/json") => {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
      if (!path.startsWith("/_sandbox")) {
        record({ method, path, operation: null, status, durationMs: performance.now() - started, objects: 0, ...extra });
      }
    };

    try {
      const tokenPath = /^\/auth\/realms\/([^/]+)\/protocol\/openid-connect\/token\/?$/.exec(path);
      if (tokenPath) {
        if (method !== "POST") return done(405, { error: "method_not_allowed" });
        const body = await readBody(req);
        await delay(faults.latencyMs);
        if (decodeURIComponent(tokenPath[1] ?? "") !== realm) return done(404, { error: "Realm does not exist" });
        const form = new URLSearchParams(body);
        let id = form.get("client_id");
        let secret = form.get("client_secret");
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
        if (basic) {
          const [bid, ...rest] = Buffer.from(basic[1] ?? "", "base64").toString("utf8").split(":");
          id = decodeURIComponent(bid ?? "");
          secret = decodeURIComponent(rest.join(":"));
        }
        if (form.get("grant_type") !== "client_credentials")
          return done(400, { error: "unsupported_grant_type", error_description: "Unsupported grant_type" });
        if (id !== clientId) return done(401, { error: "invalid_client", error_description: "Invalid client or Invalid client credentials" });
        if (secret !== clientSecret)
          return done(401, { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
        const token = randomBytes(24).toString("base64url");
        tokens.set(token, clock().getTime() + lifetime * 1000);
        return done(200, {
          access_token: token,
          expires_in: lifetime,
          refresh_expires_in: 0,
          token_type: "Bearer",
          "not-before-policy": 0,
          scope: "email profile",
        });
      }

      const gql = /^\/graphql\/v(\d+)\/?$/.exec(path);
      if (gql) {
        if (Number(gql[1]) !== GRAPHQL_VERSION) return done(404, { detail: "Not Found" });
        if (method !== "POST") return done(405, { detail: "Method Not Allowed" });
        const raw = await readBody(req);
        let body: { query?: unknown; variables?: unknown; operationName?: unknown };
        try {
          body = JSON.parse(raw) as typeof body;
        } catch {
          return done(400, { detail: "The request body is not valid JSON" });
        }
        const operation = typeof body.operationName === "string" ? body.operationName : operationNameOf(body.query);
        await delay(faults.latencyMs);
        // Token expiry counts down before other faults so "expire after N" is exact.
        if (faults.expireTokensAfter !== undefined) {
          if (faults.expireTokensAfter <= 0) {
            tokens.clear();
            faults.expireTokensAfter = undefined;
          } else faults.expireTokensAfter--;
        }
        if ((faults.dropNext ?? 0) > 0 || (faults.dropRate ?? 0) > rng()) {
          if ((faults.dropNext ?? 0) > 0) faults.dropNext = (faults.dropNext ?? 0) - 1;
          record({ method, path, operation, status: 0, durationMs: performance.now() - started, objects: 0, fault: "drop" });
          req.socket.destroy();
          return;
        }
        if ((faults.failNext ?? 0) > 0 || (faults.errorRate ?? 0) > rng()) {
          if ((faults.failNext ?? 0) > 0) faults.failNext = (faults.failNext ?? 0) - 1;
          const status = faults.errorStatus ?? 503;
          return done(status, status === 503 ? "Service Unavailable" : "Internal Server Error", { operation, fault: "error" }, "text/plain");
        }
        const auth = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "");
        const expiry = auth ? tokens.get(auth[1] ?? "") : undefined;
        if (expiry === undefined || clock().getTime() > expiry + graceMs) {
          // OS2mo answers 200 with a GraphQL error here, not 401.
          return done(200, { data: null, errors: [{ message: "User is not authenticated" }] }, { operation, fault: "unauthenticated" });
        }
        if (typeof body.query !== "string") return done(400, { detail: "No GraphQL query found in the request" });
        const variables = typeof body.variables === "object" && body.variables !== null ? (body.variables as Record<string, unknown>) : null;
        const { result, objects } = await executor.run(
          { query: body.query, variables, operationName: typeof body.operationName === "string" ? body.operationName : null },
          { store, today: today(), shortPages: faults.shortPages === true },
        );
        const json: Record<string, unknown> = { data: result.data ?? null };
        if (result.errors && result.errors.length > 0) json.errors = result.errors.map((e) => e.toJSON());
        return done(200, json, { operation, objects });
      }

      if (path.startsWith("/_sandbox")) return await admin(req, res, path, method);
      return done(404, { detail: "Not Found" });
    } catch (e) {
      if (e instanceof BadRequest) return done(400, { detail: e.message });
      if (e instanceof SandboxDataError) return done(e.status, { detail: e.message });
      return done(500, "Internal Server Error", {}, "text/plain");
    }
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const jsonBody = async (): Promise<Record<string, unknown>> => {
      const raw = await readBody(req);
      if (raw.trim() === "") return {};
      try {
        const v = JSON.parse(raw) as unknown;
        if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        // fall through
      }
      throw new BadRequest("The request body must be a JSON object");
    };
    const route = `${method} ${path.replace(/\/$/, "")}`;
    switch (route) {
      case "GET /_sandbox":
        return send(200, {
          today: today(),
          topUnitUuid: store.topUnitUuid,
          counts: Object.fromEntries(COLLECTION_NAMES.map((k) => [k, store.count(k)])),
          faults,
        });
      case "GET /_sandbox/requests":
        return send(200, { requests: log });
      case "DELETE /_sandbox/requests":
        log.length = 0;
        return send(200, { ok: true });
      case "GET /_sandbox/fixture":
        return send(200, store.toFixture());
      case "GET /_sandbox/faults":
        return send(200, faults);
      case "PUT /_sandbox/faults":
        setFaults((await jsonBody()) as Os2moFaults);
        return send(200, faults);
      case "DELETE /_sandbox/faults":
        setFaults({});
        return send(200, faults);
      case "POST /_sandbox/expire-tokens":
        tokens.clear();
        return send(200, { ok: true });
      case "POST /_sandbox/mutate": {
        const body = await jsonBody();
        const op = body.op;
        const args = Array.isArray(body.args) ? (body.args as unknown[]) : [];
        if (typeof op !== "string" || !Object.hasOwn(mutate, op)) {
          throw new BadRequest(`"op" must be one of: ${Object.keys(mutate).join(", ")}`);
        }
        const fn = mutate[op as keyof Os2moMutations] as (...a: unknown[]) => unknown;
        const result = fn(...args);
        return send(200, { ok: true, result: result ?? null });
      }
      default:
        return send(404, { detail: `No sandbox endpoint ${method} ${path}; see GET /_sandbox` });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${urlHost}:${addr.port}`;

  return {
    url,
    authServer: `${url}/auth`,
    realm,
    clientId,
    clientSecret,
    graphqlUrl: `${url}/graphql/v${GRAPHQL_VERSION}`,
    data: store,
    mutate,
    log: {
      entries: () => log.map((e) => ({ ...e })),
      clear: () => void (log.length = 0),
    },
    setFaults,
    expireTokens: () => tokens.clear(),
    today,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function operationNameOf(query: unknown): string | null {
  if (typeof query !== "string") return null;
  return /\b(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1] ?? null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BadRequest("request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function delay(ms: number | undefined): Promise<void> {
  return ms && ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** Small deterministic PRNG for repeatable fault patterns. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
