import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { change, cleanup, cli, lineOf, project, REPO } from "./helpers.js";

const TEST = readFileSync(join(REPO, "environments/test.yaml"), "utf8");
const PROD = readFileSync(join(REPO, "environments/prod.yaml"), "utf8");
const SECRETS = { STSORG_FOCES_PASSWORD: "x", STSORG_MO_SECRET: "x", STSORG_OS2SYNC_APIKEY: "x" };

/** The seed guide: test and prod UUIDs differ, and one of test's must never reach prod. */
describe("a prod manifest carrying a uuid of the test manifest next to it", () => {
  afterAll(cleanup);

  it("is refused by validate, naming the field, its line and the test manifest", async () => {
    const testTop = /adminTopUuid: (\S+)/.exec(TEST)![1]!;
    const prod = change(PROD, /adminTopUuid: (\S+)/.exec(PROD)![0], `adminTopUuid: ${testTop}`);
    const dir = project({ test: TEST, prod });
    const r = await cli(["validate", "-e", "prod", "--offline"], { cwd: dir, env: SECRETS });
    expect(r.code).toBe(1);
    expect(r.out + r.err).toContain(`environments/prod.yaml:${lineOf(prod, "adminTopUuid:")}:`);
    expect(r.out + r.err).toContain(`STS top unit uuid ${testTop} is the test environment's (the STS top unit uuid in test.yaml)`);
    // plan refuses it too, before anything is contacted.
    const plan = await cli(["plan", "-e", "prod"], { cwd: dir, env: SECRETS });
    expect(plan.code).toBe(1);
    expect(plan.err).toContain("is the test environment's");
  });

  it("is not refused for a uuid test.yaml does not hold, nor is a test manifest checked against prod", async () => {
    const dir = project({ test: TEST, prod: PROD });
    expect((await cli(["validate", "-e", "prod", "--offline"], { cwd: dir, env: SECRETS })).code).toBe(0);
    const testWithProdTop = change(TEST, /adminTopUuid: (\S+)/.exec(TEST)![0], `adminTopUuid: ${/adminTopUuid: (\S+)/.exec(PROD)![1]!}`);
    const other = project({ test: testWithProdTop, prod: PROD });
    const r = await cli(["validate", "-e", "test", "--offline"], { cwd: other, env: SECRETS });
    expect(r.out + r.err).not.toContain("is the test environment's");
  });
});
