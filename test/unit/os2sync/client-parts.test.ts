import { describe, expect, it } from "vitest";
import { backoffDelay, isRetryableStatus, mapLimit, mergePositions, Semaphore } from "../../../src/targets/os2sync/index.js";

const U1 = "aaaaaaaa-0000-4000-8000-000000000001";
const U2 = "aaaaaaaa-0000-4000-8000-000000000002";

describe("Semaphore", () => {
  it("never runs more than its limit at once and runs everything", async () => {
    const s = new Semaphore(3);
    let inFlight = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.run(async () => {
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 2));
          inFlight--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("frees its slot when a task fails", async () => {
    const s = new Semaphore(1);
    await expect(s.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(s.run(async () => 7)).resolves.toBe(7);
  });

  it("refuses a limit below one", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe("mapLimit", () => {
  it("keeps input order", async () => {
    const out = await mapLimit([30, 10, 20], 2, async (ms, i) => {
      await new Promise((r) => setTimeout(r, ms));
      return i;
    });
    expect(out).toEqual([0, 1, 2]);
  });
});

describe("backoff", () => {
  it("grows exponentially up to the cap, with jitter below the ceiling", () => {
    expect(backoffDelay(0, 500, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 10_000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(3, 500, 10_000, () => 0.25)).toBe(1000);
    expect(backoffDelay(3, 500, 10_000, () => 0)).toBe(0);
  });

  it("retries busy and broken answers, not refusals", () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409].some(isRetryableStatus)).toBe(false);
  });
});

describe("mergePositions (hierarchy positions have no dates)", () => {
  it("takes dates from state for positions with the same unit and name", () => {
    const merged = mergePositions(
      [{ Uuid: U1.toUpperCase(), Name: "Leder " }, { Uuid: U2, Name: "Ny" }],
      [{ Name: "Leder", OrgUnitUuid: U1, StartDate: "2020-01-01", StopDate: "2030-01-01" }, { Name: "Gammel", OrgUnitUuid: U2, StartDate: "2010-01-01" }],
    );
    expect(merged).toEqual([
      { Name: "Leder", OrgUnitUuid: U1, StartDate: "2020-01-01", StopDate: "2030-01-01" },
      { Name: "Ny", OrgUnitUuid: U2 },
    ]);
  });

  it("matches repeated positions as a multiset", () => {
    const state = [
      { Name: "A", OrgUnitUuid: U1, StartDate: "2020-01-01" },
      { Name: "A", OrgUnitUuid: U1, StartDate: "2022-01-01" },
    ];
    expect(mergePositions([{ Uuid: U1, Name: "A" }], state)).toEqual([state[0]]);
    expect(mergePositions([{ Uuid: U1, Name: "A" }, { Uuid: U1, Name: "A" }, { Uuid: U1, Name: "A" }], state)).toEqual([
      { Name: "A", OrgUnitUuid: U1 },
      ...state,
    ]);
  });
});
