const ZONE = "Europe/Copenhagen";
const offsetFormat = new Intl.DateTimeFormat("en-US", { timeZone: ZONE, timeZoneName: "longOffset" });

/**
 * Start of `date` (yyyy-mm-dd) in Copenhagen as an OS2mo DateTime, e.g. `2025-03-01T00:00:00+01:00`.
 * OS2mo's validities are Danish calendar days, so windows are given in local time.
 */
export function startOfDay(date: string): string {
  // Midnight local is 22:00 or 23:00 UTC the previous day, and DST changes at 01:00 UTC, so 22:00 UTC of
  // the previous day always carries the offset local midnight has.
  const probe = new Date(`${date}T00:00:00Z`);
  probe.setUTCHours(probe.getUTCHours() - 2);
  const name = offsetFormat.formatToParts(probe).find((p) => p.type === "timeZoneName")?.value ?? "";
  const offset = /GMT([+-]\d{2}:\d{2})/.exec(name)?.[1] ?? "+00:00";
  return `${date}T00:00:00${offset}`;
}

/** The calendar date of an OS2mo DateTime (`2025-03-01T00:00:00+01:00` -> `2025-03-01`). */
export function dateOf(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  if (!m?.[1]) throw new Error(`not an ISO date: ${value}`);
  return m[1];
}
