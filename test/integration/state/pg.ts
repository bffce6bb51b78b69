import { randomBytes } from "node:crypto";
import pg from "pg";
import { PostgresStateBackend, type PostgresBackendOptions } from "../../../src/state/index.js";

/** The PostgreSQL server the tests use; `.ci/run` starts one and sets it. */
export const PG_URL = process.env.STSORG_TEST_PG_URL ?? "";

/** True (and the reason said once per file) when no server is configured. */
export function pgUnavailable(file: string): boolean {
  if (PG_URL !== "") return false;
  console.warn(`${file}: PostgreSQL state backend tests SKIPPED: STSORG_TEST_PG_URL is not set (e.g. postgres://user:pass@127.0.0.1:5432/db; .ci/run starts a server and sets it).`);
  return true;
}

/** A schema of its own per test file, so files running at once do not meet. */
export function testSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(3).toString("hex")}`;
}

export function uniqueEnv(prefix = "env"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export function pgBackend(opts: Partial<PostgresBackendOptions> & { schema: string; environment: string }): PostgresStateBackend {
  return new PostgresStateBackend({ url: PG_URL, sslmode: "disable", ...opts });
}

export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  if (PG_URL === "") return;
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
