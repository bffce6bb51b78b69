/**
 * The sandboxes' admin APIs (no credentials, loopback only): request logs, OS2sync's queue and store,
 * and OS2mo mutations. Admin calls are not counted in the request logs.
 */

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

export interface MoTraffic {
  requests: number;
  tokenRequests: number;
  graphqlRequests: number;
  /** Objects in the top-level pages of every answer. */
  objects: number;
  errors: number;
}

export interface SyncTraffic {
  requests: number;
  /** POST and DELETE on org units and users: what OS2sync queues for FK. */
  writes: number;
  /** GET of one object (`/api/orgUnit/{uuid}`, `/api/user/{uuid}`). */
  objectReads: number;
  errors: number;
}

interface MoLogEntry {
  method: string;
  path: string;
  status: number;
  objects: number;
}

interface SyncLogEntry {
  method: string;
  path: string;
  status: number;
}

export class Os2moAdmin {
  constructor(readonly origin: string) {}

  async clearLog(): Promise<void> {
    await call(`${this.origin}/_sandbox/requests`, { method: "DELETE" });
  }

  async traffic(): Promise<MoTraffic> {
    const { requests } = await call<{ requests: MoLogEntry[] }>(`${this.origin}/_sandbox/requests`);
    const t: MoTraffic = { requests: requests.length, tokenRequests: 0, graphqlRequests: 0, objects: 0, errors: 0 };
    for (const e of requests) {
      if (/\/graphql\//.test(e.path)) t.graphqlRequests += 1;
      else t.tokenRequests += 1;
      t.objects += e.objects ?? 0;
      if (e.status !== 200) t.errors += 1;
    }
    return t;
  }

  async mutate(op: string, args: unknown[]): Promise<void> {
    await call(`${this.origin}/_sandbox/mutate`, json("POST", { op, args }));
  }
}

export class Os2syncAdmin {
  constructor(readonly origin: string) {}

  async clearLog(): Promise<void> {
    await call(`${this.origin}/_sandbox/requests`, { method: "DELETE" });
  }

  async traffic(): Promise<SyncTraffic> {
    const requests = await call<SyncLogEntry[]>(`${this.origin}/_sandbox/requests`);
    const t: SyncTraffic = { requests: requests.length, writes: 0, objectReads: 0, errors: 0 };
    for (const e of requests) {
      const objectPath = /^\/api\/(orgunit|user)(\/|$)/i.test(e.path);
      if (objectPath && (e.method === "POST" || e.method === "DELETE")) t.writes += 1;
      if (e.method === "GET" && /^\/api\/(orgunit|user)\/[0-9a-f-]{36}$/i.test(e.path)) t.objectReads += 1;
      if (e.status < 200 || e.status >= 300) t.errors += 1;
    }
    return t;
  }

  /** Applies everything queued now, so the next read sees every accepted write. */
  async flush(): Promise<void> {
    await call(`${this.origin}/_sandbox/flush`, { method: "POST" });
  }

  /**
   * Makes OS2sync wait `ms` before handling each request (its standing latency fault; 0 clears it), to
   * measure the CLI against an OS2sync that takes time to answer, as one writing to a database does.
   */
  async setLatency(ms: number): Promise<void> {
    await call(`${this.origin}/_sandbox/faults`, json("PUT", ms > 0 ? { latencyMs: ms } : {}));
  }

  /** An empty FK holding only the municipality's root unit, as KOMBIT hands it over. */
  async resetToRoot(root: { uuid: string; name: string }): Promise<void> {
    await call(`${this.origin}/_sandbox/reset`, { method: "POST" });
    await call(`${this.origin}/_sandbox/fk/orgunit/${root.uuid}`, json("PUT", { Uuid: root.uuid, Name: root.name, Type: "DEPARTMENT" }));
  }

  async counts(): Promise<{ orgUnits: number; users: number }> {
    type Rec = { lifecycle: string };
    const fk = await call<{ orgUnits: Rec[]; users: Rec[] }>(`${this.origin}/_sandbox/fk`);
    const active = (rs: Rec[]) => rs.filter((r) => r.lifecycle === "active").length;
    return { orgUnits: active(fk.orgUnits), users: active(fk.users) };
  }
}
