import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";
import { parseStateArgs, pushedState, runState } from "../../../src/cli/commands/state.js";
import { LockError, StateError, UsageError } from "../../../src/errors/index.js";
import { hashCpr } from "../../../src/model/index.js";
import { attributesSha256, LocalStateBackend, MemoryStateBackend, newState, putResource } from "../../../src/state/index.js";

const LINEAGE = "0b8f6e2c-1d2e-4f3a-9b4c-5d6e7f8a9b0c";
// The identity of environments/demo.yaml.
const DEMO = { environment: "demo", cvr: "84558958", admin_top_uuid: "3f0a9c52-7d4e-4b8a-9e61-2c5d8b7a4f10" };
const UNIT = "aaaaaaaa-0000-4000-8000-000000000001";
const USER = "bbbbbbbb-0000-4000-8000-000000000001";

function demoState() {
  let s = newState({ lineage: LINEAGE, ...DEMO, tool_version: "0.1.0" });
  const unit = { Uuid: UNIT, Name: "Borgerservice", ParentOrgUnitUuid: DEMO.admin_top_uuid };
  const user = { Uuid: USER, UserId: "anje", Positions: [{ Name: "Sagsbehandler", OrgUnitUuid: UNIT }], Person: { Name: "Anna Jensen", Cpr: hashCpr("0101011234", "k") } };
  for (const [kind, attrs, name] of [["orgunit", unit, unit.Name], ["user", user, "Anna Jensen (anje)"]] as const) {
    s = putResource(s, {
      address: `${kind}/${attrs.Uuid}`, kind, uuid: attrs.Uuid, name, attributes: attrs, attributes_sha256: attributesSha256(attrs),
      applied_at: "2025-02-01T00:00:00.000Z", confirmed: true, origin: "created",
    });
  }
  return s;
}

describe("stsorg state (through the CLI, local backend)", () => {
  let dir: string;
  let manifest: string;
  let statePath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "stsorg-statecli-"));
    await cp(new URL("../../../environments/demo.yaml", import.meta.url), join(dir, "environments", "demo.yaml"), { recursive: true });
    manifest = join(dir, "environments", "demo.yaml");
    statePath = join(dir, ".stsorg", "state", "demo.json");
    await new LocalStateBackend({ path: statePath }).write(demoState(), { lineage: null, serial: null });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const cli = async (args: string[], stdin?: string[]) => {
    const io = memoryIo({ cwd: dir, stdin });
    const code = await run(["state", ...args, "-e", manifest], io);
    return { code, out: io.out(), err: io.err() };
  };

  it("lists the managed addresses", async () => {
    expect(await cli(["list"])).toEqual({ code: 0, out: `orgunit/${UNIT}\nuser/${USER}\n`, err: "" });
  });

  it("shows one object with its CPR hidden", async () => {
    const { code, out } = await cli(["show", `user/${USER}`]);
    expect(code).toBe(0);
    expect(out).toContain('user "Anna Jensen (anje)"');
    expect(out).toMatch(/Person\.Cpr\s+= \(sensitive value\)/);
    expect(out).not.toContain("hmac-sha256");
    expect((await cli(["show", "orgunit/cccccccc-0000-4000-8000-000000000009"])).err).toContain("No resource orgunit/cccccccc-0000-4000-8000-000000000009 in state");
  });

  it("pulls the state as stored, and pushing it back unchanged is a no-op", async () => {
    const pulled = await cli(["pull"]);
    expect(pulled.out).toBe(await readFile(statePath, "utf8"));
    await writeFile(join(dir, "pulled.json"), pulled.out);
    const pushed = await cli(["push", "pulled.json"]);
    expect(pushed).toMatchObject({ code: 0, out: expect.stringContaining("nothing to push") });
  });

  it("rm forgets an object and raises the serial", async () => {
    const { code, out } = await cli(["rm", `orgunit/${UNIT}`]);
    expect(code).toBe(0);
    expect(out).toContain(`Removed orgunit/${UNIT}`);
    const state = (await new LocalStateBackend({ path: statePath }).read())!;
    expect(state.resources.map((r) => r.address)).toEqual([`user/${USER}`]);
    expect(state.serial).toBe(3);
    // Waits for no lock it does not need, and leaves none behind.
    expect(await new LocalStateBackend({ path: statePath }).currentLock()).toBeNull();
  });

  it("refuses rm while another run holds the lock, naming it", async () => {
    const held = await new LocalStateBackend({ path: statePath }).lock({ operation: "apply", who: "ci@runner", ttlMs: 600_000 });
    const { code, err } = await cli(["rm", `orgunit/${UNIT}`]);
    expect(code).toBe(1);
    expect(err).toContain("state is locked");
    expect(err).toContain(held.ID);
    expect(err).toContain("ci@runner");
  });

  it("unlock asks for confirmation and accepts only 'yes'", async () => {
    const held = await new LocalStateBackend({ path: statePath }).lock({ operation: "apply", who: "ci@runner", ttlMs: 600_000 });
    const no = await cli(["unlock", held.ID], ["y"]);
    expect(no.code).toBe(1);
    expect(no.err).toContain("Only 'yes' will be accepted");
    expect((await new LocalStateBackend({ path: statePath }).currentLock())!.ID).toBe(held.ID);
    const noTty = await cli(["unlock", held.ID]);
    expect(noTty.code).toBe(1);
    expect(noTty.err).toContain("--force");
    const yes = await cli(["unlock", held.ID], ["yes"]);
    expect(yes.code).toBe(0);
    expect(await new LocalStateBackend({ path: statePath }).currentLock()).toBeNull();
  });

  it("unlock --force does not ask; a wrong ID is refused", async () => {
    const held = await new LocalStateBackend({ path: statePath }).lock({ operation: "apply", who: "ci@runner", ttlMs: 600_000 });
    const wrong = await cli(["unlock", "nope", "--force"]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(held.ID);
    expect((await cli(["unlock", held.ID, "--force"])).code).toBe(0);
  });

  it("rejects a bad address before touching anything", async () => {
    const { code, err } = await cli(["rm", "Borgerservice"]);
    expect(code).toBe(1);
    expect(err).toContain('"Borgerservice" is not a resource address');
  });
});

