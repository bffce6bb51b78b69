import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIo } from "../../../src/cli/io.js";
import { run } from "../../../src/cli/main.js";
import { readMoSnapshot } from "../../../src/sources/os2mo/index.js";
import { TINY_TODAY, tinyFixture, U } from "../../fixtures/os2mo/tiny.js";

describe("stsorg sandbox os2mo", () => {
  it("serves a fixture file, prints its URLs and credentials, and stops on SIGINT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stsorg-os2mo-"));
    const file = join(dir, "tiny.json");
    writeFileSync(file, JSON.stringify(tinyFixture()));
    let stop: ((s: "SIGINT" | "SIGTERM") => void) | undefined;
    const io = memoryIo({ env: { MO_SECRET: "s3cret-from-env" }, onSignal: (h) => ((stop = h), () => (stop = undefined)) });
    const exit = run(["sandbox", "os2mo", "--port", "0", "--fixture", file, "--client-secret-env", "MO_SECRET", "--today", TINY_TODAY], io);
    while (!io.out().includes("admin API")) await new Promise((r) => setTimeout(r, 20));

    const out = io.out();
    expect(out).not.toContain("s3cret-from-env");
    expect(out).toContain("client:    id stsorg, secret the value of $MO_SECRET");
    const url = /listening on (\S+)/.exec(out)?.[1] as string;
    expect(out).toContain(`GraphQL:   ${url}/graphql/v25`);
    const { snapshot } = await readMoSnapshot(
      {
        url,
        graphqlVersion: 25,
        auth: { authServer: `${url}/auth`, realm: "mo", clientId: "stsorg", clientSecret: { ref: "${env:MO_SECRET}", source: "env", name: "MO_SECRET" } },
        pageSize: 1000,
        timeoutMs: 5000,
        clientSecret: "s3cret-from-env",
      },
      { topUnitUuid: U(1), today: TINY_TODAY },
    );
    expect(snapshot.orgUnits).toHaveLength(5);

    stop?.("SIGINT");
    expect(await exit).toBe(0);
    expect(io.err()).toContain("OS2mo sandbox stopped (SIGINT)");
  });

  it("refuses to start without data", async () => {
    const io = memoryIo();
    expect(await run(["sandbox", "os2mo", "--port", "0"], io)).toBe(1);
    expect(io.err()).toContain("the OS2mo sandbox needs data: --fixture FILE or --size small|medium|large");
  });
});
