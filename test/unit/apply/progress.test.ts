import { afterEach, describe, expect, it, vi } from "vitest";
import { estimateEtaMs, formatProgressBar, formatProgressLine, streamProgress, type ProgressSnapshot } from "../../../src/apply/index.js";

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({ total: 30000, done: 1200, failed: 0, skipped: 0, inFlight: 8, elapsedMs: 65_000, ...over });

describe("progress formatting", () => {
  it("estimates the time left from the rate so far", () => {
    expect(estimateEtaMs(snap())).toBe(1_560_000);
    expect(estimateEtaMs(snap({ done: 0 }))).toBeUndefined();
  });

  it("formats a log line with counts, percentage, elapsed time and ETA", () => {
    expect(formatProgressLine(snap())).toBe("Applying: 1200/30000 (4%), 8 in flight, elapsed 1:05, ETA 26:00");
    expect(formatProgressLine(snap({ done: 0, inFlight: 0, failed: 2 }))).toBe("Applying: 0/30000 (0%), 2 failed, elapsed 1:05, ETA --:--");
  });

  it("fits a bar to the terminal width", () => {
    const bar = formatProgressBar(snap({ total: 10, done: 5, inFlight: 0, elapsedMs: 10_000 }), 60);
    expect(bar.length).toBeLessThanOrEqual(60);
    expect(bar).toMatch(/^\[=+>\s+\] 5\/10  ETA 0:10$/);
    expect(formatProgressBar(snap({ total: 10, done: 10, inFlight: 0 }), 40)).toMatch(/^\[=+\] 10\/10/);
  });
});

describe("streamProgress", () => {
  afterEach(() => vi.useRealTimers());

  it("without a terminal prints a line every few seconds, and a last one at the end", () => {
    vi.useFakeTimers();
    let out = "";
    let t = 0;
    const sink = streamProgress({ write: (s) => void (out += s), isTTY: false }, { intervalMs: 5_000, now: () => t });
    sink.update(snap({ done: 10, elapsedMs: 0 }));
    sink.update(snap({ done: 20, elapsedMs: 0 }));
    expect(out).toBe("");
    t = 5_000;
    vi.advanceTimersByTime(5_000);
    expect(out.trim().split("\n")).toEqual(["Applying: 20/30000 (0%), 8 in flight, elapsed 0:05, ETA 2:04:55"]);
    sink.note("Retrying orgunit/x in 1s");
    sink.finish(snap({ done: 30000, inFlight: 0, elapsedMs: 6_000 }));
    vi.advanceTimersByTime(20_000);
    expect(out.trim().split("\n")).toHaveLength(3);
  });

  it("on a terminal redraws one line", () => {
    let out = "";
    let t = 0;
    const sink = streamProgress({ write: (s) => void (out += s), isTTY: true, columns: 80 }, { now: () => t });
    sink.update(snap());
    sink.update(snap({ done: 1300 }));
    t = 1_000;
    sink.update(snap({ done: 1400 }));
    sink.finish(snap({ done: 30000, inFlight: 0 }));
    expect(out.split("\r\x1b[K").filter(Boolean)).toHaveLength(3);
    expect(out.endsWith("\n")).toBe(true);
    expect(out).not.toContain("1300/");
  });
});
