import { mkdtemp, readdir, readFile, rm, writeFile, copyFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockError, StateError } from "../../../src/errors/index.js";
import { canonicalJson, type StateFile } from "../../../src/model/index.js";
import { attributesSha256, encodeState, LocalStateBackend, sealResource, StateLockedError, stateChecksum } from "../../../src/state/index.js";
import { backendConformance, sampleState, TEST_IDENTITY } from "./conformance.js";

backendConformance("local file", async ({ now }) => {
  const dir = await mkdtemp(join(tmpdir(), "stsorg-state-"));
  const path = join(dir, "state", "test.json");
  return {
    open: (opts) => new LocalStateBackend({ path, now, identity: opts?.identity }),
    corrupt: async () => {
      const text = await readFile(path, "utf8");
      await writeFile(path, text.slice(0, text.length / 2));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe("local state file", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "stsorg-local-"));
    path = join(dir, "test.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function twoVersions(): Promise<LocalStateBackend> {
    const b = new LocalStateBackend({ path, identity: TEST_IDENTITY });
    const s1 = sampleState();
    await b.write(s1, { lineage: null, serial: null });
    const s2 = { ...s1, serial: 2, resources: [{ ...s1.resources[0]!, name: "Second" }] };
    await b.write(s2, { lineage: s1.lineage, serial: 1 });
    return b;
  }

  it("writes canonical JSON with a checksum of the content, the same bytes for the same state", async () => {
    const b = new LocalStateBackend({ path });
    const s = sampleState();
    await b.write(s, { lineage: null, serial: null });
    const text = await readFile(path, "utf8");
    const doc = JSON.parse(text) as Record<string, unknown>;
    expect(doc.checksum).toBe(stateChecksum(s));
    const { checksum: _c, ...body } = doc;
    expect(canonicalJson(body)).toBe(canonicalJson(s));
    expect(text).toBe(encodeState(JSON.parse(JSON.stringify(s))));
  });

  it("writes a state of thousands of resources whole and byte for byte (written in several batches)", async () => {
    const b = new LocalStateBackend({ path });
    const first = sampleState().resources[0]!;
    const resources = Array.from({ length: 1500 }, (_, i) => {
      const uuid = `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const attributes = { ...first.attributes, Uuid: uuid, Name: `Enhed ${i} æøå` };
      return sealResource({ ...first, address: `orgunit/${uuid}` as typeof first.address, uuid, name: attributes.Name, attributes, attributes_sha256: attributesSha256(attributes) });
    });
    const s = { ...sampleState(), resources };
    await b.write(s, { lineage: null, serial: null });
    const text = await readFile(path, "utf8");
    expect(text).toBe(encodeState(JSON.parse(JSON.stringify(s)) as typeof s));
    expect((await b.read())!.resources).toHaveLength(1500);
  });

  it("keeps the previous version as <path>.backup and leaves no temp files", async () => {
    await twoVersions();
    const backup = JSON.parse(await readFile(path + ".backup", "utf8")) as { serial: number };
    const current = JSON.parse(await readFile(path, "utf8")) as { serial: number };
    expect([backup.serial, current.serial]).toEqual([1, 2]);
    expect((await readdir(dir)).sort()).toEqual(["test.json", "test.json.backup"]);
  });

  it("refuses a truncated file, names the backup, and reads again once the backup is copied back", async () => {
    const b = await twoVersions();
    const text = await readFile(path, "utf8");
    await writeFile(path, text.slice(0, 100));
    const err = await b.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as StateError).message).toMatch(/not valid JSON/);
    expect((err as StateError).hint).toContain(path + ".backup");
    // A damaged file is never silently replaced by a write either.
    await expect(b.write({ ...sampleState(), serial: 3 }, { lineage: sampleState().lineage, serial: 2 })).rejects.toBeInstanceOf(StateError);
    await copyFile(path + ".backup", path);
    expect((await b.read())!.serial).toBe(1);
  });

  it("refuses a hand-edited file by its checksum", async () => {
    const b = await twoVersions();
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace('"Second"', '"Edited"'));
    await expect(b.read()).rejects.toThrow(/does not match its checksum/);
  });

  it("refuses a file that fails the schema even with a matching checksum", async () => {
    const b = new LocalStateBackend({ path });
    const bad = { ...sampleState(), serial: -1 };
    await writeFile(path, canonicalJson({ ...bad, checksum: stateChecksum(bad) }, 2));
    await expect(b.read()).rejects.toThrow(/does not match the state schema: \/serial/);
  });

  it("refuses a state holding a CPR number in clear", async () => {
    const b = new LocalStateBackend({ path });
    const s = sampleState();
    const attributes = { Uuid: "dddddddd-0000-4000-8000-000000000004", UserId: "anje", Positions: [], Person: { Name: "Anna", Cpr: "0101011234" } };
    const leaked = { ...s, resources: [...s.resources, { ...s.resources[0]!, address: `user/${attributes.Uuid}` as const, kind: "user" as const, uuid: attributes.Uuid, attributes }] };
    await writeFile(path, canonicalJson({ ...leaked, checksum: stateChecksum(leaked) }, 2));
    await expect(b.read()).rejects.toThrow(/does not match the state schema: \/resources\/1\/attributes/);
    // The same state with the CPR hashed is fine.
    const hashed = { ...leaked, resources: [leaked.resources[0]!, { ...leaked.resources[1]!, attributes: { ...attributes, Person: { Name: "Anna", Cpr: "hmac-sha256:" + "0".repeat(64) } } }] };
    await writeFile(path, canonicalJson({ ...hashed, checksum: stateChecksum(hashed) }, 2));
    expect((await b.read())!.resources).toHaveLength(2);
  });

  it("refuses a state file of another environment, naming both", async () => {
    await twoVersions();
    const prod = new LocalStateBackend({ path, identity: { ...TEST_IDENTITY, environment: "prod", admin_top_uuid: "cccccccc-0000-4000-8000-000000000003" } });
    const err = (await prod.read().catch((e: unknown) => e)) as StateError;
    expect(err.message).toContain('environment "test" (the manifest is "prod")');
    expect(err.message).toContain("adminTopUuid aaaaaaaa-0000-4000-8000-000000000001");
  });

  it("keeps the lock in <path>.lock; of two processes locking at once exactly one gets it", async () => {
    const handles = Array.from({ length: 6 }, () => new LocalStateBackend({ path }));
    const results = await Promise.allSettled(handles.map((h, i) => h.lock({ operation: "apply", who: `u${i}@h`, ttlMs: 60_000 })));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(StateLockedError);
    const onDisk = JSON.parse(await readFile(path + ".lock", "utf8")) as { ID: string };
    expect(onDisk.ID).toBe((won[0] as PromiseFulfilledResult<{ ID: string }>).value.ID);
  });

  it("treats an unreadable lock file as expired", async () => {
    await writeFile(path + ".lock", "{");
    const lock = await new LocalStateBackend({ path }).lock({ operation: "apply", who: "a@h", ttlMs: 1000 });
    expect(lock.TakenOver?.ID).toBe("unreadable");
  });

  it("recovers from a mutex file left by a crashed process", async () => {
    await writeFile(path + ".mutex", "12345\n");
    const old = new Date(Date.now() - 120_000);
    await utimes(path + ".mutex", old, old);
    await new LocalStateBackend({ path }).write(sampleState(), { lineage: null, serial: null });
    expect((await readdir(dir)).sort()).toEqual(["test.json"]);
  });
});

describe("local state journal (interim writes)", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "stsorg-journal-"));
    path = join(dir, "test.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function renamed(s: StateFile, name: string): StateFile {
    const r = s.resources[0]!;
    const attributes = { ...r.attributes, Name: name };
    return { ...s, serial: s.serial + 1, resources: [{ ...r, name, attributes, attributes_sha256: attributesSha256(attributes) }] };
  }

  /** A whole first version, then `interim` versions written as interim writes; returns all versions. */
  async function versions(b: LocalStateBackend, interim: number): Promise<StateFile[]> {
    const all = [sampleState()];
    await b.write(all[0]!, { lineage: null, serial: null });
    for (let i = 0; i < interim; i++) {
      const prev = all[all.length - 1]!;
      const next = renamed(prev, `Version ${prev.serial + 1}`);
      await b.write(next, { lineage: prev.lineage, serial: prev.serial }, { interim: true });
      all.push(next);
    }
    return all;
  }

  const lines = async () => (await readFile(path + ".journal", "utf8")).split("\n").filter((l) => l !== "");

  it("appends interim writes to <path>.journal and leaves the file; the next whole write folds them in", async () => {
    const b = new LocalStateBackend({ path, identity: TEST_IDENTITY });
    const all = await versions(b, 3);
    const fileBefore = encodeState(all[0]!);
    expect(await readFile(path, "utf8")).toBe(fileBefore);
    expect(await lines()).toHaveLength(3);
    expect(await new LocalStateBackend({ path, identity: TEST_IDENTITY }).read()).toEqual(all[3]);
    const last = all[all.length - 1]!;
    const whole = renamed(last, "Whole");
    await b.write(whole, { lineage: last.lineage, serial: last.serial });
    expect((await readdir(dir)).filter((f) => f.startsWith("test.json")).sort()).toEqual(["test.json", "test.json.backup"]);
    expect(await readFile(path, "utf8")).toBe(encodeState(whole));
    // The backup is the file as it was before: the version before the interim writes.
    expect(await readFile(path + ".backup", "utf8")).toBe(fileBefore);
  });

  it("ignores a last line cut short by a crash, and appends the next write after the whole lines", async () => {
    const b = new LocalStateBackend({ path });
    const all = await versions(b, 2);
    const torn = (await lines())[1]!.slice(0, 40);
    await writeFile(path + ".journal", (await readFile(path + ".journal", "utf8")) + torn);
    const reader = new LocalStateBackend({ path });
    expect(await reader.read()).toEqual(all[2]);
    const next = renamed(all[2]!, "After the crash");
    await reader.write(next, { lineage: next.lineage, serial: all[2]!.serial }, { interim: true });
    expect(await lines()).toHaveLength(3);
    expect(await new LocalStateBackend({ path }).read()).toEqual(next);
  });

  it("refuses a damaged line with its file:line, and does not write over it", async () => {
    const b = new LocalStateBackend({ path });
    const all = await versions(b, 3);
    const text = await readFile(path + ".journal", "utf8");
    await writeFile(path + ".journal", text.replace('"Version 2"', '"Edited 2"'));
    const err = (await new LocalStateBackend({ path }).read().catch((e: unknown) => e)) as StateError;
    expect(err).toBeInstanceOf(StateError);
    expect(err.message).toBe(`State journal ${path}.journal:1 is damaged: it does not match its checksum; the state was not used.`);
    expect(err.hint).toContain("move it away");
    const last = all[3]!;
    await expect(b.write(renamed(last, "x"), { lineage: last.lineage, serial: last.serial }, { interim: true })).rejects.toBeInstanceOf(StateError);
    await expect(b.write(renamed(last, "x"), { lineage: last.lineage, serial: last.serial })).rejects.toBeInstanceOf(StateError);
  });

  it("refuses a journal with a line missing between others", async () => {
    const b = new LocalStateBackend({ path });
    await versions(b, 3);
    const [first, , third] = await lines();
    await writeFile(path + ".journal", `${first}\n${third}\n`);
    await expect(new LocalStateBackend({ path }).read()).rejects.toThrow(`State journal ${path}.journal:2 is damaged: it makes serial 4, but the state before it has serial 2`);
  });

  it("skips lines left over when a crash came between writing the file whole and removing the journal", async () => {
    const b = new LocalStateBackend({ path });
    const all = await versions(b, 2);
    const leftOver = await readFile(path + ".journal");
    const whole = renamed(all[2]!, "Whole");
    await b.write(whole, { lineage: whole.lineage, serial: all[2]!.serial });
    await writeFile(path + ".journal", leftOver);
    const reader = new LocalStateBackend({ path });
    expect(await reader.read()).toEqual(whole);
    const next = renamed(whole, "Next");
    await reader.write(next, { lineage: next.lineage, serial: whole.serial }, { interim: true });
    expect(await lines()).toHaveLength(1);
    expect(await new LocalStateBackend({ path }).read()).toEqual(next);
  });

  it("refuses a journal whose state file is gone", async () => {
    await versions(new LocalStateBackend({ path }), 1);
    await rm(path);
    await expect(new LocalStateBackend({ path }).read()).rejects.toThrow(`State journal ${path}.journal exists, but the state file ${path} does not`);
  });

  it("refuses an interim write once the lock is lost", async () => {
    let t = Date.parse("2025-03-01T10:00:00.000Z");
    const now = () => new Date(t);
    const a = new LocalStateBackend({ path, now });
    const s1 = sampleState();
    await a.write(s1, { lineage: null, serial: null });
    const lock = await a.lock({ operation: "apply", who: "a@h", ttlMs: 1000 });
    const s2 = renamed(s1, "Under the lock");
    await a.write(s2, { lineage: s1.lineage, serial: s1.serial, lockId: lock.ID }, { interim: true });
    t += 5000;
    await new LocalStateBackend({ path, now }).lock({ operation: "apply", who: "b@h", ttlMs: 1000 });
    await expect(a.write(renamed(s2, "Too late"), { lineage: s2.lineage, serial: s2.serial, lockId: lock.ID }, { interim: true })).rejects.toBeInstanceOf(LockError);
    expect(await new LocalStateBackend({ path }).read()).toEqual(s2);
  });
});

