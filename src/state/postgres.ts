import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ConnectionOptions } from "node:tls";
import type pg from "pg";
import { LockError, StateError } from "../errors/index.js";
import type { StateFile } from "../model/index.js";
import { checkCas, checkLockHeld, noLockError } from "./cas.js";
import { decodeState, encodeState, stateChecksum } from "./codec.js";
import { encodeDelta, interimDelta, ownCopy, replayJournal } from "./delta.js";
import { isExpired, lockedError, newLockInfo } from "./lock.js";
import { mayFallBack, parsePgUrl, quoteIdent, scrubSecret, sslAttempts, type ParsedPgUrl, type SslMode } from "./pgconfig.js";
import type { ExpectedVersion, LockInfo, LockRequest, StateBackend, StateIdentity, WriteOptions } from "./types.js";

export interface PostgresBackendOptions {
  /** Connection URL, or a function resolving it (a secret reference), called on first use. */
  url: string | (() => Promise<string>);
  /** What to call the connection before it is resolved, e.g. the reference `${env:STSORG_PG_URL}`. */
  label?: string;
  /** The row's key: the environment name. */
  environment: string;
  schema?: string;
  /** The state table; the lock table is `<table>_locks`, the journal `<table>_journal`. */
  table?: string;
  /** libpq sslmode; overrides `sslmode=` in the URL. Default: the URL's, else `prefer` (libpq's default). */
  sslmode?: SslMode;
  /** PEM file of the CA that signed the server's certificate; overrides `sslrootcert=` in the URL. */
  caFile?: string;
  connectTimeoutMs?: number;
  identity?: StateIdentity;
  now?: () => Date;
  newId?: () => string;
  version?: string;
}

interface Connection {
  pool: pg.Pool;
  url: ParsedPgUrl;
}

type Queryable = Pick<pg.PoolClient, "query">;

/**
 * State in PostgreSQL: one row per environment in `<schema>.<table>` (lineage, serial, checksum, the
 * state as text, updated_at), locks as rows of `<schema>.<table>_locks` with an expiry, and an apply's
 * interim versions as rows of `<schema>.<table>_journal` (one line of delta.ts's format per version,
 * emptied by the next whole write). The tables are created on first use.
 *
 * - Writes are compare-and-swap on (lineage, serial) in one transaction: the row is read `FOR UPDATE`,
 *   its version (the row's, or its journal's latest) checked, and replaced with `UPDATE … WHERE environment
 *   AND lineage AND serial` (the journal emptied), or a journal row inserted; a first write is an INSERT
 *   that a concurrent first write loses on the primary key. When the write names a lock, the
 *   lock row is read `FOR SHARE` in the same transaction, so a takeover cannot slip in between.
 * - The state is kept as text, byte for byte as a local file holds it (jsonb would reorder keys), so
 *   `state pull` gives the same bytes and the checksum verifies as it does for files.
 * - Lock expiry times come from the stsorg process's clock, as with the local backend: runners that
 *   share a state need synchronised clocks (NTP), or a live lock could be taken for an expired one.
 * - No session advisory lock is used: it would tie the lock to one connection (lost on any reconnect,
 *   and meaningless behind a transaction-pooling PgBouncer), and the lock row with expiry plus the
 *   compare-and-swap already give the guarantees. A transaction-scoped advisory lock serialises only
 *   the creation of the tables.
 */
export class PostgresStateBackend implements StateBackend {
  readonly schema: string;
  readonly table: string;
  readonly lockTable: string;
  readonly journalTable: string;
  private readonly qState: string;
  private readonly qLocks: string;
  private readonly qJournal: string;
  /** The state this handle last read or wrote: what an interim write is a difference from. */
  private last: StateFile | undefined;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private conn: Promise<Connection> | undefined;
  private redactedUrl: string | undefined;
  private closed = false;

  constructor(private readonly opts: PostgresBackendOptions) {
    this.schema = opts.schema ?? "stsorg";
    this.table = opts.table ?? "states";
    this.lockTable = `${this.table}_locks`;
    this.journalTable = `${this.table}_journal`;
    this.qState = `${quoteIdent(this.schema)}.${quoteIdent(this.table)}`;
    this.qLocks = `${quoteIdent(this.schema)}.${quoteIdent(this.lockTable)}`;
    this.qJournal = `${quoteIdent(this.schema)}.${quoteIdent(this.journalTable)}`;
    this.now = opts.now ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
    if (typeof opts.url === "string") this.redactedUrl = safeRedacted(opts.url);
  }

  describe(): string {
    const where = this.redactedUrl ?? this.opts.label ?? "(connection not resolved)";
    return `postgres ${where} table ${this.qState}, environment "${this.opts.environment}"`;
  }

