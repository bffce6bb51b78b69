import { mkdtemp, readdir, readFile, rm, writeFile, copyFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateError } from "../../../src/errors/index.js";
import { canonicalJson } from "../../../src/model/index.js";
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
