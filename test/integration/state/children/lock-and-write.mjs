// One "apply" against a shared state: take the lock, read, hold it a while, write serial + 1.
// Prints JSON lines; exit 0 when it wrote, 3 when it was refused.
const dist = process.env.STSORG_DIST;
const input = JSON.parse(process.env.STSORG_CHILD_INPUT);
const { PostgresStateBackend, HttpStateBackend, withLock } = await import(`${dist}/state/index.js`);

const backend =
  input.kind === "postgres"
    ? new PostgresStateBackend({ url: input.url, schema: input.schema, environment: input.environment, sslmode: "disable" })
    : new HttpStateBackend({ address: input.address });
const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");

// Both children start at the same moment.
await new Promise((r) => setTimeout(r, Math.max(0, input.startAt - Date.now())));
try {
  await withLock(backend, { operation: "apply", who: input.who, ttlMs: 30_000 }, async (lock) => {
    say({ event: "locked", id: lock.ID, who: input.who });
    const state = await backend.read();
    await new Promise((r) => setTimeout(r, input.holdMs));
    const next = { ...state, serial: state.serial + 1, resources: state.resources.map((r) => ({ ...r, name: input.who })) };
    await backend.write(next, { lineage: state.lineage, serial: state.serial, lockId: lock.ID });
    say({ event: "wrote", serial: next.serial, who: input.who });
  });
  await backend.close?.();
  process.exitCode = 0;
} catch (e) {
  say({ event: "refused", name: e.name, message: e.message, who: input.who });
  await backend.close?.();
  process.exitCode = 3;
}