  async read(): Promise<StateFile | null> {
    // One statement, so the row and its journal come from one snapshot.
    const { rows } = await this.run("read the state", (c) =>
      c.query<{ lineage: string; serial: string; checksum: string; state: string; journal: string | null }>(
        `SELECT lineage, serial, checksum, state,
           (SELECT string_agg(j.line, E'\\n' ORDER BY j.serial) FROM ${this.qJournal} j WHERE j.environment = s.environment) AS journal
         FROM ${this.qState} s WHERE environment = $1`,
        [this.opts.environment],
      ),
    );
    const row = rows[0];
    if (row === undefined) return null;
    const base = decodeState(row.state, { source: this.describe(), identity: this.opts.identity });
    if (base.lineage !== row.lineage || base.serial !== Number(row.serial) || stateChecksum(base) !== row.checksum) {
      throw new StateError(
        `State ${this.describe()} does not agree with its own row: the columns say lineage ${row.lineage} serial ${row.serial}, the state says lineage ${base.lineage} serial ${base.serial}; it was not used.`,
        { hint: "The row was changed outside stsorg. Restore it from a backup of the database, or push a pulled state with `stsorg state push`." },
      );
    }
    let state = base;
    if (row.journal !== null) {
      state = replayJournal(base, Buffer.from(row.journal + "\n"), {
        name: `${this.qJournal} of environment "${this.opts.environment}"`,
        line: (n) => `${this.qJournal} row ${n} (by serial) of environment "${this.opts.environment}"`,
        hint: `The journal rows hold what an apply recorded since the state row was last written whole. Back up both tables first. To go on without the journal, delete this environment's rows from ${this.qJournal}: the state then lacks those records, and \`stsorg plan --refresh full\` shows what FK holds.`,
      }).state;
    }
    this.last = ownCopy(state);
    return state;
  }

  /**
   * Stores `next`: whole (the row is replaced and the journal emptied, in one transaction), or for an
   * interim write, as one journal row holding its difference from the version before.
   */
  async write(next: StateFile, expected: ExpectedVersion, options?: WriteOptions): Promise<void> {
    const delta = interimDelta(this.last, next, expected, options?.interim === true);
    // A journal row holds the line without its newline.
    const stored: { line: string } | { text: string } =
      delta === undefined ? { text: encodeState(next) } : { line: encodeDelta(delta).toString("utf8").replace(/\n$/, "") };
    const env = this.opts.environment;
    await this.transaction("write the state", async (c) => {
      if (expected.lockId !== undefined) {
        const held = await c.query<{ info: LockInfo }>(`SELECT info FROM ${this.qLocks} WHERE environment = $1 FOR SHARE`, [env]);
        checkLockHeld(held.rows[0]?.info ?? null, expected.lockId, this.describe());
      }
      // The row lock orders every writer of this environment, journal appends included.
      const cur = await c.query<{ lineage: string; serial: string; latest: string | null }>(
        `SELECT lineage, serial, (SELECT max(j.serial) FROM ${this.qJournal} j WHERE j.environment = s.environment) AS latest
         FROM ${this.qState} s WHERE environment = $1 FOR UPDATE`,
        [env],
      );
      const row = cur.rows[0];
      checkCas(row ? { lineage: row.lineage, serial: Number(row.latest ?? row.serial) } : null, next, expected, this.describe());
      // An interim write expects the version this handle last saw, so the compare-and-swap has found a row.
      if ("line" in stored) {
        await c.query(`INSERT INTO ${this.qJournal} (environment, serial, lineage, line) VALUES ($1, $2, $3, $4)`, [env, next.serial, next.lineage, stored.line]);
        return;
      }
      const values = [env, next.lineage, next.serial, checksumOf(stored.text), stored.text, this.now().toISOString(), this.opts.version ?? "0.0.0"];
      if (row === undefined) {
        const ins = await c.query(
          `INSERT INTO ${this.qState} (environment, lineage, serial, checksum, state, updated_at, tool_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (environment) DO NOTHING`,
          values,
        );
        if (ins.rowCount !== 1) throw this.lostRace();
      } else {
        const upd = await c.query(
          `UPDATE ${this.qState} SET lineage = $2, serial = $3, checksum = $4, state = $5, updated_at = $6, tool_version = $7
           WHERE environment = $1 AND lineage = $8 AND serial = $9`,
          [...values, row.lineage, Number(row.serial)],
        );
        if (upd.rowCount !== 1) throw this.lostRace();
      }
      await c.query(`DELETE FROM ${this.qJournal} WHERE environment = $1`, [env]);
    });
    this.last = ownCopy(next);
  }

