import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";
import { parseStateArgs } from "../../../src/cli/commands/state.js";
import { UsageError } from "../../../src/errors/index.js";
import { startStateHttpServer, type StateHttpServer } from "../../../src/sandbox/statehttp/index.js";
import { attributesSha256, encodeState, HttpStateBackend, LocalStateBackend, newState, putResource, stateChecksum } from "../../../src/state/index.js";
import { dropSchema, PG_URL, pgBackend, pgUnavailable, testSchema } from "./pg.js";

// The identity of environments/demo.yaml.
const DEMO = { environment: "demo", cvr: "84558958", admin_top_uuid: "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10" };

function demoState(serial = 5) {
  let s = newState({ lineage: "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c", ...DEMO, tool_version: "0.1.0" });
  const unit = { Uuid: "aaaaaaaa-0000-4000-8000-000000000001", Name: "Borgerservice", ParentOrgUnitUuid: DEMO.admin_top_uuid };
  s = putResource(s, {
    address: `orgunit/${unit.Uuid}`, kind: "orgunit", uuid: unit.Uuid, name: unit.Name, attributes: unit, attributes_sha256: attributesSha256(unit),
    applied_at: "2025-02-01T00:00:00.000Z", confirmed: true, origin: "created",
  });
  return { ...s, serial };
}

describe("stsorg state migrate", () => {
  let dir: string;
  let manifest: string;
  let statePath: string;
  let server: StateHttpServer;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "stsorg-migrate-"));
    manifest = join(dir, "environments", "demo.yaml");
    await cp(new URL("../../../environments/demo.yaml", import.meta.url), manifest, { recursive: true });
    statePath = join(dir, ".stsorg", "state", "demo.json");
    await new LocalStateBackend({ path: statePath }).write(demoState(), { lineage: null, serial: null });
    server = await startStateHttpServer({ username: "ci", password: "pw" });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function setState(state: Record<string, unknown>): Promise<void> {
    const doc = parseDocument(await readFile(manifest, "utf8"));
    for (const [k, v] of Object.entries(state)) doc.setIn(["spec", "state", k], v);
    await writeFile(manifest, doc.toString());
  }

  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const io = memoryIo({ cwd: dir, env });
    const code = await run(["state", ...args, "-e", manifest], io);
    return { code, out: io.out(), err: io.err() };
  };

  it("copies a local state into the HTTP backend the manifest names, same lineage and serial, verified by reading it back", async () => {
    await setState({ backend: "http", http: { address: server.address("demo"), username: "ci", password: "${env:STATE_PW}" } });
    const r = await cli(["migrate", "--to-backend", "http"], { STATE_PW: "pw" });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const want = demoState();
    expect(r.out).toContain(`lineage ${want.lineage}, serial 5, 1 resource(s)`);
    expect(r.out).toContain(`checksum ${stateChecksum(want)} matches`);
    expect(server.stored("/state/demo")).toBe(encodeState(want));
    // Read back after the write, under the lock, and no lock left behind.
    const ops = server.log.map((e) => `${e.method} ${e.op}`);
    expect(ops.lastIndexOf("GET read")).toBeGreaterThan(ops.indexOf("POST write"));
    expect(server.heldLock("/state/demo")).toBeUndefined();
    // The old copy is untouched, and the CLI now reads the new backend.
    expect((await new LocalStateBackend({ path: statePath }).read())!.serial).toBe(5);
    expect((await cli(["list"], { STATE_PW: "pw" })).out).toBe("orgunit/aaaaaaaa-0000-4000-8000-000000000001\n");
    // Running it again finds the state already there.
    expect((await cli(["migrate", "--to-backend", "http"], { STATE_PW: "pw" })).out).toContain("already holds this state");
  });

  it("refuses when the destination holds another state, and leaves both as they were", async () => {
    await setState({ backend: "http", http: { address: server.address("demo"), username: "ci", password: "${env:STATE_PW}" } });
    const other = demoState(9);
    await new HttpStateBackend({ address: server.address("demo"), username: "ci", password: "pw" }).write(other, { lineage: null, serial: null });
    const r = await cli(["migrate", "--to-backend", "http"], { STATE_PW: "pw" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("already holds a state (lineage 0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c, serial 9)");
    expect(server.stored("/state/demo")).toBe(encodeState(other));
  });

  it("refuses when the manifest does not yet name the new backend", async () => {
    const r = await cli(["migrate", "--to-backend", "http"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('keeps the state in "local"');
    expect(r.err).toContain("spec.state.backend: http");
  });

  it("moves back to a local file from the HTTP backend", async () => {
    await new HttpStateBackend({ address: server.address("demo"), username: "ci", password: "pw" }).write(demoState(7), { lineage: null, serial: null });
    await setState({ backend: "local", path: "state/new-demo.json", http: { address: server.address("demo"), username: "ci", password: "${env:STATE_PW}" } });
    const r = await cli(["migrate", "--to-backend", "local", "--from-backend", "http"], { STATE_PW: "pw" });
    expect(r.code).toBe(0);
    expect((await new LocalStateBackend({ path: join(dir, "state", "new-demo.json") }).read())!.serial).toBe(7);
  });

  it.skipIf(pgUnavailable("test/integration/state/migrate.test.ts"))("copies a local state into PostgreSQL, with the URL from a secret reference", async () => {
    const schema = testSchema("stsorg_migrate");
    try {
      await setState({ backend: "postgres", postgres: { url: "${env:PG_URL}", schema, sslmode: "disable" } });
      const r = await cli(["migrate", "--to-backend", "postgres", "--from-path", ".stsorg/state/demo.json"], { PG_URL });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const pwd = decodeURIComponent(new URL(PG_URL).password);
      if (pwd !== "") expect(r.out).not.toContain(pwd);
      const b = pgBackend({ schema, environment: "demo" });
      expect(await b.read()).toEqual(demoState());
      await b.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("parses its arguments: --to-backend needed, --from-path means a local source, same backend refused", () => {
    expect(parseStateArgs({ subcommand: "migrate", "to-backend": "postgres" })).toEqual({ action: "migrate", to: "postgres", from: "local" });
    expect(parseStateArgs({ subcommand: "migrate", "to-backend": "local", "from-path": "old.json" })).toEqual({ action: "migrate", to: "local", from: "local", fromPath: "old.json" });
    expect(() => parseStateArgs({ subcommand: "migrate" })).toThrow(UsageError);
    expect(() => parseStateArgs({ subcommand: "migrate", "to-backend": "http", "from-backend": "http" })).toThrow(/same backend/);
    expect(() => parseStateArgs({ subcommand: "migrate", "to-backend": "http", "from-backend": "postgres", "from-path": "x" })).toThrow(UsageError);
  });
});
