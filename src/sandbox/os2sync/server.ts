import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ObjectKind, OrgUnitRegistration, UserRegistration } from "../../model/index.js";
import { customRule, FkStore, type RejectionRule } from "../fkstore/index.js";
import {
  bindOrgUnit,
  bindUser,
  columnOverflow,
  orgUnitResponse,
  USER_STATUS,
  userResponse,
  validateOrgUnit,
  validateUser,
  type Json,
} from "./dto.js";
import { Faults, type FaultConfig, type OneShotFault } from "./faults.js";
import { HierarchyJobs } from "./hierarchy.js";
import { Os2syncQueue } from "./queue.js";

/**
 * A sandbox OS2sync 4.x: the REST API a client sees (routes, headers, validation, queue, hierarchy
 * jobs) in front of an in-memory FK store, plus an admin API under `/_sandbox/` for tests. See README.md.
 */

export interface Os2syncSandboxOptions {
  port?: number;
  host?: string;
  /** OS2sync's configured `Cvr`. */
  cvr?: string;
  /** OS2sync's configured `ApiKey`: when set, requests must send it in the `apiKey` header. */
  apiKey?: string;
  /**
   * true (default): a request must send the `cvr` header, equal to `cvr` when one is configured, else 401 —
   * so a client sending the wrong municipality is caught. false: OS2sync's own rule, where a configured
   * `Cvr` silently replaces the header and only a request with neither is refused.
   */
  strictCvr?: boolean;
  /** FK store JSON file; loaded if present, saved atomically after changes. */
  dataFile?: string;
  /** Use this store instead of opening `dataFile`. */
  store?: FkStore;
  /** A queued row is applied no sooner than this (default 50 ms). */
  queueDelayMs?: number;
  /** The scheduler runs this often (default 50 ms). */
  queueIntervalMs?: number;
  /** Users applied per scheduler run after all due org units (default 100, as OS2sync). */
  usersPerRun?: number;
  /** How long a hierarchy job takes (default 50 ms). */
  hierarchyDelayMs?: number;
  /** Unread hierarchy results are dropped after this (default 1 hour). */
  hierarchyTtlMs?: number;
  /** Hierarchy lists deactivated users with Status INACTIVE (default false). */
  hierarchyIncludesInactiveUsers?: boolean;
  /** FK rejection rules; default: the store's defaults (see fkstore/rules.ts). */
  rules?: RejectionRule[];
  /** An extra FK-side rejection: return a message to refuse the write. */
  rejectIf?: Parameters<typeof customRule>[1];
  faults?: FaultConfig;
  now?: () => Date;
  random?: () => number;
}

export interface RequestLogEntry {
  seq: number;
  method: string;
  /** Path as requested, without the query string. */
  path: string;
  query: string;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  durationMs: number;
  /** ISO datetime the request arrived. */
  at: string;
}

export class RequestLog {
  private items: RequestLogEntry[] = [];
  private seq = 0;

  add(e: Omit<RequestLogEntry, "seq">): void {
    this.items.push({ seq: ++this.seq, ...e });
  }

  entries(): RequestLogEntry[] {
    return [...this.items];
  }

  /** Requests matching a method and/or a path pattern. */
  count(filter: { method?: string; path?: RegExp } = {}): number {
    return this.items.filter(
      (e) => (filter.method === undefined || e.method === filter.method) && (filter.path === undefined || filter.path.test(e.path)),
    ).length;
  }

  clear(): void {
    this.items = [];
  }
}

export interface Os2syncSandbox {
  /** Base URL ending in `/api`, as a manifest's `spec.os2sync.url`. */
  url: string;
  /** Origin, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  port: number;
  store: FkStore;
  queue: Os2syncQueue;
  log: RequestLog;
  faults: Faults;
  hierarchy: HierarchyJobs;
  /** Adds FK-side rejection rules (on top of the store's). */
  addRule(rule: RejectionRule): void;
  /** Applies every queued row now. */
  flush(): void;
  /** Empties FK, queue, failures, hierarchy jobs, faults and the request log. */
  reset(): void;
  /** Stops the server and the scheduler and saves the data file. */
  stop(): Promise<void>;
}