  async lock(req: LockRequest): Promise<LockInfo> {
    const env = this.opts.environment;
    // A first lock can race another first lock on the primary key; the loser looks again.
    for (let attempt = 0; ; attempt++) {
      const now = this.now();
      const info = newLockInfo(req, this.newId(), now, this.opts.version ?? "0.0.0", this.lockPath());
      type Outcome = { kind: "taken"; info: LockInfo } | { kind: "held"; holder: LockInfo } | { kind: "raced" };
      const outcome = await this.transaction("take the state lock", async (c): Promise<Outcome> => {
        const cur = await c.query<{ info: LockInfo }>(`SELECT info FROM ${this.qLocks} WHERE environment = $1 FOR UPDATE`, [env]);
        const held = cur.rows[0]?.info;
        if (held !== undefined) {
          if (!isExpired(held, now)) return { kind: "held", holder: held };
          info.TakenOver = { ID: held.ID, Who: held.Who, Operation: held.Operation, Created: held.Created, Expires: held.Expires };
          await c.query(
            `UPDATE ${this.qLocks} SET lock_id = $2, info = $3, created_at = $4, expires_at = $5 WHERE environment = $1 AND lock_id = $6`,
            [env, info.ID, JSON.stringify(info), info.Created, info.Expires, held.ID],
          );
          return { kind: "taken", info };
        }
        const ins = await c.query(
          `INSERT INTO ${this.qLocks} (environment, lock_id, info, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (environment) DO NOTHING`,
          [env, info.ID, JSON.stringify(info), info.Created, info.Expires],
        );
        return ins.rowCount === 1 ? { kind: "taken", info } : { kind: "raced" };
      });
      if (outcome.kind === "taken") return outcome.info;
      if (outcome.kind === "held") throw lockedError(outcome.holder, now, 0);
      if (attempt >= 3) throw new LockError(`Could not take the state lock on ${this.describe()}: other runs keep taking it.`);
    }
  }

  async refreshLock(id: string, ttlMs: number): Promise<LockInfo> {
    const expires = new Date(this.now().getTime() + ttlMs).toISOString();
    const { rows } = await this.run("renew the state lock", (c) =>
      c.query<{ info: LockInfo }>(
        `UPDATE ${this.qLocks} SET expires_at = $3, info = jsonb_set(info, '{Expires}', to_jsonb($4::text))
         WHERE environment = $1 AND lock_id = $2 RETURNING info`,
        [this.opts.environment, id, expires, expires],
      ),
    );
    if (rows[0] === undefined) throw noLockError(id, await this.currentLock(), this.describe());
    return rows[0].info;
  }

  async unlock(id: string): Promise<void> {
    const res = await this.run("release the state lock", (c) =>
      c.query(`DELETE FROM ${this.qLocks} WHERE environment = $1 AND lock_id = $2`, [this.opts.environment, id]),
    );
    if (res.rowCount !== 1) throw noLockError(id, await this.currentLock(), this.describe());
  }

  async currentLock(): Promise<LockInfo | null> {
    const { rows } = await this.run("read the state lock", (c) =>
      c.query<{ info: LockInfo }>(`SELECT info FROM ${this.qLocks} WHERE environment = $1`, [this.opts.environment]),
    );
    return rows[0]?.info ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await conn.then((c) => c.pool.end()).catch(() => undefined);
  }

  private lockPath(): string {
    return this.describe();
  }

  private lostRace(): StateError {
    return new StateError(`State write refused: another run changed ${this.describe()} at the same moment.`, {
      hint: "Another run changed the state since it was read. Run plan again.",
    });
  }

  private async run<T>(what: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
    const { pool, url } = await this.connection();
    try {
      return await fn(pool);
    } catch (e) {
      throw this.wrap(e, what, url);
    }
  }

