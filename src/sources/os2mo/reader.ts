import { RemoteError } from "../../errors/index.js";
import type { Os2moConfig } from "../../manifest/types.js";
import type { MoAddress, MoItUser, MoSnapshot } from "../../model/index.js";
import type { OutputStream } from "../../cli/io.js";
import { KeycloakTokenSource } from "./auth.js";
import { Os2moGraphqlClient, type Page } from "./client.js";
import { startOfDay } from "./dates.js";
import { Os2moHttp, type RetryPolicy } from "./http.js";
import { ProgressLine } from "./progress.js";
import type { QueryName } from "./queries.js";
import * as wire from "./wire.js";

export interface ReadMoOptions {
  /** OS2mo uuid of the exported top unit (spec.sync.topUnitUuid). */
  topUnitUuid: string;
  /** The day to read, `yyyy-mm-dd` (Copenhagen). Engagements starting after it are future ones. */
  today: string;
  /** Where a progress line goes while reading (only written when it is a TTY). */
  progress?: OutputStream;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Uuids per request when filtering by a uuid list (default: the page size). */
  uuidBatchSize?: number;
  retry?: Partial<RetryPolicy>;
  /** Jitter source for retry delays; injectable for tests. */
  random?: () => number;
  /** Stops the read when aborted: no new request is sent, and the signal's reason is thrown. */
  signal?: AbortSignal;
}

export interface ReadMoStats {
  /** GraphQL HTTP requests sent, retries included. */
  requests: number;
  /** Of those, how many were retries (network errors, 429, 5xx). */
  retries: number;
  /** Keycloak token requests. */
  tokenRequests: number;
  /** Pages fetched per query operation. */
  pages: Record<string, number>;
  /** Objects in the snapshot. */
  objects: number;
  bytesReceived: number;
  durationMs: number;
}

export type Os2moReadConfig = Os2moConfig & { clientSecret: string };

/**
 * Reads everything the mapping needs from OS2mo in a handful of cursor-paged collection queries,
 * never one request per object, and joins them in memory:
 *
 * 1. concurrently: units under the top unit (`ancestor` filter, which includes the top unit), and the
 *    engagements (current and future), addresses, IT users, managers and KLE of those units (nested
 *    `org_unit: {ancestor: …}` filters);
 * 2. then, for the persons those engagements name, in uuid batches: the persons, their addresses and
 *    their IT users.
 *
 * Requests grow with objects / page size. Every page is followed until `next_cursor` is null (OS2mo
 * may return short or empty pages before the end).
 */
