import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startOs2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { Os2syncClient } from "../../../src/targets/os2sync/index.js";
import { CVR, eventually, unit, user, uuid } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "stsorg-os2sync-"));
  dirs.push(dir);
  return join(dir, "fk.json");
}

describe("persistence of the sandbox FK", () => {
  it("a restarted sandbox on the same data file sees what the previous one wrote", async () => {
    const file = tempFile();
    const first = await startOs2syncSandbox({ cvr: CVR, dataFile: file, queueDelayMs: 0, queueIntervalMs: 10 });
    const c1 = new Os2syncClient({ url: first.url, cvr: CVR });
    await c1.upsertOrgUnit(unit(1));
    await c1.upsertUser(user(1, 1));
    await eventually(() => c1.getUser(uuid(1, "b")));
    await c1.deleteOrgUnit(uuid(9, "a"));
    await eventually(async () => (first.queue.stats().pending === 0 ? true : undefined));
    await first.stop();

    const second = await startOs2syncSandbox({ cvr: CVR, dataFile: file });
    try {
      const c2 = new Os2syncClient({ url: second.url, cvr: CVR });
      expect(await c2.listOrgUnits()).toEqual([uuid(1, "a")]);
      expect(await c2.getUser(uuid(1, "b"))).toMatchObject({ UserId: "user1" });
      // OS2sync's failure table survives too (the DELETE of an unknown unit).
      expect(second.queue.failureList()).toMatchObject([{ uuid: uuid(9, "a"), status: 44 }]);
    } finally {
      await second.stop();
    }
    expect(readdirSync(join(file, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ format_version: 1 });
  });

  it("work still queued at stop is applied by the next sandbox, as OS2sync's database queue would be", async () => {
    const file = tempFile();
    const first = await startOs2syncSandbox({ cvr: CVR, dataFile: file, queueDelayMs: 60_000 });
    await new Os2syncClient({ url: first.url, cvr: CVR }).upsertOrgUnit(unit(1));
    await first.stop();
    const second = await startOs2syncSandbox({ cvr: CVR, dataFile: file, queueDelayMs: 0, queueIntervalMs: 10 });
    try {
      const c = new Os2syncClient({ url: second.url, cvr: CVR });
      expect(await eventually(() => c.getOrgUnit(uuid(1, "a")))).toMatchObject({ Name: "Enhed 1" });
    } finally {
      await second.stop();
    }
  });

  it("reports a data file that is not valid JSON", async () => {
    const file = tempFile();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, "{not json");
    await expect(startOs2syncSandbox({ dataFile: file })).rejects.toThrow(/fk\.json is not valid JSON/);
  });
});