  private async transaction<T>(what: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
    const { pool, url } = await this.connection();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw this.wrap(e, what, url);
    }
    let broken = false;
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw this.wrap(e, what, url);
    } finally {
      client.release(broken);
    }
  }

  /** Our own errors pass through; driver errors become a StateError without the password. */
  private wrap(e: unknown, what: string, url: ParsedPgUrl): Error {
    if (e instanceof StateError || e instanceof LockError) return e;
    const raw = e instanceof Error ? e.message : String(e);
    const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
    const msg = scrubSecret(raw, url.password);
    return new StateError(`Cannot ${what} in ${this.describe()}: ${msg}${typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ""}`, {
      hint: hintFor(code, msg, this.schema),
    });
  }

  private connection(): Promise<Connection> {
    if (this.closed) return Promise.reject(new StateError(`The connection to ${this.describe()} was closed.`));
    this.conn ??= this.connect().catch((e: unknown) => {
      this.conn = undefined;
      throw e;
    });
    return this.conn;
  }

  private async connect(): Promise<Connection> {
    const raw = typeof this.opts.url === "string" ? this.opts.url : await this.opts.url();
    const url = parsePgUrl(raw, this.opts.label ?? "URL");
    this.redactedUrl = url.redacted;
    const mode: SslMode = this.opts.sslmode ?? url.sslmode ?? "prefer";
    const caPath = this.opts.caFile ?? (url.sslrootcert !== undefined && url.sslrootcert !== "system" ? url.sslrootcert : undefined);
    let ca: string | undefined;
    if (caPath !== undefined) {
      try {
        ca = await readFile(caPath, "utf8");
      } catch (e) {
        throw new StateError(`Cannot read the PostgreSQL CA file ${caPath}: ${(e as Error).message}`, { path: "spec.state.postgres.caFile" });
      }
    }
    const attempts = sslAttempts(mode, ca);
    // Loaded only when this backend connects.
    const { default: driver } = await import("pg");
    for (let i = 0; ; i++) {
      const pool = this.newPool(driver, url, attempts[i]!);
      try {
        await this.ensureTables(pool);
        return { pool, url };
      } catch (e) {
        await pool.end().catch(() => undefined);
        if (i + 1 < attempts.length && mayFallBack(mode, e)) continue;
        throw this.wrap(e, "connect", url);
      }
    }
  }

  private newPool(driver: typeof pg, url: ParsedPgUrl, ssl: false | ConnectionOptions): pg.Pool {
    const pool = new driver.Pool({
      connectionString: url.connectionString,
      ssl,
      max: 4,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 15_000,
      // Idle connections must not keep a finished CLI alive.
      allowExitOnIdle: true,
      application_name: "stsorg",
    });
    // A connection that dies while idle (server restart) is replaced on next use; it must not crash the process.
    pool.on("error", () => undefined);
    return pool;
  }

  /** Creates the schema and tables when missing; a transaction-scoped advisory lock keeps two first runs apart. */
  private async ensureTables(pool: pg.Pool): Promise<void> {
    const exists = await pool.query<{ s: string | null; l: string | null; j: string | null }>("SELECT to_regclass($1) AS s, to_regclass($2) AS l, to_regclass($3) AS j", [
      this.qState,
      this.qLocks,
      this.qJournal,
    ]);
    if (exists.rows[0]?.s && exists.rows[0]?.l && exists.rows[0]?.j) return;
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [ddlLockKey(this.schema, this.table)]);
      // CREATE SCHEMA needs the CREATE privilege even with IF NOT EXISTS, so only when it is missing.
      const ns = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.schema]);
      if (ns.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.qState} (
        environment text PRIMARY KEY,
        lineage text NOT NULL,
        serial bigint NOT NULL CHECK (serial >= 0),
        checksum text NOT NULL,
        state text NOT NULL,
        updated_at timestamptz NOT NULL,
        tool_version text NOT NULL
      )`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.qLocks} (
        environment text PRIMARY KEY,
        lock_id text NOT NULL,
        info jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.qJournal} (
        environment text NOT NULL,
        serial bigint NOT NULL,
        lineage text NOT NULL,
        line text NOT NULL,
        PRIMARY KEY (environment, serial)
      )`);
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}

/** The checksum encodeState put at the top level of the text, without hashing a large state twice. */
function checksumOf(text: string): string {
  const m = /^ {2}"checksum": "(sha256:[0-9a-f]{64})",?$/m.exec(text);
  if (!m) throw new StateError("Internal error: an encoded state has no checksum.");
  return m[1]!;
}

function ddlLockKey(schema: string, table: string): string {
  return createHash("sha256").update(`stsorg state tables ${schema}.${table}`).digest().readBigInt64BE(0).toString();
}

function safeRedacted(url: string): string | undefined {
  try {
    return parsePgUrl(url, "URL").redacted;
  } catch {
    return undefined;
  }
}

function hintFor(code: unknown, msg: string, schema: string): string | undefined {
  switch (code) {
    case "28P01":
    case "28000":
      return "Check the user name and password in spec.state.postgres.url, and that pg_hba.conf admits this host (with TLS if it requires it).";
    case "3D000":
      return "Create the database first, or correct its name in the URL.";
    case "42501":
      return `Grant the user USAGE and CREATE on schema ${schema} (or create the tables once as their owner), and SELECT, INSERT, UPDATE, DELETE on them.`;
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "ETIMEDOUT":
      return "Check the host and port in spec.state.postgres.url and that the server is running.";
    default:
      if (/self[- ]signed|certificate|unable to verify|altnames/i.test(msg)) {
        return "The server's certificate was not accepted: set spec.state.postgres.caFile to its CA, or use sslmode verify-ca if the host name differs from the certificate's.";
      }
      if (/does not support SSL/i.test(msg)) return "The server has no TLS: use sslmode prefer or disable, or enable TLS on the server.";
      return undefined;
  }
}