describe("state push", () => {
  const memory = async () => {
    const backend = new MemoryStateBackend();
    await backend.write(demoState(), { lineage: null, serial: null });
    return backend;
  };

  it("stores a newer serial of the same lineage as it is", () => {
    const current = demoState();
    const newer = { ...current, serial: current.serial + 3 };
    expect(pushedState(newer, current, false)).toBe(newer);
  });

  it("refuses another lineage or an older serial unless forced; forced, the serial still rises", () => {
    const current = { ...demoState(), serial: 10 };
    const other = { ...current, lineage: "11111111-1111-4111-8111-111111111111", serial: 4 };
    expect(() => pushedState(other, current, false)).toThrow(/lineage/);
    expect(pushedState(other, current, true)).toMatchObject({ lineage: other.lineage, serial: 11 });
    const older = { ...current, serial: 9 };
    expect(() => pushedState(older, current, false)).toThrow(/already at serial 10/);
    expect(pushedState(older, current, true).serial).toBe(11);
    const sameSerialOtherContent = { ...current, resources: [] };
    expect(() => pushedState(sameSerialOtherContent, current, false)).toThrow(StateError);
  });

  it("refuses a state of another environment even with --force", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stsorg-push-"));
    try {
      const backend = await memory();
      const other = { ...demoState(), environment: "prod", serial: 5 };
      await writeFile(join(dir, "prod.json"), JSON.stringify(other));
      const io = memoryIo({ cwd: dir });
      await expect(runState({ action: "push", file: "prod.json", force: true }, { backend, io, environment: "demo" })).rejects.toThrow(/environment prod/);
      expect((await backend.read())!.serial).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a damaged file, and accepts a hand-edited one without a checksum", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stsorg-push-"));
    try {
      const backend = await memory();
      const io = memoryIo({ cwd: dir });
      await writeFile(join(dir, "bad.json"), "{\"format_version\": 1,");
      await expect(runState({ action: "push", file: "bad.json", force: false }, { backend, io, environment: "demo" })).rejects.toThrow(/not valid JSON/);
      const edited = { ...demoState(), serial: 3, resources: demoState().resources.slice(1) };
      await writeFile(join(dir, "edited.json"), JSON.stringify(edited));
      expect(await runState({ action: "push", file: "edited.json", force: false }, { backend, io, environment: "demo" })).toBe(0);
      expect((await backend.read())!.resources).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("parseStateArgs", () => {
  it("needs the right argument for each subcommand", () => {
    expect(parseStateArgs({ subcommand: "list" })).toEqual({ action: "list" });
    expect(parseStateArgs({ subcommand: "show", target: `ORGUNIT/${UNIT.toUpperCase()}`.replace("ORGUNIT", "orgunit") })).toEqual({ action: "show", address: `orgunit/${UNIT}` });
    expect(parseStateArgs({ subcommand: "unlock", target: "abc", force: true })).toEqual({ action: "unlock", id: "abc", force: true });
    expect(() => parseStateArgs({ subcommand: "rm" })).toThrow(UsageError);
    expect(() => parseStateArgs({ subcommand: "list", target: "x" })).toThrow(UsageError);
  });

  it("unlock of an unlocked state is an error", async () => {
    await expect(runState({ action: "unlock", id: "x", force: true }, { backend: new MemoryStateBackend(), io: memoryIo(), environment: "t" })).rejects.toBeInstanceOf(LockError);
  });
});
