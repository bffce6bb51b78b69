import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { computeDesiredState } from "../../../src/mapping/index.js";
import { canonicalJson, SYNC_POLICY_DEFAULTS, type SyncPolicy } from "../../../src/model/index.js";
import { FIXTURE_KEYS, generateMunicipality, snapshotFromFixture, type MoFixture } from "../../../src/sandbox/fixtures/index.js";

/**
 * The desired state of the small generated municipality, checked in and reviewed by hand. Regenerate
 * only on purpose: `UPDATE_GOLDEN=1 npx vitest run test/golden/mapping`, then review the diff.
 */
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "small-desired.json");
const TODAY = "2026-01-15";
export const GOLDEN_ADMIN_TOP = "5e1f0000-0000-4000-8000-000000000001";

/** A policy that exercises the settings the fixture has data for (class uuids looked up by user_key). */
export function goldenPolicy(fixture: MoFixture): SyncPolicy {
  const facet = new Map(fixture.facets.map((f) => [f.uuid, f.user_key]));
  const cls = (facetKey: string, userKey: string): string => {
    const c = fixture.classes.find((x) => facet.get(x.facet) === facetKey && x.user_key === userKey);
    if (!c) throw new Error(`fixture has no ${facetKey} class ${userKey}`);
    return c.uuid;
  };
  return {
    ...SYNC_POLICY_DEFAULTS,
    topUnitUuid: fixture.topUnitUuid,
    adminTopUuid: GOLDEN_ADMIN_TOP,
    uuidFromItSystems: [FIXTURE_KEYS.itSystems.fkUuid],
    syncManagers: true,
    useContactForTasks: true,
    emailScopeClasses: [cls("employee_address_type", FIXTURE_KEYS.employeeAddress.email)],
    phoneScopeClasses: [cls("employee_address_type", FIXTURE_KEYS.employeeAddress.phone)],
    landlineScopeClasses: [
      cls("employee_address_type", FIXTURE_KEYS.employeeAddress.landline),
      cls("org_unit_address_type", FIXTURE_KEYS.unitAddress.landline),
    ],
    ignoredUnitTypes: [cls("org_unit_type", "Team")],
    employeeEngagementAddress: ["Postadresse"],
  };
}

function desiredJson(): string {
  const fixture = generateMunicipality({ size: "small", seed: 1, today: TODAY });
  const snapshot = snapshotFromFixture(fixture, { today: TODAY });
  const desired = computeDesiredState(snapshot, goldenPolicy(fixture));
  return canonicalJson({ orgUnits: desired.orgUnits, users: desired.users, issues: desired.issues }, 2) + "\n";
}

describe("golden: desired state of the small fixture", () => {
  it("equals test/golden/mapping/small-desired.json", () => {
    const actual = desiredJson();
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(GOLDEN)) {
      if (process.env.UPDATE_GOLDEN !== "1") throw new Error(`${GOLDEN} is missing; run with UPDATE_GOLDEN=1 to write it`);
      writeFileSync(GOLDEN, actual);
    }
    expect(actual).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("is byte-identical when computed twice", () => {
    expect(desiredJson()).toBe(desiredJson());
  });
});