interface Reply {
  status: number;
  body?: string;
  contentType?: string;
}

const text = (status: number, body?: string): Reply => ({ status, body, contentType: "text/plain; charset=utf-8" });
const json = (value: Json | unknown, status = 200): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: "application/json; charset=utf-8",
});

export async function startOs2syncSandbox(opts: Os2syncSandboxOptions = {}): Promise<Os2syncSandbox> {
  const now = opts.now ?? (() => new Date());
  const store = opts.store ?? new FkStore({ file: opts.dataFile, now, rules: opts.rules });
  if (opts.store && opts.rules) store.rules = opts.rules;
  if (opts.rejectIf) store.rules = [...store.rules, customRule("custom", opts.rejectIf)];
  const adminRules: RejectionRule[] = [];
  store.rules = [
    ...store.rules,
    {
      name: "admin",
      check: (w, s) => {
        for (const r of adminRules) {
          const rej = r.check(w, s);
          if (rej) return rej;
        }
        return undefined;
      },
    },
  ];
  const queue = new Os2syncQueue(store, {
    delayMs: opts.queueDelayMs ?? 50,
    usersPerRun: opts.usersPerRun ?? 100,
    now,
  });
  const faults = new Faults(opts.random);
  if (opts.faults) faults.set(opts.faults);
  let includeInactive = opts.hierarchyIncludesInactiveUsers ?? false;
  const hierarchy = new HierarchyJobs(store, {
    delayMs: () => faults.config.hierarchyDelayMs ?? opts.hierarchyDelayMs ?? 50,
    ttlMs: opts.hierarchyTtlMs ?? 3_600_000,
    now,
    includeInactiveUsers: () => includeInactive,
  });
  const log = new RequestLog();
  const strictCvr = opts.strictCvr ?? true;

  function authorize(req: IncomingMessage): Reply | undefined {
    if (opts.apiKey !== undefined && opts.apiKey !== "" && header(req, "apikey") !== opts.apiKey) return text(401);
    const cvr = header(req, "cvr");
    if (strictCvr) {
      if (!cvr) return text(401);
      if (opts.cvr && cvr !== opts.cvr) return text(401);
    } else if (!cvr && !opts.cvr) {
      return text(401);
    }
    return undefined;
  }

  function handleObjects(kind: ObjectKind, method: string, rest: string[], req: IncomingMessage, body: string, query: URLSearchParams): Reply {
    const [a, b, extra] = rest;
    if (extra !== undefined) return text(404);
    if (a === undefined) {
      if (method !== "POST") return text(405);
      const parsed = parseJson(body);
      if (parsed === undefined || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return text(400, "Request body must be a JSON object");
      }
      const dto = kind === "orgunit" ? bindOrgUnit(parsed as Record<string, unknown>) : bindUser(parsed as Record<string, unknown>);
      const invalid = kind === "orgunit" ? validateOrgUnit(dto) : validateUser(dto);
      if (invalid) return text(400, invalid);
      const overflow = columnOverflow(kind, dto);
      if (overflow) return text(400, overflow);
      queue.enqueue({
        kind,
        operation: "UPDATE",
        uuid: String(dto.Uuid),
        payload: dto,
        bypassCache: (query.get("bypassCache") ?? "").toLowerCase() === "true",
        priority: Number.parseInt(query.get("priority") ?? "10", 10) || 10,
      });
      return json(dto);
    }
    const al = a.toLowerCase();
    if (al === "passiver" && b !== undefined) {
      if (method !== "POST") return text(405);
      queue.enqueue({ kind, operation: "PASSIVER", uuid: b, bypassCache: false, priority: 10 });
      return text(200);
    }
    if (al === "cleanup" && b === undefined && method === "POST") {
      const parsed = parseJson(body);
      if (!Array.isArray(parsed)) return text(400, "Request body must be a JSON array of uuids");
      const local = new Set(parsed.map((u) => String(u).toLowerCase()));
      const inFk = store.activeUuids(kind);
      if ((query.get("dryrun") ?? "").toLowerCase() !== "true") {
        for (const uuid of inFk) {
          if (!local.has(uuid)) queue.enqueue({ kind, operation: "DELETE", uuid, bypassCache: false, priority: 12 });
        }
      }
      const fkSet = new Set(inFk);
      return json([...local].filter((u) => !fkSet.has(u)));
    }
    if (b !== undefined) return text(404);
    if (al === "all") {
      if (method !== "GET") return text(405);
      return json(store.activeUuids(kind));
    }
    if (method === "DELETE") {
      queue.enqueue({ kind, operation: "DELETE", uuid: a, bypassCache: false, priority: 10 });
      return text(200);
    }
    if (method === "GET") {
      if (kind === "orgunit") {
        const r = store.record("orgunit", a);
        if (!r || r.lifecycle !== "active") return text(404);
        return json(orgUnitResponse(r.registration, r.timestamp));
      }
      const r = store.record("user", a);
      if (!r || r.lifecycle !== "active") return text(404);
      return json(userResponse(r.registration, r.timestamp, USER_STATUS.ACTIVE));
    }
    return text(405);
  }

  function handleApi(method: string, segments: string[], req: IncomingMessage, body: string, query: URLSearchParams): Reply {
    const [controller, ...rest] = segments;
    const c = (controller ?? "").toLowerCase();
    if (c !== "orgunit" && c !== "user" && c !== "hierarchy") return text(404);
    const denied = authorize(req);
    if (denied) return denied;
    if (c === "hierarchy") {
      if (method !== "GET") return text(405);
      if (rest.length === 0) {
        const id = hierarchy.start(header(req, "onlyous") === "true");
        // ASP.NET Core writes a string result as text unless the client asks for JSON.
        return (req.headers.accept ?? "").includes("application/json") ? json(id) : text(200, id);
      }
      if (rest.length > 1) return text(404);
      const result = hierarchy.take(rest[0]!);
      return result ? json(result) : text(404);
    }
    return handleObjects(c === "orgunit" ? "orgunit" : "user", method, rest, req, body, query);
  }

  function handleAdmin(method: string, segments: string[], body: string): Reply {
    const [area, kindSeg, uuid, sub] = segments;
    const parsed = () => parseJson(body) as Record<string, unknown> | undefined;
    switch (area) {
      case "requests":
        if (method === "GET") return json(log.entries());
        if (method === "DELETE") return log.clear(), text(204);
        break;
      case "queue":
        if (method === "GET") return json({ stats: queue.stats(), rows: queue.pending() });
        break;
      case "failures":
        if (method === "GET") return json(queue.failureList());
        if (method === "DELETE") return queue.clearFailures(), text(204);
        break;
      case "flush":
        if (method === "POST") return queue.drain(), json(queue.stats());
        break;
      case "reset":
        if (method === "POST") return reset(), text(204);
        break;
      case "faults":
        if (kindSeg === undefined && method === "GET") return json({ config: faults.config, next: faults.pendingOneShots() });
        if (kindSeg === undefined && method === "PUT") return faults.set((parsed() ?? {}) as FaultConfig), json(faults.config);
        if (kindSeg === undefined && method === "DELETE") return faults.clear(), text(204);
        if (kindSeg === "next" && method === "POST") return faults.next(parsed() as unknown as OneShotFault), text(204);
        break;
      case "reject": {
        if (method === "DELETE") return (adminRules.length = 0), text(204);
        if (method === "POST") {
          const p = parsed() ?? {};
          const target = String(p.uuid ?? "").toLowerCase();
          const message = typeof p.message === "string" ? p.message : `Rejected by sandbox rule for ${target}`;
          const status = typeof p.status === "number" ? p.status : 40;
          adminRules.push(
            customRule(`admin:${target}`, (w) => ((w.op === "upsert" ? w.registration.Uuid : w.uuid).toLowerCase() === target ? message : undefined), status),
          );
          return text(204);
        }
        break;
      }
      case "hierarchy":
        if (method === "PUT") {
          const p = parsed() ?? {};
          if (typeof p.includeInactiveUsers === "boolean") includeInactive = p.includeInactiveUsers;
          return json({ includeInactiveUsers: includeInactive });
        }
        break;
      case "fk": {
        if (kindSeg === undefined && method === "GET") return json(store.snapshot());
        const kind = kindSeg === "orgunit" || kindSeg === "orgunits" ? "orgunit" : kindSeg === "user" || kindSeg === "users" ? "user" : undefined;
        if (!kind || !uuid) return text(404);
        if (sub === "lifecycle" && method === "POST") {
          const lc = parsed()?.lifecycle;
          if (lc !== "active" && lc !== "inactive" && lc !== "passive") return text(400, "lifecycle must be active, inactive or passive");
          return store.setLifecycle(kind, uuid, lc) ? text(204) : text(404);
        }
        if (sub !== undefined) return text(404);
        if (method === "GET") {
          const r = store.record(kind, uuid);
          return r ? json(r) : text(404);
        }
        if (method === "PUT") {
          const p = parsed();
          if (!p) return text(400, "body must be a registration");
          const reg = { ...p, Uuid: uuid };
          if (kind === "orgunit") store.put("orgunit", reg as unknown as OrgUnitRegistration);
          else store.put("user", reg as unknown as UserRegistration);
          return text(204);
        }
        if (method === "DELETE") return store.remove(kind, uuid) ? text(204) : text(404);
        break;
      }
      default:
        return text(404);
    }
    return text(405);
  }

  function reset(): void {
    store.reset();
    queue.reset();
    hierarchy.stop();
    faults.clear();
    adminRules.length = 0;
    log.clear();
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(e instanceof Error ? e.message : String(e));
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const at = now().toISOString();
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = (req.method ?? "GET").toUpperCase();
    const segments = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
    const body = await readBody(req);
    const first = (segments[0] ?? "").toLowerCase();

    if (first === "_sandbox") {
      send(res, handleAdmin(method, segments.slice(1), body));
      return;
    }

    const record = (status: number) =>
      log.add({ method, path: url.pathname, query: url.search, status, durationMs: Date.now() - started, at });
    const decision = faults.decide(method, url.pathname);
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.action === "drop") {
      record(0);
      req.socket.destroy();
      return;
    }
    if (decision.action === "error") {
      const status = decision.status ?? 503;
      record(status);
      send(res, text(status, "Service Unavailable (injected fault)"));
      return;
    }

    let reply: Reply;
    if (first === "manage" && (segments[1] ?? "").toLowerCase() === "health" && segments.length === 2) {
      reply = method === "GET" ? text(200) : text(405);
    } else if (first === "api") {
      reply = handleApi(method, segments.slice(1), req, body, url.searchParams);
    } else {
      reply = text(404);
    }
    if (decision.action === "drop-after") {
      record(0);
      req.socket.destroy();
      return;
    }
    record(reply.status);
    send(res, reply);
  }

  const timer = setInterval(() => {
    queue.runOnce();
    hierarchy.expire();
  }, opts.queueIntervalMs ?? 50);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
    });
  } catch (e) {
    // Not listening (e.g. the port is taken): nothing may keep the process alive.
    clearInterval(timer);
    hierarchy.stop();
    throw e;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}/api`,
    origin,
    port: address.port,
    store,
    queue,
    log,
    faults,
    hierarchy,
    addRule: (rule) => void adminRules.push(rule),
    flush: () => queue.drain(),
    reset,
    async stop() {
      clearInterval(timer);
      hierarchy.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.flush();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = {};
  if (reply.body !== undefined && reply.body !== "") headers["content-type"] = reply.contentType ?? "text/plain; charset=utf-8";
  res.writeHead(reply.status, headers);
  res.end(reply.body ?? "");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
