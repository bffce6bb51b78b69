import { RemoteError } from "../../errors/index.js";
import { backoffDelay, sleepUnlessAborted } from "../os2sync/index.js";
import { SYSTEM, type FkClient, type FkGraphqlError, type ProgressStream } from "./client.js";
import { loadFkQuery, type FkQueryName } from "./queries.js";

/**
 * Reads a whole relay connection (`organisationEnhedListe`, `brugerListe`) page by page. Only
 * `hasNextPage: false` ends a read: FK may return fewer than `first` items on any page. Cursors may
 * change while FK is updated, so after any failure the read starts again from the first page:
 * 408 (FK took over 120 s) with half the page size, 503 (FK is being synchronised) or no answer
 * after a backoff wait.
 */

/** FK's default and largest page. */
export const FK_MAX_PAGE_SIZE = 500;

export interface ReadOptions {
  /** Items per page (default and at most 500). */
  pageSize?: number;
  /** 408 below this page size is given up on (default 25). */
  minPageSize?: number;
  /** Reads started again after 503 or no answer before giving up (default 6). */
  retries?: number;
  /** First backoff ceiling (default 2 s), doubling up to `retryMaxMs` (default 60 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  progress?: ProgressStream;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops reading when aborted: no further page is asked for, a wait ends at once, the reason is thrown. */
  signal?: AbortSignal;
}

export interface ConnectionRead {
  /** Nodes by uuid (lower case), in the order FK returned them. */
  nodes: Map<string, Record<string, unknown>>;
  /** WARNING entries of every page of the successful read. */
  warnings: FkGraphqlError[];
  pages: number;
  /** Reads started again after a failure. */
  restarts: number;
  /** Page size the successful read used. */
  pageSize: number;
}

type PageFailure = { kind: "timeout" } | { kind: "unavailable"; reason: string };

export async function readConnection(
  client: FkClient,
  query: FkQueryName,
  field: string,
  variables: Record<string, unknown>,
  what: string,
  opts: ReadOptions = {},
): Promise<ConnectionRead> {
  const { text, operation } = loadFkQuery(query);
  let pageSize = Math.min(FK_MAX_PAGE_SIZE, Math.max(1, opts.pageSize ?? FK_MAX_PAGE_SIZE));
  const minPageSize = Math.min(pageSize, opts.minPageSize ?? 25);
  const retries = opts.retries ?? 6;
  const signal = opts.signal;
  const sleep = opts.sleep ?? ((ms: number) => sleepUnlessAborted(ms, signal));
  const random = opts.random ?? Math.random;
  let unavailable = 0;
  let restarts = 0;
  for (;;) {
    const nodes = new Map<string, Record<string, unknown>>();
    const warnings: FkGraphqlError[] = [];
    let after: string | null = null;
    let pages = 0;
    let failure: PageFailure | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const outcome = await client.query(operation, text, { ...variables, first: pageSize, after });
      if (outcome.kind !== "data") {
        failure = outcome;
        break;
      }
      pages++;
      warnings.push(...outcome.warnings);
      const connection = outcome.data[field];
      if (connection === null || typeof connection !== "object") {
        throw new RemoteError(SYSTEM, `FK Organisation returned no ${what} list for CVR ${client.cvr}`, {
          hint: "FK answers objects outside the token's CVR as not found: check spec.municipality.cvr.",
        });
      }
      const conn = connection as { edges?: unknown; pageInfo?: { hasNextPage?: unknown; endCursor?: unknown } };
      for (const edge of Array.isArray(conn.edges) ? conn.edges : []) {
        const node = (edge as { node?: unknown } | null)?.node;
        if (node === null || typeof node !== "object") continue;
        const uuid = String((node as { uuid?: unknown }).uuid ?? "").toLowerCase();
        if (uuid !== "") nodes.set(uuid, node as Record<string, unknown>);
      }
      if (conn.pageInfo?.hasNextPage !== true) {
        return { nodes, warnings, pages, restarts, pageSize };
      }
      const next = conn.pageInfo.endCursor;
      if (typeof next !== "string" || next === "" || next === after) {
        throw new RemoteError(SYSTEM, `FK Organisation said more ${what} follow but gave no new cursor after page ${pages}`, {
          hint: "Try again later; if it persists, report it to KOMBIT with the transaction ids.",
        });
      }
      after = next;
      if (pages % 10 === 0) opts.progress?.write(`Read ${nodes.size} ${what} from FK Organisation (${pages} pages)\n`);
    }
    restarts++;
    if (failure.kind === "timeout") {
      if (pageSize <= minPageSize) {
        throw new RemoteError(SYSTEM, `FK Organisation timed out (408) reading ${what} even with pages of ${pageSize}`, {
          status: 408,
          hint: "FK answers 408 when a query runs over 120 s. Try again outside office hours, or use --refresh full.",
        });
      }
      const smaller = Math.max(minPageSize, Math.floor(pageSize / 2));
      opts.progress?.write(`FK Organisation took too long for a page of ${pageSize} ${what} (408); reading them again from the start, ${smaller} per page\n`);
      pageSize = smaller;
      continue;
    }
    unavailable++;
    if (unavailable > retries) {
      throw new RemoteError(SYSTEM, `FK Organisation could not be read (${what}) after ${unavailable} attempts; last: ${failure.reason}`, {
        hint: "FK answers 503 while its data is being synchronised. Try again later.",
      });
    }
    const wait = backoffDelay(unavailable - 1, opts.retryBaseMs ?? 2_000, opts.retryMaxMs ?? 60_000, random);
    opts.progress?.write(`FK Organisation is unavailable (${failure.reason}); reading ${what} again from the start in ${(wait / 1000).toFixed(1)} s\n`);
    await sleep(wait);
  }
}
