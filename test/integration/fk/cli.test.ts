import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";

const DEMO = fileURLToPath(new URL("../../../environments/demo.yaml", import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stsorg-fk-cli-"));
  mkdirSync(join(dir, "environments"));
  copyFileSync(DEMO, join(dir, "environments", "demo.yaml"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ cwd: dir, env: {} });
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("--refresh fk in the demo environment", () => {
  it("reads the embedded FK through its GraphQL sandbox and plans what --refresh full plans", async () => {
    // Put the demo's organisation into the sandbox FK first, so the plans compare a populated FK.
    const applied = await cli(["apply", "-e", "demo", "--auto-approve", "--refresh", "full"]);
    expect(applied.code, applied.err).toBe(0);
    const viaFk = await cli(["plan", "-e", "demo", "--refresh", "fk", "--format", "json"]);
    const viaFull = await cli(["plan", "-e", "demo", "--refresh", "full", "--format", "json"]);
    expect(viaFk.err).toMatch(/FK Organisation read: \d+ org units, \d+ users/);
    expect([viaFk.code, viaFull.code]).toEqual([0, 0]);
    const fk = JSON.parse(viaFk.out) as { refresh?: { mode?: string }; changes?: unknown[] };
    const full = JSON.parse(viaFull.out) as { changes?: unknown[] };
    expect(JSON.stringify(fk)).toContain('"fk"');
    const human = await cli(["plan", "-e", "demo", "--refresh", "fk"]);
    expect(human.out).toMatch(/^Refresh: fk \(read at /m);
    expect(fk.changes).toEqual(full.changes);
  }, 60_000);

});