export async function readMoSnapshot(config: Os2moReadConfig, opts: ReadMoOptions): Promise<{ snapshot: MoSnapshot; stats: ReadMoStats }> {
  const started = performance.now();
  const http = new Os2moHttp({
    timeoutMs: config.timeoutMs,
    caFile: config.caFile,
    retry: opts.retry,
    random: opts.random,
    maxSockets: opts.concurrency ?? 4,
  });
  const tokens = new KeycloakTokenSource(
    {
      authServer: config.auth.authServer,
      realm: config.auth.realm,
      clientId: config.auth.clientId,
      clientSecret: config.clientSecret,
      secretRef: config.auth.clientSecret?.ref,
    },
    http,
  );
  const endpoint = `${config.url.replace(/\/+$/, "")}/graphql/v${config.graphqlVersion}`;
  const client = new Os2moGraphqlClient(endpoint, http, tokens, config.auth.clientId, opts.signal);
  const limiter = new Limiter(opts.concurrency ?? 4);
  const progress = new ProgressLine(opts.progress);
  const pageSize = config.pageSize;
  const batch = opts.uuidBatchSize ?? pageSize;
  const pages: Record<string, number> = {};
  let fetched = 0;
  const show = (force = false) =>
    progress.update(() => `Reading OS2mo: ${fetched.toLocaleString("en")} objects, ${http.stats.requests} requests`, force);

  /**
   * All objects of one query and filter, following cursors to the end, each converted as its page
   * arrives: the wire objects of a page die young instead of all of them living until the read ends
   * (on a large municipality they are the larger part of the reader's peak memory).
   */
  async function all<W, T>(
    name: QueryName,
    filter: Record<string, unknown>,
    convert: (w: W) => T | undefined,
    extra: Record<string, unknown> = {},
  ): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    const field = FIELD[name];
    do {
      const data: Record<string, Page<W>> = await limiter.run(() =>
        client.query<Record<string, Page<W>>>(name, { ...extra, filter, limit: pageSize, cursor }),
      );
      const page = data[field];
      if (!page) throw new RemoteError("os2mo", `query ${name}: OS2mo's answer has no "${field}"`);
      for (const w of page.objects) {
        const x = convert(w);
        if (x !== undefined) out.push(x);
      }
      pages[name] = (pages[name] ?? 0) + 1;
      fetched += page.objects.length;
      show();
      cursor = page.page_info.next_cursor;
    } while (cursor !== null);
    return out;
  }

  /** The same query over uuid batches (concurrently, bounded by the limiter). */
  async function batched<W, T>(
    name: QueryName,
    uuids: string[],
    filterFor: (chunk: string[]) => Record<string, unknown>,
    convert: (w: W) => T | undefined,
    extra: Record<string, unknown> = {},
  ): Promise<T[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < uuids.length; i += batch) chunks.push(uuids.slice(i, i + batch));
    const results = await Promise.all(chunks.map((c) => all<W, T>(name, filterFor(c), convert, extra)));
    return results.flat();
  }

  try {
    const from = startOfDay(opts.today);
    const top = [opts.topUnitUuid];
    const underTop = { ancestor: { uuids: top } };
    const [orgUnits, allEngagements, unitAddresses, unitItUsers, managers, kles] = await Promise.all([
      all("org-units", underTop, wire.orgUnit),
      // Open-ended from today: current and future engagements, not ended ones.
      all("engagements", { org_unit: underTop, from_date: from, to_date: null }, wire.engagement, { from }),
      all("addresses", { org_unit: underTop }, wire.address),
      all("itusers", { org_unit: underTop }, wire.itUser),
      all("managers", { org_unit: underTop }, wire.manager),
      all("kles", { org_unit: underTop }, wire.kle),
    ]);

    if (!orgUnits.some((u) => u.uuid === opts.topUnitUuid)) {
      throw new RemoteError("os2mo", `the top unit ${opts.topUnitUuid} is not a current unit in OS2mo`, {
        uuid: opts.topUnitUuid,
        hint: "Check spec.sync.topUnitUuid: it must be the uuid of a unit that exists in OS2mo today.",
      });
    }
    const unitSet = new Set(orgUnits.map((u) => u.uuid));
    const engs = allEngagements.filter((e) => unitSet.has(e.org_unit));
    const personUuids = [...new Set(engs.map((e) => e.person))].sort();

    // A person's own window is open: one hired for a future engagement may not exist in OS2mo "now".
    const anyTime = { from_date: null, to_date: null };
    const [persons, personAddresses, personItUsers] = await Promise.all([
      batched("persons", personUuids, (c) => ({ uuids: c, from_date: from, to_date: null }), wire.person, { from }),
      batched("addresses", personUuids, (c) => ({ employee: { uuids: c, ...anyTime } }), wire.address),
      batched("itusers", personUuids, (c) => ({ employee: { uuids: c, ...anyTime } }), wire.itUser),
    ]);

    const snapshot: MoSnapshot = {
      topUnitUuid: opts.topUnitUuid,
      today: opts.today,
      orgUnits: sortByUuid(orgUnits),
      persons: sortByUuid(persons),
      engagements: sortByUuid(engs),
      addresses: mergeByUuid<MoAddress>(unitAddresses, personAddresses),
      itUsers: mergeByUuid<MoItUser>(unitItUsers, personItUsers),
      managers: sortByUuid(managers.filter((m) => unitSet.has(m.org_unit))),
      kles: sortByUuid(kles.filter((k) => unitSet.has(k.org_unit))),
    };
    const objects =
      snapshot.orgUnits.length +
      snapshot.persons.length +
      snapshot.engagements.length +
      snapshot.addresses.length +
      snapshot.itUsers.length +
      snapshot.managers.length +
      snapshot.kles.length;
    const stats: ReadMoStats = {
      requests: http.stats.requests,
      retries: http.stats.retries,
      tokenRequests: tokens.fetched,
      pages,
      objects,
      bytesReceived: http.stats.bytesReceived,
      durationMs: Math.round(performance.now() - started),
    };
    progress.finish(`Read ${objects.toLocaleString("en")} objects from OS2mo in ${stats.requests} requests`);
    return { snapshot, stats };
  } catch (e) {
    progress.finish();
    throw e;
  } finally {
    http.close();
    wire.forgetSharedRefs();
  }
}

const FIELD: Record<QueryName, string> = {
  "org-units": "org_units",
  engagements: "engagements",
  persons: "persons",
  addresses: "addresses",
  itusers: "itusers",
  managers: "managers",
  kles: "kles",
};

function sortByUuid<T extends { uuid: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** Objects reached two ways (a unit's address that also names a person) appear once. */
function mergeByUuid<T extends { uuid: string }>(...lists: T[][]): T[] {
  const m = new Map<string, T>();
  for (const l of lists) for (const x of l) m.set(x.uuid, x);
  return sortByUuid([...m.values()]);
}

/** Bounds requests in flight; a queued task starts when a running one ends. */
class Limiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
