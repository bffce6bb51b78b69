import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A state server speaking Terraform's HTTP backend protocol, for tests and demos (see README.md):
 *
 * | request                                   | meaning                                                     |
 * |-------------------------------------------|-------------------------------------------------------------|
 * | `GET P`                                   | the state: 200 with the body, or 204 (never written)/404    |
 * | `POST P[?ID=lock id]`                     | store the body; refused with the lock status while another  |
 * |                                           | lock is held (or an ID is given and no lock is)             |
 * | `LOCK P` or `POST P/lock`                 | take the lock; the body is the lock info JSON (with `ID`)   |
 * | `UNLOCK P` or `DELETE P/lock`             | release it; the body's `ID` (or `?ID=`) must be the holder's |
 * | `DELETE P`                                | delete the state                                            |
 *
 * A held lock is answered with 423 (or 409, as GitLab does) and the holder's lock info as the body.
 * `P/lock` is GitLab's layout (`lock_address = <address>/lock`, `lock_method = POST`,
 * `unlock_method = DELETE`); `LOCK`/`UNLOCK` on the address itself is Terraform's default.
 */

export interface StateHttpServerOptions {
  host?: string;
  port?: number;
  /** When set, requests need basic auth with this user and password (or the bearer token, if set). */
  username?: string;
  password?: string;
  /** When set, `Authorization: Bearer <token>` is accepted. */
  token?: string;
  /** Status of a refusal because of a held lock: 423 (Terraform's example) or 409 (GitLab). Default 423. */
  lockedStatus?: 409 | 423;
  /** Status of GET for a state never written: 204 (default) or 404. */
  missingStatus?: 204 | 404;
  /**
   * LOCK by the current holder's own ID: `replace` (default) stores the new lock info (how a client
   * extends its expiry), `refuse` answers with the lock status as for anyone else.
   */
  relock?: "replace" | "refuse";
  /**
   * Body of a refusal because of a held lock: `stored` (default) = the holder's lock info as it was sent;
   * `gitlab` = as GitLab builds it: the holder's ID, Who and Created, with the requester's Operation,
   * Info, Version and Path, and no Expires.
   */
  lockBody?: "stored" | "gitlab";
  /** Share of requests (0..1) answered 500 before being handled. */
  errorRate?: number;
  /** Random numbers for `errorRate` (default Math.random); pass a seeded one for repeatable runs. */
  random?: () => number;
}

export interface StateHttpLogEntry {
  seq: number;
  method: string;
  path: string;
  /** The `ID` query parameter, when given. */
  id?: string;
  status: number;
  /** What the server did: read, write, lock, unlock, delete, fault, auth, bad-request. */
  op: string;
}

export interface StateHttpFault {
  /** 500 (default) or another status; `drop` closes the connection without an answer. */
  status?: number;
  drop?: boolean;
  /** Handle the request (its effect happens), then drop the connection: the answer is lost. */
  dropAfter?: boolean;
  method?: string;
  count?: number;
}

