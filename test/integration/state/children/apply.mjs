// An apply of a saved plan against the OS2sync sandbox, with the state in PostgreSQL; the parent kills
// it with SIGKILL part way. Prints a JSON line when it holds the lock.
const dist = process.env.STSORG_DIST;
const input = JSON.parse(process.env.STSORG_CHILD_INPUT);
const { PostgresStateBackend, withLock } = await import(`${dist}/state/index.js`);
const { applyPlan } = await import(`${dist}/apply/index.js`);
const { Os2syncClient } = await import(`${dist}/targets/os2sync/index.js`);

const backend = new PostgresStateBackend({ url: input.url, schema: input.schema, environment: input.environment, sslmode: "disable", identity: input.identity });
const writer = new Os2syncClient({ url: input.os2syncUrl, cvr: input.cvr, concurrency: 2, retries: 0 });
await withLock(backend, { operation: "apply", who: "ci@doomed-runner", ttlMs: input.ttlMs }, async (lock) => {
  process.stdout.write(JSON.stringify({ event: "locked", id: lock.ID }) + "\n");
  const result = await applyPlan(input.plan, { backend, writer, lockId: lock.ID, parallelism: 2, journalBatchSize: 3, maxAttempts: 1 });
  process.stdout.write(JSON.stringify({ event: "finished", added: result.added }) + "\n");
});
await backend.close();
