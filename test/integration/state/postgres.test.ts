import { afterAll, describe, expect, it } from "vitest";
import { StateError } from "../../../src/errors/index.js";
import { PostgresStateBackend, StateLockedError, type StateBackend } from "../../../src/state/index.js";
import { backendConformance, sampleState, TEST_IDENTITY } from "../../unit/state/conformance.js";
import { dropSchema, PG_URL, pgBackend, pgUnavailable, sql, testSchema, uniqueEnv } from "./pg.js";

const skip = pgUnavailable("test/integration/state/postgres.test.ts");
const SCHEMA = testSchema("stsorg_pgtest");

afterAll(() => dropSchema(SCHEMA));

describe.skipIf(skip)("postgres backend", () => {
  backendConformance("postgres", ({ now }) => {
    const environment = uniqueEnv("conf");
    const handles: StateBackend[] = [];
    return {
      open: (opts) => {
        const b = pgBackend({ schema: SCHEMA, environment, now, identity: opts?.identity });
        handles.push(b);
        return b;
      },
      corrupt: async () => {
        await sql(`UPDATE "${SCHEMA}"."states" SET state = left(state, 40) WHERE environment = $1`, [environment]);
      },
      cleanup: async () => {
        await Promise.all(handles.map((h) => h.close?.()));
      },
    };
  });

  it("creates the schema and both tables on first use, with quoted names", async () => {
    const schema = testSchema("Odd Name");
    const b = pgBackend({ schema, table: 'st"ates', environment: "test" });
    try {
      expect(await b.read()).toBeNull();
      const tables = await sql<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(['st"ates', 'st"ates_journal', 'st"ates_locks']);
      await b.write(sampleState(), { lineage: null, serial: null });
      expect((await b.read())!.serial).toBe(1);
    } finally {
      await b.close();
      await dropSchema(schema);
    }
  });

  it("stores one row per environment: lineage, serial, checksum and the state text", async () => {
    const environment = uniqueEnv();
    const b = pgBackend({ schema: SCHEMA, environment });
    try {
      const s = sampleState();
      await b.write(s, { lineage: null, serial: null });
      const rows = await sql<{ lineage: string; serial: string; checksum: string; state: string }>(
        `SELECT lineage, serial, checksum, state FROM "${SCHEMA}".states WHERE environment = $1`,
        [environment],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ lineage: s.lineage, serial: "1" });
      expect(JSON.parse(rows[0]!.state)).toMatchObject({ lineage: s.lineage, checksum: rows[0]!.checksum });
    } finally {
      await b.close();
    }
  });

  it("keeps interim versions as journal rows beside an unchanged row, and empties them with the next whole write", async () => {
    const environment = uniqueEnv();
    const b = pgBackend({ schema: SCHEMA, environment, identity: TEST_IDENTITY });
    const other = pgBackend({ schema: SCHEMA, environment, identity: TEST_IDENTITY });
    try {
      let s = sampleState();
      await b.write(s, { lineage: null, serial: null });
      for (const name of ["Second", "Third"]) {
        const r = s.resources[0]!;
        const next = { ...s, serial: s.serial + 1, resources: [{ ...r, name }] };
        await b.write(next, { lineage: s.lineage, serial: s.serial }, { interim: true });
        s = next;
      }
      const journal = () => sql<{ serial: string }>(`SELECT serial FROM "${SCHEMA}".states_journal WHERE environment = $1 ORDER BY serial`, [environment]);
      const row = () => sql<{ serial: string }>(`SELECT serial FROM "${SCHEMA}".states WHERE environment = $1`, [environment]);
      expect((await journal()).map((j) => j.serial)).toEqual(["2", "3"]);
      expect((await row())[0]!.serial).toBe("1");
      expect(await other.read()).toEqual(s);
      // A stale writer is refused against the journal's version, not the row's.
      await expect(other.write({ ...sampleState(), serial: 2 }, { lineage: s.lineage, serial: 1 })).rejects.toThrow(/serial 3, but lineage .* serial 1 was expected/);
      const whole = { ...s, serial: 4 };
      await other.write(whole, { lineage: s.lineage, serial: 3 });
      expect(await journal()).toEqual([]);
      expect((await row())[0]!.serial).toBe("4");
      expect(await b.read()).toEqual(whole);
    } finally {
      await b.close();
      await other.close();
    }
  });

  it("refuses a damaged journal row, naming it", async () => {
    const environment = uniqueEnv();
    const b = pgBackend({ schema: SCHEMA, environment });
    try {
      const s = sampleState();
      await b.write(s, { lineage: null, serial: null });
      await b.write({ ...s, serial: 2, resources: [{ ...s.resources[0]!, name: "Second" }] }, { lineage: s.lineage, serial: 1 }, { interim: true });
      await sql(`UPDATE "${SCHEMA}".states_journal SET line = replace(line, '"Second"', '"Edited"') WHERE environment = $1`, [environment]);
      const err = (await b.read().catch((e: unknown) => e)) as StateError;
      expect(err).toBeInstanceOf(StateError);
      expect(err.message).toBe(`State journal "${SCHEMA}"."states_journal" row 1 (by serial) of environment "${environment}" is damaged: it does not match its checksum; the state was not used.`);
      expect(err.hint).toContain(`delete this environment's rows from "${SCHEMA}"."states_journal"`);
    } finally {
      await b.close();
    }
  });

  it("adds the journal table to tables made before it existed", async () => {
    const schema = testSchema("stsorg_pgold");
    const environment = uniqueEnv();
    const first = pgBackend({ schema, environment });
    await first.write(sampleState(), { lineage: null, serial: null });
    await first.close();
    await sql(`DROP TABLE "${schema}".states_journal`);
    const b = pgBackend({ schema, environment });
    try {
      const s = (await b.read())!;
      await b.write({ ...s, serial: 2 }, { lineage: s.lineage, serial: 1 }, { interim: true });
      expect(await sql(`SELECT serial FROM "${schema}".states_journal WHERE environment = $1`, [environment])).toHaveLength(1);
    } finally {
      await b.close();
      await dropSchema(schema);
    }
  });

  it("refuses a row whose columns disagree with the stored state", async () => {
    const environment = uniqueEnv();
    const b = pgBackend({ schema: SCHEMA, environment, identity: TEST_IDENTITY });
    try {
      await b.write(sampleState(), { lineage: null, serial: null });
      await sql(`UPDATE "${SCHEMA}".states SET serial = 7 WHERE environment = $1`, [environment]);
      await expect(b.read()).rejects.toThrow(/does not agree with its own row/);
    } finally {
      await b.close();
    }
  });

  it("of many handles locking at once exactly one gets the lock", async () => {
    const environment = uniqueEnv();
    const handles = Array.from({ length: 6 }, () => pgBackend({ schema: SCHEMA, environment }));
    try {
      const results = await Promise.allSettled(handles.map((h, i) => h.lock({ operation: "apply", who: `u${i}@h`, ttlMs: 60_000 })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(StateLockedError);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it("never prints the password: connection errors name the URL with *** instead", async () => {
    const u = new URL(PG_URL);
    u.password = "s3cret-Pa55word";
    u.username = "no_such_user_x";
    const b = pgBackend({ schema: SCHEMA, environment: "test", url: u.toString() });
    const err = (await b.read().catch((e: unknown) => e)) as StateError;
    await b.close();
    expect(err).toBeInstanceOf(StateError);
    expect(err.message).not.toContain("s3cret-Pa55word");
    expect(err.message).toContain("no_such_user_x:***@");
    expect(err.hint).toMatch(/user name and password/);
  });

  it("describes itself by the reference until the secret is resolved, and never shows the password", async () => {
    const b = pgBackend({ schema: SCHEMA, environment: "test", url: async () => PG_URL, label: "${env:STSORG_PG_URL}" });
    expect(b.describe()).toContain("${env:STSORG_PG_URL}");
    await b.read();
    const password = decodeURIComponent(new URL(PG_URL).password);
    if (password !== "") expect(b.describe()).not.toContain(password);
    expect(b.describe()).toContain(new URL(PG_URL).hostname);
    await b.close();
  });
});

describe.skipIf(skip)("postgres backend TLS modes against a server without TLS", () => {
  const urlWith = (mode: string) => {
    const u = new URL(PG_URL);
    u.searchParams.set("sslmode", mode);
    return u.toString();
  };
  it("prefer (libpq's default) falls back to a plain connection; require refuses with a hint", async () => {
    const plainOk = await sql<{ ssl: boolean }>("SELECT current_setting('ssl') = 'on' AS ssl");
    if (plainOk[0]!.ssl) return; // the server has TLS: nothing to fall back from
    const prefer = new PostgresStateBackend({ url: urlWith("prefer"), schema: SCHEMA, environment: uniqueEnv() });
    expect(await prefer.read()).toBeNull();
    await prefer.close();
    const require = new PostgresStateBackend({ url: PG_URL, sslmode: "require", schema: SCHEMA, environment: uniqueEnv() });
    const err = (await require.read().catch((e: unknown) => e)) as StateError;
    await require.close();
    expect(err).toBeInstanceOf(StateError);
    expect(err.message).toMatch(/does not support SSL/);
    expect(err.hint).toMatch(/sslmode prefer or disable/);
  });
});