export interface StateHttpServer {
  url: string;
  /** `<url>/state/<name>`: a state address. */
  address(name: string): string;
  readonly log: StateHttpLogEntry[];
  /** The next matching requests fail as described (before any standing errorRate). */
  failNext(fault: StateHttpFault): void;
  setErrorRate(rate: number): void;
  /** The stored body for a state address path (e.g. `/state/prod`). */
  stored(path: string): string | undefined;
  /** The lock info held on a state address path. */
  heldLock(path: string): Record<string, unknown> | undefined;
  /** Plants a lock as another client would have taken it. */
  plantLock(path: string, info: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startStateHttpServer(opts: StateHttpServerOptions = {}): Promise<StateHttpServer> {
  const states = new Map<string, string>();
  const deleted = new Set<string>();
  const locks = new Map<string, { id: string; info: Record<string, unknown>; raw: string }>();
  const log: StateHttpLogEntry[] = [];
  const faults: (StateHttpFault & { left: number })[] = [];
  let errorRate = opts.errorRate ?? 0;
  const random = opts.random ?? Math.random;
  const lockedStatus = opts.lockedStatus ?? 423;
  let seq = 0;

  const authorised = (req: IncomingMessage): boolean => {
    if (opts.username === undefined && opts.token === undefined) return true;
    const h = req.headers.authorization ?? "";
    if (opts.token !== undefined && h === `Bearer ${opts.token}`) return true;
    if (opts.username !== undefined && h.startsWith("Basic ")) {
      const [user, ...rest] = Buffer.from(h.slice(6), "base64").toString("utf8").split(":");
      return user === opts.username && rest.join(":") === (opts.password ?? "");
    }
    return false;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const u = new URL(req.url ?? "/", "http://x");
    const method = (req.method ?? "GET").toUpperCase();
    const id = u.searchParams.get("ID") ?? undefined;
    const entry: StateHttpLogEntry = { seq: ++seq, method, path: u.pathname, status: 0, op: "" };
    if (id !== undefined) entry.id = id;
    log.push(entry);
    const reply = (status: number, op: string, payload?: string, headers: Record<string, string> = {}): void => {
      entry.status = status;
      entry.op = op;
      res.writeHead(status, { ...(payload !== undefined ? { "content-type": "application/json" } : {}), ...headers });
      res.end(payload);
    };

    const fi = faults.findIndex((f) => f.method === undefined || f.method === method);
    let dropAfter = false;
    if (fi >= 0) {
      const f = faults[fi]!;
      if (--f.left <= 0) faults.splice(fi, 1);
      if (f.dropAfter) {
        dropAfter = true;
      } else {
        entry.op = "fault";
        if (f.drop) {
          req.socket.destroy();
          return;
        }
        reply(f.status ?? 500, "fault", JSON.stringify({ error: "injected fault" }));
        return;
      }
    } else if (errorRate > 0 && random() < errorRate) {
      reply(500, "fault", JSON.stringify({ error: "injected fault" }));
      return;
    }
    if (!authorised(req)) {
      reply(401, "auth", JSON.stringify({ error: "unauthorized" }), { "www-authenticate": 'Basic realm="state"' });
      return;
    }

    const lockPath = u.pathname.endsWith("/lock");
    const key = lockPath ? u.pathname.slice(0, -"/lock".length) : u.pathname;
    const held = locks.get(key);
    const holderBody = (): string => {
      if (held === undefined) return "";
      if (opts.lockBody !== "gitlab") return held.raw;
      const asked = parseInfo(body)?.info ?? {};
      return JSON.stringify({
        ID: held.id,
        Who: held.info.Who,
        Created: held.info.Created,
        Operation: asked.Operation,
        Info: asked.Info,
        Version: asked.Version,
        Path: asked.Path,
      });
    };
    let op: "read" | "write" | "lock" | "unlock" | "delete" | undefined;
    if (lockPath) op = method === "POST" || method === "LOCK" ? "lock" : method === "DELETE" || method === "UNLOCK" ? "unlock" : undefined;
    else op = method === "GET" ? "read" : method === "POST" ? "write" : method === "LOCK" ? "lock" : method === "UNLOCK" ? "unlock" : method === "DELETE" ? "delete" : undefined;

    const finish = (status: number, name: string, payload?: string, headers?: Record<string, string>): void => {
      if (dropAfter) {
        entry.status = 0;
        entry.op = `${name} (answer dropped)`;
        req.socket.destroy();
        return;
      }
      reply(status, name, payload, headers);
    };

    switch (op) {
      case "read": {
        const s = states.get(key);
        if (s === undefined) return finish(deleted.has(key) ? 404 : (opts.missingStatus ?? 204), "read");
        const md5 = createHash("md5").update(s).digest("base64");
        return finish(200, "read", s, { "content-md5": md5 });
      }
      case "write": {
        if (held !== undefined && id !== held.id) return finish(lockedStatus, "write refused: locked", holderBody());
        if (held === undefined && id !== undefined) return finish(409, "write refused: not locked", "");
        const md5 = req.headers["content-md5"];
        if (typeof md5 === "string" && md5 !== createHash("md5").update(body).digest("base64")) {
          return finish(400, "bad-request", JSON.stringify({ error: "Content-MD5 does not match the body" }));
        }
        states.set(key, body.toString("utf8"));
        deleted.delete(key);
        return finish(200, "write");
      }
      case "lock": {
        const info = parseInfo(body);
        if (info === undefined) return finish(400, "bad-request", JSON.stringify({ error: "lock info JSON with an ID is required" }));
        if (held !== undefined && !(held.id === info.id && (opts.relock ?? "replace") === "replace")) {
          return finish(lockedStatus, "lock refused: held", holderBody());
        }
        locks.set(key, { id: info.id, info: info.info, raw: body.toString("utf8") });
        return finish(200, held ? "relock" : "lock");
      }
      case "unlock": {
        const info = parseInfo(body);
        const unlockId = info?.id ?? id;
        if (held === undefined) return finish(409, "unlock refused: not locked", "");
        if (unlockId !== held.id) return finish(lockedStatus, "unlock refused: other ID", holderBody());
        locks.delete(key);
        return finish(200, "unlock");
      }
      case "delete":
        if (held !== undefined && id !== held.id) return finish(lockedStatus, "delete refused: locked", holderBody());
        states.delete(key);
        deleted.add(key);
        return finish(200, "delete");
      default:
        return finish(405, "bad-request", JSON.stringify({ error: `method ${method} not allowed here` }));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    address: (name) => `${url}/state/${encodeURIComponent(name)}`,
    log,
    failNext: (fault) => void faults.push({ ...fault, left: fault.count ?? 1 }),
    setErrorRate: (rate) => void (errorRate = rate),
    stored: (path) => states.get(path),
    heldLock: (path) => locks.get(path)?.info,
    plantLock: (path, info) => void locks.set(path, { id: String(info.ID), info, raw: JSON.stringify(info) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseInfo(body: Buffer): { id: string; info: Record<string, unknown> } | undefined {
  try {
    const info = JSON.parse(body.toString("utf8")) as unknown;
    if (info === null || typeof info !== "object" || Array.isArray(info)) return undefined;
    const id = (info as Record<string, unknown>).ID;
    if (typeof id !== "string" || id === "") return undefined;
    return { id, info: info as Record<string, unknown> };
  } catch {
    return undefined;
  }
}
